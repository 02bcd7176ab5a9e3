"""OpenAPI: the brokerage-bound JWT is described as the Bearer scheme it is."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class BrokerJWTScheme(SimpleJWTScheme):
    target_class = "brokers.auth.BrokerJWTAuthentication"
    name = "brokerJWT"

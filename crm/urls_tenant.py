"""A brokerage's host: dashboard pages, the API and the WebSocket (see asgi.py)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from brokers import apis as broker_apis
from brokers import views as broker_views
from conversations import apis as conversation_apis
from crm import health

urlpatterns = [
    path("", broker_views.home, name="home"),
    path("login/", broker_views.login_view, name="login"),
    path("logout/", broker_views.logout_view, name="logout"),
    path("equipo/", broker_views.team, name="team"),
    path("equipo/<int:user_id>/", broker_views.team_member_update, name="team_member_update"),
    path("conversaciones/", include("conversations.page_urls")),
    path("leads/", include("leads.page_urls")),
    path("pipeline/", include("pipeline.page_urls")),
    path("conocimiento/", include("knowledge.page_urls")),
    path("agenda/", include("appointments.page_urls")),
    path("propiedades/", include("properties.page_urls")),
    path("calendario/", include("appointments.calendar_urls")),
    path("configuracion/", broker_views.broker_settings, name="settings_home"),
    path("configuracion/<str:section>/", broker_views.broker_settings, name="settings"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    # API
    path("auth/token/", broker_apis.TokenObtainApi.as_view(), name="token_obtain"),
    path("auth/token/refresh/", broker_apis.TokenRefreshApi.as_view(), name="token_refresh"),
    path("api/broker/me/", broker_apis.MeApi.as_view(), name="api_me"),
    path("api/broker/users/", broker_apis.UserListCreateApi.as_view(), name="api_users"),
    path("api/broker/users/<int:user_id>/", broker_apis.UserDetailApi.as_view(), name="api_user_detail"),
    path("api/broker/config/", broker_apis.BrokerConfigApi.as_view(), name="api_config"),
    path("api/v1/leads/", include("leads.urls")),
    path("api/v1/pipeline/", include("pipeline.urls")),
    path("api/v1/chat/", include("conversations.urls")),
    path("api/v1/appointments/", include("appointments.urls")),
    path("api/v1/kb/", include("knowledge.urls")),
    path("api/v1/properties/", include("properties.urls")),
    path("api/v1/webchat/messages/", conversation_apis.WebchatMessagesApi.as_view(), name="api_webchat"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
]

from django.conf import settings


def platform(request) -> dict:
    tenant = getattr(request, "tenant", None)
    return {
        "tenant": tenant if tenant is not None and not tenant.is_public else None,
        "BASE_DOMAIN": settings.BASE_DOMAIN,
    }

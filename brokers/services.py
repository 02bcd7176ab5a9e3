"""Writes on the platform: onboarding a brokerage, managing its people and its settings."""

from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from brokers.models import (
    Broker,
    BrokerChatConfig,
    BrokerLeadConfig,
    BrokerPromptConfig,
    BrokerVoiceConfig,
    Domain,
    User,
)
from brokers.schema import tenant_schema_create
from crm.errors import ApplicationError

RESERVED_SLUGS = {"www", "admin", "api", "app", "public", "static", "media", "mail", "webhooks", "platform"}


def broker_host(broker: Broker) -> str:
    return f"{broker.slug}.{settings.BASE_DOMAIN}"


def schema_name_for(slug: str) -> str:
    return "b_" + slug.replace("-", "_")


@transaction.atomic
def platform_ensure() -> Broker:
    """The public tenant (the platform itself) and its host, BASE_DOMAIN."""
    public, _ = Broker.objects.get_or_create(schema_name="public", defaults={"name": "Plataforma", "slug": "platform"})
    Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})
    return public


def broker_slug_check(*, slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise ApplicationError("Ese subdominio está reservado.", code="slug_reserved", details={"slug": [slug]})
    host = f"{slug}.{settings.BASE_DOMAIN}"
    if Broker.objects.filter(slug=slug).exists() or Domain.objects.filter(domain=host).exists():
        raise ApplicationError(
            "Ya existe una corredora con ese subdominio. Elige otro.", code="slug_taken", details={"slug": [slug]}
        )


@transaction.atomic
def broker_register(*, name: str, slug: str, admin_email: str, admin_name: str, password: str,
                    contact_phone: str = "", validate: bool = True) -> Broker:
    """BrokerInitService: a new brokerage with its schema, host, default settings and first ADMIN.

    Never joins an existing brokerage: a taken slug or e-mail is refused.
    """
    slug = slug.strip().lower()
    admin_email = admin_email.strip().lower()
    broker_slug_check(slug=slug)
    if User.objects.filter(email=admin_email).exists():
        raise ApplicationError("Ese correo ya tiene una cuenta.", code="email_taken", details={"email": [admin_email]})
    admin = User(email=admin_email, name=admin_name, role=User.Role.ADMIN)
    if validate:
        _validate_password(password, admin)

    broker = Broker(schema_name=schema_name_for(slug), name=name.strip(), slug=slug,
                    contact_email=admin_email, contact_phone=contact_phone)
    broker.full_clean(exclude=["schema_name"])
    tenant_schema_create(broker.schema_name)  # fast path; otherwise save() migrates the schema
    broker.save(verbosity=0)
    Domain.objects.create(domain=broker_host(broker), tenant=broker, is_primary=True)
    for config_model in (BrokerPromptConfig, BrokerLeadConfig, BrokerVoiceConfig, BrokerChatConfig):
        config_model.objects.create(broker=broker)
    admin.broker = broker
    admin.set_password(password)
    admin.save()
    return broker


@transaction.atomic
def broker_set_active(*, broker: Broker, is_active: bool) -> Broker:
    broker.is_active = is_active
    broker.save(update_fields=["is_active"])
    return broker


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError("La contraseña no cumple la política.", code="weak_password",
                               details={"password": list(exc.messages)}) from exc


@transaction.atomic
def user_create(*, broker: Broker, email: str, name: str, role: str, password: str) -> User:
    email = email.strip().lower()
    if role not in (User.Role.AGENT, User.Role.ADMIN):
        raise ApplicationError("Rol inválido.", code="invalid_role", details={"role": [role]})
    if User.objects.filter(email=email).exists():
        raise ApplicationError("Ese correo ya tiene una cuenta.", code="email_taken", details={"email": [email]})
    if User.objects.filter(broker=broker, is_active=True).count() >= broker.max_users:
        raise ApplicationError("Alcanzaste el máximo de usuarios de tu plan.", code="plan_limit")
    user = User(broker=broker, email=email, name=name.strip(), role=role)
    _validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, name: str | None = None, role: str | None = None,
                is_active: bool | None = None) -> User:
    """Change a colleague's name, role or access. An ADMIN cannot lock the brokerage out of itself."""
    if role is not None and role not in (User.Role.AGENT, User.Role.ADMIN):
        raise ApplicationError("Rol inválido.", code="invalid_role", details={"role": [role]})
    demotes = role == User.Role.AGENT or is_active is False
    if user.pk == actor.pk and demotes:
        raise ApplicationError("No puedes quitarte tu propio acceso de administrador.", code="self_lockout")
    if demotes and user.role == User.Role.ADMIN:
        other_admins = User.objects.filter(broker=user.broker, role=User.Role.ADMIN, is_active=True).exclude(pk=user.pk)
        if not other_admins.exists():
            raise ApplicationError("La corredora necesita al menos un administrador activo.", code="last_admin")
    changed = []
    for field, value in (("name", name), ("role", role), ("is_active", is_active)):
        if value is not None and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)
    return user


SECRET_CHAT_FIELDS = ("telegram_bot_token", "telegram_secret_token", "whatsapp_access_token",
                      "whatsapp_app_secret", "whatsapp_verify_token")


@transaction.atomic
def broker_config_update(*, broker: Broker, section: str, values: dict[str, Any]) -> Any:
    """Update one settings section ('prompt', 'lead', 'voice', 'chat').

    Secret fields keep their stored value when sent blank, so a form that never shows them
    back can be saved without wiping them.
    """
    model = CONFIG_MODELS[section]
    config = model.objects.select_for_update().get(broker=broker)
    for field, value in values.items():
        if field in SECRET_CHAT_FIELDS + ("api_key",) and not value:
            continue
        setattr(config, field, value)
    if section == "chat" and config.whatsapp_phone_number_id == "":
        config.whatsapp_phone_number_id = None
    try:
        config.full_clean(exclude=["broker"])
    except ValidationError as exc:
        raise ApplicationError("La configuración tiene errores.", code="validation_error",
                               details=exc.message_dict) from exc
    config.save()
    return config


CONFIG_MODELS = {
    "prompt": BrokerPromptConfig,
    "lead": BrokerLeadConfig,
    "voice": BrokerVoiceConfig,
    "chat": BrokerChatConfig,
}

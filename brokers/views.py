"""Server-rendered pages: public sign-up on the platform host; login, team and settings on a brokerage host."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from brokers import selectors, services, throttling
from brokers.auth import HostBoundBackend
from brokers.forms import CONFIG_FORMS, LoginForm, SignupForm, UserCreateForm
from brokers.models import User
from crm.errors import ApplicationError


def broker_url(request, broker, path: str = "/") -> str:
    port = request.get_port()
    port_part = "" if port in ("80", "443") else f":{port}"
    return f"{request.scheme}://{services.broker_host(broker)}{port_part}{path}"


def landing(request):
    return render(request, "brokers/landing.html")


def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            broker = services.broker_register(
                name=data["broker_name"], slug=data["slug"], admin_email=data["email"],
                admin_name=data["name"], password=data["password"], contact_phone=data["phone"],
            )
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            return HttpResponseRedirect(broker_url(request, broker, "/login/?registrada=1"))
    return render(request, "brokers/signup.html", {"form": form, "BASE_DOMAIN": settings.BASE_DOMAIN})


def broker_required(view):
    """Login required, on a brokerage host (the middleware already dropped foreign sessions)."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if request.tenant.is_public:
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def admin_required(view):
    @broker_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_broker_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def login_view(request):
    if request.tenant.is_public:
        return redirect("/admin/login/")
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, ip = form.cleaned_data["email"], throttling.client_ip(request)
        if not throttling.login_allowed(email=email, ip=ip):
            form.add_error(None, _("Demasiados intentos fallidos. Espera unos minutos e inténtalo de nuevo."))
        else:
            user = HostBoundBackend().authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is None:
                throttling.login_failed(email=email, ip=ip)
                form.add_error(None, _("Correo o contraseña incorrectos."))
            else:
                throttling.login_succeeded(email=email, ip=ip)
                login(request, user, backend="brokers.auth.HostBoundBackend")
                next_url = request.GET.get("next", "")
                return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "home")
    return render(request, "brokers/login.html", {"form": form, "registered": "registrada" in request.GET})


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


@broker_required
def home(request):
    from crm.dashboard import home_alerts, home_charts, home_numbers

    numbers = home_numbers(broker=request.tenant, user=request.user)
    return render(request, "brokers/home.html", {
        "numbers": numbers, "alerts": home_alerts(user=request.user),
        "charts": home_charts(user=request.user) if numbers["leads"] else None,
    })


@admin_required
def team(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(broker=request.tenant, **form.cleaned_data)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, _("Se creó la cuenta de %(name)s.") % {"name": user.name})
            return redirect("team")
    search = request.GET.get("q", "").strip()
    users = selectors.user_list(broker=request.tenant, search=search)
    page = Paginator(users, 25).get_page(request.GET.get("page"))
    return render(request, "brokers/team.html", {"form": form, "page": page, "search": search,
                                                 "roles": User.Role})


@require_POST
@admin_required
def team_member_update(request, user_id: int):
    user = selectors.user_get(broker=request.tenant, user_id=user_id)
    if user is None:
        raise Http404
    action = request.POST.get("action")
    changes = {
        "make_admin": {"role": User.Role.ADMIN},
        "make_agent": {"role": User.Role.AGENT},
        "deactivate": {"is_active": False},
        "activate": {"is_active": True},
    }.get(action)
    if changes is None:
        messages.error(request, _("Acción desconocida."))
        return redirect("team")
    try:
        services.user_update(actor=request.user, user=user, **changes)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Se actualizó a %(name)s.") % {"name": user.name})
    return redirect("team")


SETTINGS_TABS = [
    ("prompt", gettext_lazy("Asistente")),
    ("lead", gettext_lazy("Puntaje y calificación")),
    ("chat", gettext_lazy("Canales")),
    ("voice", gettext_lazy("Voz")),
]


@broker_required
def broker_settings(request, section: str = "prompt"):
    if section not in CONFIG_FORMS:
        raise Http404
    instance = services.CONFIG_MODELS[section].objects.get(broker=request.tenant)
    can_edit = request.user.is_broker_admin
    form = CONFIG_FORMS[section](request.POST or None, instance=instance)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.broker_config_update(broker=request.tenant, section=section, values=form.service_values())
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Configuración guardada."))
                return redirect("settings", section=section)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "brokers/settings.html", {
        "form": form, "section": section, "tabs": SETTINGS_TABS, "can_edit": can_edit,
    })

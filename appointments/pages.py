"""The agenda pages (`/agenda/...`) on a brokerage host: the calendar (week and day views, drag to
reschedule, book a free slot) and the small JSON endpoints its script calls."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import lcm
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from appointments import google, google_sync, selectors, services
from appointments.forms import WEEKDAYS, AvailabilityForm, BlockForm, BookingSettingsForm
from appointments.models import Appointment, AppointmentType, Availability, AvailabilityBlock
from brokers.models import User
from brokers.views import broker_required
from crm.errors import ApplicationError
from leads.selectors import lead_get, lead_list

DAY_START, DAY_END = 8, 21          # the hours the grid shows (local time)
ROW_MINUTES = 15                    # one grid row
SHOWN_STATUSES = ["scheduled", "confirmed", "completed", "no_show"]


@dataclass
class Block:
    """Something placed on a day column: an appointment or a free slot."""

    start: datetime
    end: datetime
    row_start: int
    row_end: int
    appointment: Appointment | None = None
    agent_name: str = ""
    types: list[tuple[str, str]] = field(default_factory=list)
    agent_ids: list[int] = field(default_factory=list)
    lane: int = 1  # the first grid column: appointments of different agents at the same time sit side by side
    span: int = 1


@dataclass
class DayColumn:
    day: date
    is_today: bool
    cells: list[tuple[datetime, int, int]]
    blocks: list[Block]
    lanes: int = 1


def _lanes(blocks: list[Block]) -> int:
    """Lay overlapping appointments side by side: each group of overlapping ones shares the day's width
    in lanes (first free lane, by start). Returns the day's grid columns (a common multiple of every
    group's lane count, so each block spans whole columns); `lane`/`span` go on the blocks."""
    appointments = sorted((b for b in blocks if b.appointment), key=lambda b: (b.start, b.end))
    groups: list[list[Block]] = []
    group_end = None
    for block in appointments:
        if group_end is None or block.start >= group_end:
            groups.append([])
            group_end = block.end
        groups[-1].append(block)
        group_end = max(group_end, block.end)
    sizes = []
    for group in groups:
        ends: list[datetime] = []
        for block in group:
            lane = next((i for i, end in enumerate(ends) if end <= block.start), len(ends))
            if lane == len(ends):
                ends.append(block.end)
            ends[lane] = block.end
            block.lane = lane
        sizes.append((group, len(ends)))
    columns = min(lcm(*(size for _, size in sizes)) if sizes else 1, 12)
    for group, size in sizes:
        width = max(columns // size, 1)
        for block in group:
            block.lane, block.span = block.lane * width + 1, width
    return columns


def _rows(start: datetime, end: datetime, tz: ZoneInfo, day: date) -> tuple[int, int] | None:
    """Grid rows (1-based, end exclusive) of [start, end) on `day`, clipped to the shown hours."""
    first = datetime.combine(day, time(DAY_START), tzinfo=tz)
    last = datetime.combine(day, time(DAY_END), tzinfo=tz)
    start, end = max(start.astimezone(tz), first), min(end.astimezone(tz), last)
    if end <= start:
        return None
    top = int((start - first).total_seconds() // 60) // ROW_MINUTES
    bottom = -(-int((end - first).total_seconds() // 60) // ROW_MINUTES)
    return top + 1, max(bottom, top + 1) + 1


def _agent_filter(request) -> tuple[int | None, list[User]]:
    """Whose agenda: an AGENT always their own; an ADMIN anyone's (`?ejecutivo=`) or everybody's."""
    user = request.user
    if not user.is_broker_admin:
        return user.id, []
    team = list(User.objects.filter(broker_id=user.broker_id, is_active=True).order_by("name"))
    chosen = request.GET.get("ejecutivo", "")
    agent_id = int(chosen) if chosen.isdigit() and any(person.id == int(chosen) for person in team) else None
    return agent_id, team


def _snap_minutes(slot_lengths: list[int]) -> int:
    """Where a dragged appointment may land: every slot length the brokerage uses, at worst 15 min."""
    shortest = min(slot_lengths, default=30)
    return max(ROW_MINUTES, shortest - shortest % ROW_MINUTES)


def agenda_context(request) -> dict:
    booking = selectors.booking_settings_get()
    tz = ZoneInfo(booking.time_zone)
    now = timezone.now()
    today = now.astimezone(tz).date()
    anchor = parse_date(request.GET.get("fecha", "")) or today
    day_view = request.GET.get("vista") == "dia"
    first = anchor if day_view else anchor - timedelta(days=anchor.weekday())
    days = [first] if day_view else [first + timedelta(days=i) for i in range(7)]
    step = timedelta(days=1 if day_view else 7)
    agent_id, team = _agent_filter(request)

    window_start = datetime.combine(days[0], time.min, tzinfo=tz)
    window_end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz)
    filters = {"status": SHOWN_STATUSES, "start_from": window_start, "start_to": window_end}
    appointments = selectors.appointment_list(user=request.user, filters=filters)
    if agent_id is not None:
        appointments = appointments.filter(agent_id=agent_id)
    appointments = list(appointments)
    names = {person.id: person.name for person in team} if team else (
        {request.user.id: request.user.name} if not request.user.is_broker_admin else {})
    missing = {a.agent_id for a in appointments} - names.keys()
    if missing:
        names.update(selectors.agent_names(missing))

    slot_lengths = list(Availability.objects.values_list("slot_minutes", flat=True).distinct())
    free: dict[tuple[datetime, datetime], Block] = {}
    earliest = now + timedelta(minutes=booking.min_notice_minutes)
    for value, label in AppointmentType.choices:
        for slot in selectors.slots_between(first_day=days[0], last_day=days[-1], appointment_type=value,
                                            booking=booking, earliest=earliest, agent_id=agent_id):
            block = free.setdefault((slot.start, slot.end), Block(start=slot.start, end=slot.end, row_start=0,
                                                                  row_end=0))
            block.types.append((value, label))
            block.agent_ids = sorted(set(block.agent_ids) | set(slot.agent_ids))

    columns = []
    for day in days:
        cells, cursor = [], datetime.combine(day, time(DAY_START), tzinfo=tz)
        end_of_day = datetime.combine(day, time(DAY_END), tzinfo=tz)
        snap = _snap_minutes(slot_lengths)
        while cursor < end_of_day:
            rows = _rows(cursor, cursor + timedelta(minutes=snap), tz, day)
            cells.append((cursor, *rows))
            cursor += timedelta(minutes=snap)
        blocks = []
        for block in free.values():
            if block.start.astimezone(tz).date() == day and (rows := _rows(block.start, block.end, tz, day)):
                block.row_start, block.row_end = rows
                blocks.append(block)
        for appointment in appointments:
            if appointment.start_at.astimezone(tz).date() == day and (
                    rows := _rows(appointment.start_at, appointment.end_at, tz, day)):
                blocks.append(Block(start=appointment.start_at, end=appointment.end_at, row_start=rows[0],
                                    row_end=rows[1], appointment=appointment,
                                    agent_name=names.get(appointment.agent_id, "")))
        columns.append(DayColumn(day=day, is_today=day == today, cells=cells, blocks=blocks, lanes=_lanes(blocks)))

    hours = [(f"{hour:02d}:00", (hour - DAY_START) * 60 // ROW_MINUTES + 1) for hour in range(DAY_START, DAY_END)]
    return {
        "columns": columns, "hours": hours, "rows": (DAY_END - DAY_START) * 60 // ROW_MINUTES,
        "day_view": day_view, "anchor": anchor, "today": today, "first": days[0], "last": days[-1],
        "prev": anchor - step, "next": anchor + step, "team": team, "agent_id": agent_id,
        "types": AppointmentType.choices, "booking": booking, "now": now,
    }


@broker_required
@require_GET
def agenda(request):
    context = agenda_context(request)
    template = "appointments/_board.html" if request.GET.get("parcial") else "appointments/agenda.html"
    with timezone.override(ZoneInfo(context["booking"].time_zone)):
        return render(request, template, context)


def _appointment_or_404(request, appointment_id: int) -> Appointment:
    appointment = selectors.appointment_get(user=request.user, appointment_id=appointment_id)
    if appointment is None or (not request.user.is_broker_admin and appointment.agent_id != request.user.id):
        raise Http404
    return appointment


def _payload(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}


def _error(error: ApplicationError) -> JsonResponse:
    return JsonResponse({"error": error.message, "code": error.code}, status=error.status_code)


def _parse_start(value) -> datetime:
    """An ISO instant; without an offset (a `datetime-local` field) it is the brokerage's wall-clock time."""
    start = parse_datetime(value) if isinstance(value, str) else None
    if start is None:
        raise ApplicationError(_("Indica una fecha y hora válidas."), code="invalid_start")
    if timezone.is_naive(start):
        start = start.replace(tzinfo=ZoneInfo(selectors.booking_settings_get().time_zone))
    return start


@broker_required
@require_POST
def appointment_action(request, appointment_id: int, action: str):
    """confirmar, realizada, no-asistio, cancelar (with `reason`), mover (with `start`)."""
    appointment = _appointment_or_404(request, appointment_id)
    data = _payload(request)
    try:
        if action == "confirmar":
            services.appointment_confirm(appointment=appointment, actor=request.user)
        elif action == "realizada":
            services.appointment_complete(appointment=appointment, actor=request.user)
        elif action == "no-asistio":
            services.appointment_no_show(appointment=appointment, actor=request.user)
        elif action == "cancelar":
            services.appointment_cancel(appointment=appointment, reason=str(data.get("reason", "")),
                                        actor=request.user)
        elif action == "mover":
            services.appointment_reschedule(appointment=appointment, start=_parse_start(data.get("start")),
                                            actor=request.user)
        else:
            raise Http404
    except ApplicationError as error:
        return _error(error)
    return JsonResponse({"id": appointment.id, "status": appointment.status,
                         "start_at": appointment.start_at.isoformat()})


@broker_required
@require_POST
def appointment_book(request):
    """Book a free slot from the calendar: lead, start, type, and (ADMIN only) the agent."""
    data = _payload(request)
    lead = lead_get(user=request.user, lead_id=data["lead_id"]) if str(data.get("lead_id", "")).isdigit() else None
    if lead is None:
        return JsonResponse({"error": _("Elige un lead de la lista."), "code": "lead_required"}, status=400)
    agent_id = data.get("agent_id")
    if not request.user.is_broker_admin:
        agent_id = request.user.id
    elif agent_id not in (None, ""):
        if not str(agent_id).isdigit() or not User.objects.filter(
                pk=int(agent_id), broker_id=request.user.broker_id, is_active=True).exists():
            return JsonResponse({"error": _("Ese ejecutivo no existe."), "code": "invalid_agent"}, status=400)
        agent_id = int(agent_id)
    else:
        agent_id = None
    try:
        appointment = services.appointment_book(lead=lead, start=_parse_start(data.get("start")),
                                                appointment_type=str(data.get("appointment_type", "")),
                                                actor=request.user, agent_id=agent_id,
                                                notes=str(data.get("notes", ""))[:2000])
    except ApplicationError as error:
        return _error(error)
    return JsonResponse({"id": appointment.id, "start_at": appointment.start_at.isoformat()}, status=201)


@broker_required
@require_GET
def lead_search(request):
    """Up to 10 leads this person may see whose name matches `q` (the booking form's picker)."""
    text = request.GET.get("q", "").strip()
    if len(text) < 2:
        return JsonResponse({"results": []})
    leads = lead_list(user=request.user, filters={"search": text})[:10]
    return JsonResponse({"results": [{"id": lead.id, "name": lead.name,
                                      "url": reverse("lead_detail", args=[lead.id])} for lead in leads]})


# --- availability settings ------------------------------------------------------------------------


def _windows_of(user: User):
    """The windows and blocks this person may edit: an ADMIN every one, an AGENT their own."""
    windows = Availability.objects.order_by("agent_id", "weekday", "start_time", "id")
    blocks = AvailabilityBlock.objects.order_by("-start_at", "id")
    if not user.is_broker_admin:
        windows, blocks = windows.filter(agent_id=user.id), blocks.filter(agent_id=user.id)
    return windows, blocks


@broker_required
def availability(request):
    user = request.user
    team = (User.objects.filter(broker_id=user.broker_id, is_active=True).order_by("name")
            if user.is_broker_admin else None)
    booking = selectors.booking_settings_get()
    kind = request.POST.get("form") if request.method == "POST" else None
    window_form = AvailabilityForm(request.POST if kind == "ventana" else None, team=team, prefix="ventana")
    block_form = BlockForm(request.POST if kind == "bloqueo" else None, team=team, prefix="bloqueo")
    booking_form = (BookingSettingsForm(request.POST if kind == "config" else None, instance=booking, prefix="config")
                    if user.is_broker_admin else None)
    tz = ZoneInfo(booking.time_zone)
    with timezone.override(tz):  # the block's wall-clock times are the brokerage's
        chosen = {"ventana": window_form, "bloqueo": block_form, "config": booking_form}.get(kind)
        if chosen is not None and chosen.is_valid():
            data = dict(chosen.cleaned_data)
            if team is None and kind != "config":
                data["agent"] = user
            try:
                if kind == "ventana":
                    services.availability_create(data=data)
                    messages.success(request, _("Horario agregado."))
                elif kind == "bloqueo":
                    services.block_create(data=data)
                    messages.success(request, _("Bloqueo agregado."))
                else:
                    services.booking_settings_update(booking=booking, data=data)
                    messages.success(request, _("Configuración de agenda guardada."))
            except ValidationError as error:
                for message in error.messages:
                    chosen.add_error(None, message)
            else:
                return redirect("agenda_availability")
        windows, blocks = _windows_of(user)
        windows, blocks = list(windows), list(blocks)
        names = {person.id: person.name for person in team} if team is not None else {user.id: user.name}
        response = render(request, "appointments/availability.html", {
            "window_form": window_form, "block_form": block_form, "booking_form": booking_form,
            "windows": [(w, names.get(w.agent_id, ""), dict(WEEKDAYS)[w.weekday]) for w in windows],
            "blocks": [(b, names.get(b.agent_id, "")) for b in blocks],
            "booking": booking, "google_configured": google.configured(),
            "google_link": selectors.google_link_get(agent=user),
        }, status=400 if chosen is not None else 200)
    return response


@broker_required
@require_POST
def availability_delete(request, kind: str, item_id: int):
    windows, blocks = _windows_of(request.user)
    item = (windows if kind == "ventanas" else blocks).filter(pk=item_id).first()
    if item is None or kind not in ("ventanas", "bloqueos"):
        raise Http404
    if kind == "ventanas":
        services.availability_delete(availability=item)
        messages.success(request, _("Horario eliminado."))
    else:
        services.block_delete(block=item)
        messages.success(request, _("Bloqueo eliminado."))
    return redirect("agenda_availability")


# --- Google Calendar ------------------------------------------------------------------------------


def _google_redirect_uri(request) -> str:
    return request.build_absolute_uri(reverse("agenda_google_callback"))


@broker_required
@require_GET
def google_connect(request):
    """To Google's consent page; the signed `state` brings this person back to this brokerage."""
    if not google.configured():
        raise Http404
    state = google_sync.google_state_make(user=request.user)
    return redirect(google.authorization_url(state=state, redirect_uri=_google_redirect_uri(request)))


def _google_failed(request, message: str, status: int = 400):
    return render(request, "appointments/google_failed.html", {"message": message}, status=status)


@broker_required
@require_GET
def google_callback(request):
    """Google's redirect back: check the state, exchange the code, keep the tokens."""
    if not google.configured():
        raise Http404
    try:
        google_sync.google_state_check(state=request.GET.get("state", ""), user=request.user)
    except ApplicationError as error:
        return _google_failed(request, error.message)
    if request.GET.get("error") or not request.GET.get("code"):  # the person said no on Google's page
        messages.info(request, _("No se conectó Google Calendar."))
        return redirect("agenda_availability")
    try:
        google_sync.google_link_connect(agent=request.user, code=request.GET["code"],
                                        redirect_uri=_google_redirect_uri(request))
    except ApplicationError as error:
        return _google_failed(request, error.message, error.status_code)
    messages.success(request, _("Google Calendar conectado: tus citas aparecerán en él y lo que tengas ocupado "
                                "allí no se ofrecerá."))
    return redirect("agenda_availability")


@broker_required
@require_POST
def google_disconnect(request):
    google_sync.google_link_disconnect(agent=request.user)
    messages.success(request, _("Google Calendar desconectado."))
    return redirect("agenda_availability")

"""What the lead reads about a visit, in Chilean Spanish: "martes 01-12-2026 a las 10:00"."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from appointments.models import Appointment, AppointmentType, BookingSettings

WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
NOUNS = {
    AppointmentType.PROPERTY_VISIT: "visita",
    AppointmentType.VIRTUAL_MEETING: "reunión virtual",
    AppointmentType.PHONE_CALL: "llamada",
    AppointmentType.OFFICE_MEETING: "reunión en nuestra oficina",
}


def when(start: datetime, tz: ZoneInfo) -> str:
    local = start.astimezone(tz)
    return f"{WEEKDAYS[local.weekday()]} {local:%d-%m-%Y} a las {local:%H:%M}"


def slot_list(starts: list[datetime], tz: ZoneInfo) -> str:
    return ", ".join(f"{number}) {when(start, tz)}" for number, start in enumerate(starts, start=1))


def offer(starts: list[datetime], *, appointment_type: str, tz: ZoneInfo) -> str:
    noun = NOUNS.get(appointment_type, "visita")
    if not starts:
        return (f"Por ahora no tengo horarios libres para una {noun} en los próximos días; "
                "un ejecutivo te contactará para coordinarla.")
    return (f"Tengo estos horarios para una {noun} con uno de nuestros ejecutivos: {slot_list(starts, tz)}. "
            "¿Cuál te acomoda?")


def place(appointment: Appointment) -> str:
    """Where, only from what was configured or typed by a person."""
    if appointment.location:
        return f"Dirección: {appointment.location}."
    if appointment.meeting_url:
        return f"Enlace de la reunión: {appointment.meeting_url}"
    if appointment.appointment_type == AppointmentType.PHONE_CALL:
        return "Te llamaremos a tu teléfono."
    if appointment.appointment_type == AppointmentType.VIRTUAL_MEETING:
        return "Tu ejecutivo te enviará el enlace de la reunión."
    if appointment.appointment_type == AppointmentType.PROPERTY_VISIT:
        return "Tu ejecutivo te confirmará la dirección de la propiedad."
    return "Tu ejecutivo te confirmará la dirección."


def confirmation(appointment: Appointment, *, agent_name: str, booking: BookingSettings) -> str:
    tz = ZoneInfo(booking.time_zone)
    noun = NOUNS.get(appointment.appointment_type, "visita")
    parts = [f"¡Listo! Quedó agendada tu {noun} para el {when(appointment.start_at, tz)} con {agent_name}.",
             place(appointment)]
    if booking.what_to_bring:
        parts.append(f"Recuerda traer {booking.what_to_bring}.")
    return " ".join(parts)


def reminder(appointment: Appointment, *, booking: BookingSettings, now: datetime) -> str:
    tz = ZoneInfo(booking.time_zone)
    noun = NOUNS.get(appointment.appointment_type, "visita")
    local, today = appointment.start_at.astimezone(tz), now.astimezone(tz).date()
    day = {today: "hoy", today + timedelta(days=1): "mañana"}.get(local.date(), WEEKDAYS[local.weekday()])
    name = appointment.lead.name.split()[0] if appointment.lead.name else ""
    greeting = f"Hola {name}, te" if name else "Te"
    return (f"{greeting} recordamos tu {noun} {day} {local:%d-%m-%Y} a las {local:%H:%M}. {place(appointment)} "
            "Responde «confirmo» para confirmarla, o escríbenos si necesitas cambiar el horario.")

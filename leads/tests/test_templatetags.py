from leads.models import LeadActivity
from leads.templatetags.lead_tags import activity_text, score_parts


def entry(kind: str, assignee: str | None = None, **payload) -> LeadActivity:
    activity = LeadActivity(kind=kind, payload=payload)
    activity.assignee = assignee
    return activity


def test_score_parts_are_shown_to_scale_penalties_included():
    parts = {part["key"]: part for part in score_parts({"base": 20, "financial": 30, "stage": 0, "penalties": -10})}
    assert [parts[key]["percent"] for key in ("base", "financial", "engagement", "stage", "penalties")] == [
        50, 100, 0, 0, 20]
    assert (parts["penalties"]["value"], parts["penalties"]["limit"]) == (-10, -50)
    assert str(parts["financial"]["label"]) == "Situación financiera"


def test_timeline_entries_in_words():
    assert activity_text(entry("fields_changed", fields=["monthly_income", "name"])) == (
        "Datos actualizados: renta mensual (CLP), nombre")
    assert activity_text(entry("score_changed", **{"from": 10, "to": 35, "reason": "fields_changed"})) == (
        "Puntaje 10 → 35 por cambio de datos")
    assert activity_text(entry("stage_changed", **{"from": "potencial", "to": "perdido", "automatic": True,
                                                   "reason": "No califica financieramente",
                                                   "close_reason": "No califica financieramente"})) == (
        "Potencial → Perdido · No califica financieramente · automático")
    assert activity_text(entry("assigned", assignee="Ana", to=3, mode="round_robin")) == "Asignado a Ana · por turno"
    assert activity_text(entry("created", channel="telegram")) == "Lead creado · Telegram"
    assert activity_text(entry("deleted")) == "Eliminado"


def test_notes_merges_and_priority_assignments_in_words():
    assert activity_text(entry("note", text="Llamar el lunes")) == "Llamar el lunes"
    assert activity_text(entry("merged", into=7)) == "Fusionado en el lead #7"
    assert activity_text(entry("merged", duplicate=8, fields=[])) == "Se fusionó el lead #8 en este"
    assert activity_text(entry("assigned", assignee="Ana", to=3, mode="priority")) == "Asignado a Ana · por prioridad"

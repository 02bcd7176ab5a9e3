"""PipelineService: calificacion, automatic advancement from the lead's data, and manual moves.

Every move leaves a StageTransition (for funnel metrics) and a timeline entry, rescoring follows
(the stage is part of the score), and the dashboards hear `stage_changed` once it commits.
"""

from django.db import transaction
from django.utils import timezone

from brokers.models import BrokerLeadConfig, User
from crm.errors import ApplicationError
from crm.realtime.broadcast import broadcast
from leads.models import Lead, LeadActivity
from leads.scoring import lead_rescore
from pipeline.models import CLOSED_STAGES, Calificacion, Stage, StageTransition

NOT_QUALIFIED_REASON = "No califica financieramente"


def calificacion_compute(*, lead: Lead, config: BrokerLeadConfig) -> str:
    """DESIGN §4 with this brokerage's thresholds; pending ("") until income and DICOM are both known."""
    income, dicom = lead.monthly_income, lead.dicom_status
    if income is None or not dicom:
        return Calificacion.PENDIENTE
    clean = dicom == Lead.Dicom.CLEAN
    if clean and income >= config.income_qualified_min and (lead.debt_amount or 0) <= config.max_debt_clp:
        return Calificacion.CALIFICADO
    if clean and income >= config.income_potential_min:
        return Calificacion.POTENCIAL
    return Calificacion.NO_CALIFICADO


def _profile_complete(lead: Lead) -> bool:
    return bool(lead.location and lead.property_type and lead.budget_amount is not None)


def automatic_next_stage(lead: Lead) -> tuple[Stage, str] | None:
    """The stage the lead's data earns from where it stands, with the reason; None to stay."""
    stage = lead.pipeline_stage
    if stage == Stage.ENTRADA and lead.name and (lead.phone or lead.email):
        return Stage.PERFILAMIENTO, "Nombre y contacto"
    if stage == Stage.PERFILAMIENTO and _profile_complete(lead):
        return Stage.CALIFICACION_FINANCIERA, "Perfil completo"
    if stage == Stage.CALIFICACION_FINANCIERA:
        if lead.calificacion in (Calificacion.CALIFICADO, Calificacion.POTENCIAL):
            return Stage.POTENCIAL, f"Calificación: {lead.calificacion}"
        if lead.calificacion == Calificacion.NO_CALIFICADO:
            return Stage.PERDIDO, NOT_QUALIFIED_REASON
    return None


def _stage_change(*, lead: Lead, stage: str, actor: User | None, reason: str, automatic: bool,
                  close_reason: str = "") -> None:
    """Record one move and put it on the lead (the caller saves the lead)."""
    now = timezone.now()
    previous = lead.pipeline_stage
    StageTransition.objects.create(
        lead=lead, from_stage=previous, to_stage=stage, automatic=automatic, reason=reason, actor=actor,
        seconds_in_stage=max(0, int((now - lead.stage_entered_at).total_seconds())),
    )
    LeadActivity.objects.create(
        lead=lead, kind=LeadActivity.Kind.STAGE_CHANGED, actor=actor,
        payload={"from": previous, "to": stage, "reason": reason, "automatic": automatic,
                 "close_reason": close_reason},
    )
    lead.pipeline_stage, lead.stage_entered_at = stage, now
    lead.close_reason = close_reason if stage in CLOSED_STAGES else ""
    broadcast("stage_changed", {"lead_id": lead.id, "from_stage": previous, "to_stage": stage,
                                "assigned_to": lead.assigned_to_id, "automatic": automatic})


@transaction.atomic
def lead_advance_pipeline(*, lead: Lead, config: BrokerLeadConfig) -> list[str]:
    """Update calificacion and walk the lead forward as far as its data allows; the stages entered.

    Only the data-driven stages move on their own (entrada → perfilamiento → calificacion_financiera
    → potencial | perdido); agendado comes from a booked visit, ganado from a person.
    """
    calificacion = calificacion_compute(lead=lead, config=config)
    if calificacion == lead.calificacion and automatic_next_stage(lead) is None:
        return []
    lead.calificacion = calificacion
    entered = []
    while (step := automatic_next_stage(lead)) is not None:
        stage, reason = step
        _stage_change(lead=lead, stage=stage, actor=None, reason=reason, automatic=True,
                      close_reason=reason if stage == Stage.PERDIDO else "")
        entered.append(stage)
    lead.save(update_fields=["calificacion", "pipeline_stage", "stage_entered_at", "close_reason", "updated_at"])
    return entered


@transaction.atomic
def lead_move_stage(*, lead: Lead, stage: str, actor: User, config: BrokerLeadConfig, reason: str = "",
                    close_reason: str = "") -> Lead:
    """A person moves the lead, in any direction (backwards and reopening a closed lead included)."""
    if stage == lead.pipeline_stage:
        return lead
    if stage in CLOSED_STAGES and not close_reason.strip():
        raise ApplicationError("Para cerrar un lead indica el motivo de cierre.", code="close_reason_required",
                               details={"close_reason": ["Obligatorio al mover a ganado o perdido."]})
    _stage_change(lead=lead, stage=stage, actor=actor, reason=reason, automatic=False,
                  close_reason=close_reason.strip())
    lead.save(update_fields=["pipeline_stage", "stage_entered_at", "close_reason", "updated_at"])
    lead_rescore(lead=lead, config=config, reason="stage_changed", actor_id=actor.id)
    return lead


@transaction.atomic
def lead_visit_booked(*, lead: Lead, config: BrokerLeadConfig) -> Lead:
    """A booked visit moves an open lead that had not got that far to `agendado` (appointments call this)."""
    order = list(Stage)
    if lead.pipeline_stage in CLOSED_STAGES or order.index(lead.pipeline_stage) >= order.index(Stage.AGENDADO):
        return lead
    _stage_change(lead=lead, stage=Stage.AGENDADO, actor=None, reason="Visita agendada", automatic=True)
    lead.save(update_fields=["pipeline_stage", "stage_entered_at", "close_reason", "updated_at"])
    lead_rescore(lead=lead, config=config, reason="stage_changed")
    return lead

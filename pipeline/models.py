"""The sales pipeline: its stages, the financial verdict (`calificacion`) and the record of every move."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """Pipeline stages in funnel order (DESIGN §4)."""

    ENTRADA = "entrada", _("Entrada")
    PERFILAMIENTO = "perfilamiento", _("Perfilamiento")
    CALIFICACION_FINANCIERA = "calificacion_financiera", _("Calificación financiera")
    POTENCIAL = "potencial", _("Potencial")
    AGENDADO = "agendado", _("Agendado")
    GANADO = "ganado", _("Ganado")
    PERDIDO = "perdido", _("Perdido")


CLOSED_STAGES = frozenset({Stage.GANADO, Stage.PERDIDO})
# The stages a lead walks through on its way to a sale; `perdido` is an exit from any of them.
FUNNEL_ORDER = [Stage.ENTRADA, Stage.PERFILAMIENTO, Stage.CALIFICACION_FINANCIERA, Stage.POTENCIAL,
                Stage.AGENDADO, Stage.GANADO]


class Calificacion(models.TextChoices):
    PENDIENTE = "", _("Pendiente")
    CALIFICADO = "calificado", _("Calificado")
    POTENCIAL = "potencial", _("Potencial")
    NO_CALIFICADO = "no_calificado", _("No calificado")


class StageTransition(models.Model):
    """One move of a lead between stages, with how long it had stayed in the stage it left.

    The lead's timeline records the same move for people; this table is what funnel metrics read.
    """

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="stage_transitions")
    from_stage = models.CharField(max_length=32, choices=Stage.choices)
    to_stage = models.CharField(max_length=32, choices=Stage.choices)
    seconds_in_stage = models.PositiveIntegerField()
    automatic = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)
    # Users live in the public schema: no cross-schema foreign-key constraint.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("cambio de etapa")
        verbose_name_plural = _("cambios de etapa")
        indexes = [models.Index(fields=["to_stage", "lead"], name="transition_to_stage_lead")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(from_stage=models.F("to_stage")), name="transition_moves"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage} → {self.to_stage}"

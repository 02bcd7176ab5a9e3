"""Conversations with leads, their messages in and out, and what finally failed (dead letters)."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    TELEGRAM = "telegram", "Telegram"
    WEBCHAT = "webchat", _("Chat web")


class Conversation(TimeStampedModel):
    """One lead on one channel. `human_mode` means an agent has taken over: the assistant is silent."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="conversations")
    channel = models.CharField(_("canal"), max_length=16, choices=Channel.choices)
    channel_user_id = models.CharField(_("id en el canal"), max_length=128)
    human_mode = models.BooleanField(_("atendida por una persona"), default=False)
    taken_over_by = models.ForeignKey("brokers.User", null=True, blank=True, on_delete=models.DO_NOTHING,
                                      db_constraint=False, related_name="+")
    handback_note = models.TextField(_("nota para el asistente"), blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversación")
        verbose_name_plural = _("conversaciones")
        constraints = [
            models.UniqueConstraint(fields=["channel", "channel_user_id"], name="conversation_unique_channel_user"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.channel_user_id}"


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("Entrante")
        OUT = "out", _("Saliente")

    class Sender(models.TextChoices):
        LEAD = "lead", _("Lead")
        ASSISTANT = "assistant", _("Asistente")
        AGENT = "agent", _("Agente")
        SYSTEM = "system", _("Sistema")

    class Status(models.TextChoices):
        # inbound
        RECEIVED = "received", _("Recibido")
        PROCESSED = "processed", _("Procesado")
        SKIPPED = "skipped", _("Sin respuesta automática")
        DEAD = "dead", _("Falló")
        # outbound
        QUEUED = "queued", _("En cola")
        OUTBOX = "outbox", _("En bandeja de salida")
        NEEDS_TEMPLATE = "needs_template", _("Requiere plantilla")
        SENT = "sent", _("Enviado")
        DELIVERED = "delivered", _("Entregado")
        READ = "read", _("Leído")
        FAILED = "failed", _("Error de envío")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    sender = models.CharField(max_length=10, choices=Sender.choices)
    sender_user = models.ForeignKey("brokers.User", null=True, blank=True, on_delete=models.DO_NOTHING,
                                    db_constraint=False, related_name="+")
    text = models.TextField(blank=True)
    kind = models.CharField(max_length=20, default="text")  # text, interactive, location, audio, image, ...
    attachment = models.JSONField(default=dict, blank=True)
    # The provider's id (Telegram update_id, WhatsApp wamid, web chat client id); "" until an outbound is sent.
    external_id = models.CharField(max_length=128, blank=True)
    reply_to = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reply")
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A redelivered webhook finds its message already stored: processed once.
            models.UniqueConstraint(fields=["channel", "direction", "external_id"], condition=~Q(external_id=""),
                                    name="message_unique_channel_external_id"),
        ]
        indexes = [
            models.Index(fields=["conversation", "-created_at"], name="message_conversation_recent"),
            models.Index(fields=["status", "created_at"], condition=Q(status__in=["received", "queued"]),
                         name="message_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.sender}: {self.text[:40]}"


class InboundEvent(models.Model):
    """One webhook delivery exactly as the channel sent it, stored before the webhook answers 200.

    Storing it is the whole acknowledgement (one INSERT); the worker turns it into messages and
    receipts (`conversations.intake.event_process`). A redelivery hits the unique constraint and is
    a no-op: Telegram's `update_id`, WhatsApp's body digest.
    """

    channel = models.CharField(_("canal"), max_length=16, choices=Channel.choices)
    external_id = models.CharField(_("id de la entrega"), max_length=128)
    payload = models.JSONField()
    received_at = models.DateTimeField(_("recibido"), db_default=Now())
    processed_at = models.DateTimeField(_("procesado"), null=True, blank=True)

    class Meta:
        verbose_name = _("entrega de webhook")
        verbose_name_plural = _("entregas de webhook")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="inboundevent_unique_delivery"),
        ]
        indexes = [
            models.Index(fields=["received_at"], condition=Q(processed_at__isnull=True), name="inboundevent_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.external_id}"


class DeadLetter(models.Model):
    """Work that failed for good after its retries: a lead's message, a reply, or a whole webhook
    delivery. Listed for the brokerage's ADMIN, who may try it again or dismiss it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="dead_letters", null=True, blank=True)
    event = models.ForeignKey(InboundEvent, on_delete=models.CASCADE, related_name="dead_letters", null=True,
                              blank=True, verbose_name=_("entrega de webhook"))
    task = models.CharField(max_length=80)
    error = models.TextField()
    attempts = models.PositiveSmallIntegerField()
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("mensaje fallido")
        verbose_name_plural = _("mensajes fallidos")
        constraints = [
            models.CheckConstraint(condition=Q(message__isnull=True) ^ Q(event__isnull=True),
                                   name="deadletter_message_or_event"),
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.message_id or self.event_id}"

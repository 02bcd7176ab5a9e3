"""What every channel adapter speaks: inbound messages parsed from a provider's payload, and sends."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InboundMessage:
    """One message from a lead, as the provider described it."""

    external_id: str
    channel_user_id: str
    text: str = ""
    kind: str = "text"
    attachment: dict = field(default_factory=dict)
    display_name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt for one of our outbound messages (WhatsApp)."""

    external_id: str
    status: str
    error: str = ""


class ChannelSendError(Exception):
    """Sending failed. `retryable` is False when trying again cannot help (bad token, blocked bot)."""

    def __init__(self, message: str, *, retryable: bool = True, needs_template: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.needs_template = needs_template


class ChannelNotConfigured(Exception):
    """The brokerage has no credentials for this channel: the reply goes to the outbox."""

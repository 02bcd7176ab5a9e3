"""The live inbox: conversation list, chat with the lead's data beside it, takeover, the outbox and
(for an ADMIN) what failed for good."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from brokers.views import admin_required, broker_required
from conversations import selectors, services
from conversations.forms import HandBackForm, ReplyForm
from conversations.models import Channel, Conversation, Message
from crm.errors import ApplicationError

PAGE_SIZE = 20


def _filters(request) -> dict:
    """The list's filters from the query string, in conversation_list's terms."""
    params = request.GET
    channel = params.get("canal", "")
    return {
        "search": params.get("q", "").strip(),
        "channel": channel if channel in Channel.values else "",
        "unread": params.get("no_leidas") == "1",
        "human_mode": True if params.get("persona") == "1" else None,
    }


def _tab_counts(request) -> dict:
    """The badges of the inbox's tabs: what did not go out, and (for an ADMIN) what failed for good."""
    counts = {"outbox_count": selectors.outbox_list(user=request.user).count()}
    if request.user.is_broker_admin:
        counts["failures_count"] = selectors.dead_letter_list().count()
    return counts


@broker_required
def inbox_tabs(request):
    """The tabs with their badges (the live inbox refreshes them when a reply goes out or does not)."""
    return render(request, "conversations/_tabs.html", _tab_counts(request))


def _inbox_context(request, **extra) -> dict:
    conversations = selectors.inbox_list(user=request.user, **_filters(request))
    return {
        "page": Paginator(conversations, PAGE_SIZE).get_page(request.GET.get("page")),
        "channels": Channel.choices,
        "status_labels": dict(Message.Status.choices),
        **_tab_counts(request),
        **extra,
    }


def _conversation_or_404(request, conversation_id: int) -> Conversation:
    conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
    if conversation is None:
        raise Http404
    return conversation


@broker_required
def inbox(request):
    return render(request, "conversations/inbox.html", _inbox_context(request))


@broker_required
def conversation_detail(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    services.conversation_mark_read(conversation=conversation)
    return render(request, "conversations/inbox.html", _inbox_context(
        request, conversation=conversation, lead=conversation.lead,
        chat=selectors.chat_messages(conversation=conversation),
        reply_form=ReplyForm(), hand_back_form=HandBackForm(),
    ))


@broker_required
def conversation_row(request, conversation_id: int):
    """One list row, when the conversation matches the list's filters (the live list inserts it)."""
    conversations = selectors.inbox_list(user=request.user, **_filters(request))
    conversation = conversations.filter(pk=conversation_id).first()
    if conversation is None:
        return HttpResponse(status=204)
    return render(request, "conversations/_conversation_item.html", {"item": conversation})


@broker_required
def conversation_messages(request, conversation_id: int):
    """The chat's bubbles after `?after=<message id>` (the live chat appends them)."""
    conversation = _conversation_or_404(request, conversation_id)
    after = request.GET.get("after", "")
    chat = selectors.chat_messages(conversation=conversation, after_id=int(after) if after.isdigit() else 0)
    return render(request, "conversations/_messages.html", {"chat": chat, "lead": conversation.lead})


@broker_required
def conversation_lead(request, conversation_id: int):
    """The lead's data beside the chat (the live chat refreshes it when the lead changes)."""
    conversation = _conversation_or_404(request, conversation_id)
    return render(request, "conversations/_lead_panel.html", {"lead": conversation.lead})


@broker_required
def outbox(request):
    page = Paginator(selectors.outbox_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "conversations/outbox.html", {"page": page, **_tab_counts(request)})


@admin_required
def failures(request):
    """What failed for good after its retries (ADMIN only): try it again, or take it off the list."""
    page = Paginator(selectors.dead_letter_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "conversations/failures.html", {"page": page, **_tab_counts(request)})


def failure_action(service, notice):
    """A POST on one failure by an ADMIN: `service(dead_letter_id=…)`, then back to the list."""

    @require_POST
    @admin_required
    def view(request, dead_letter_id: int):
        try:
            service(dead_letter_id=dead_letter_id)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, str(notice))
        return redirect("inbox_failures")

    view.__name__ = service.__name__
    return view


failure_retry = failure_action(services.dead_letter_retry,
                               gettext_lazy("Se volvió a poner en cola. Si falla otra vez, volverá a esta lista."))
failure_dismiss = failure_action(services.dead_letter_dismiss, gettext_lazy("Se quitó de la lista."))


def conversation_action(handler):
    """A POST on a conversation the user can see; refusals become a message; back to the same chat and list."""

    @require_POST
    @broker_required
    def view(request, conversation_id: int):
        conversation = _conversation_or_404(request, conversation_id)
        try:
            notice = handler(request, conversation)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            if notice:
                messages.success(request, notice)
        query = request.GET.urlencode()  # the list's filters and page, as they were
        return redirect(reverse("inbox_conversation", args=[conversation.id]) + (f"?{query}" if query else ""))

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


@conversation_action
def take_over(request, conversation: Conversation) -> str:
    services.conversation_take_over(conversation=conversation, user=request.user)
    return _("Tomaste la conversación: el asistente no responderá hasta que la devuelvas.")


@conversation_action
def hand_back(request, conversation: Conversation) -> str:
    form = HandBackForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    services.conversation_hand_back(conversation=conversation, user=request.user, note=note)
    return _("El asistente vuelve a responder esta conversación.")


@conversation_action
def reply(request, conversation: Conversation) -> str:
    form = ReplyForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(_("Escribe un mensaje de hasta 4.000 caracteres."), code="invalid_reply")
    services.agent_reply(conversation=conversation, user=request.user, text=form.cleaned_data["text"])
    return ""

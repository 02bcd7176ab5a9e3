from brokers.models import BrokerLeadConfig
from conversations import services
from conversations.channels.base import InboundMessage
from leads.models import LeadActivity


def test_a_lead_new_from_a_channel_is_assigned_per_the_brokerage_rule(broker_a, agent_a):
    BrokerLeadConfig.objects.filter(broker=broker_a).update(assignment_rule="priority",
                                                            assignment_priority=[agent_a.id])
    with broker_a:
        message = services.message_receive(channel="telegram", inbound=InboundMessage(
            external_id="m-1", channel_user_id="4242", text="hola", display_name="Ana"))
        lead = message.conversation.lead
        lead.refresh_from_db()
        assert lead.assigned_to_id == agent_a.id
        assert LeadActivity.objects.get(lead=lead, kind="assigned").payload["mode"] == "priority"
        services.message_receive(channel="telegram", inbound=InboundMessage(
            external_id="m-2", channel_user_id="4242", text="sigo aquí"))
        assert LeadActivity.objects.filter(lead=lead, kind="assigned").count() == 1


def test_a_lead_new_from_a_channel_stays_unassigned_by_default(broker_a, agent_a):
    with broker_a:
        message = services.message_receive(channel="telegram", inbound=InboundMessage(
            external_id="m-3", channel_user_id="4343", text="hola"))
        assert message.conversation.lead.assigned_to_id is None

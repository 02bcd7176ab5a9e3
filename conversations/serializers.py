from rest_framework import serializers

from conversations.models import Conversation, DeadLetter, Message


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "conversation_id", "direction", "sender", "sender_user_id", "text", "kind", "attachment",
                  "status", "error", "created_at"]


class ConversationSerializer(serializers.ModelSerializer):
    lead_name = serializers.CharField(source="lead.name")
    lead_score = serializers.IntegerField(source="lead.lead_score")
    pipeline_stage = serializers.CharField(source="lead.pipeline_stage")

    class Meta:
        model = Conversation
        fields = ["id", "lead_id", "lead_name", "lead_score", "pipeline_stage", "channel", "human_mode",
                  "taken_over_by_id", "unread_count", "last_message_at"]


class DeadLetterSerializer(serializers.ModelSerializer):
    conversation_id = serializers.IntegerField(source="message.conversation_id", allow_null=True, read_only=True)

    class Meta:
        model = DeadLetter
        fields = ["id", "message_id", "event_id", "conversation_id", "task", "error", "attempts", "created_at"]


class AgentReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class HandBackSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class WebchatMessageSerializer(serializers.Serializer):
    session_id = serializers.RegexField(r"^[A-Za-z0-9_-]{8,64}$")
    text = serializers.CharField(max_length=2000)
    client_message_id = serializers.RegexField(r"^[A-Za-z0-9_-]{1,64}$", required=False)

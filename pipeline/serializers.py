from rest_framework import serializers

from leads.serializers import LeadCardSerializer
from pipeline.models import Stage


class StageMoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    close_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                         help_text="Obligatorio al mover a ganado o perdido.")


class BoardQuerySerializer(serializers.Serializer):
    per_stage = serializers.IntegerField(min_value=1, max_value=50, default=10)


class BoardColumnSerializer(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    leads = LeadCardSerializer(many=True)

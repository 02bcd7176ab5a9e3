from rest_framework import serializers

from knowledge.models import Document


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "title", "source_type", "body", "metadata", "status", "progress", "chunks_done",
                  "chunks_total", "version", "embedding_model", "error", "created_at", "updated_at"]
        read_only_fields = ["status", "progress", "chunks_done", "chunks_total", "version", "embedding_model", "error",
                            "created_at", "updated_at"]


class DocumentWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    source_type = serializers.ChoiceField(choices=Document.SourceType.choices, default=Document.SourceType.FAQ)
    body = serializers.CharField()
    metadata = serializers.JSONField(required=False, default=dict)


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    source_type = serializers.ChoiceField(choices=Document.SourceType.choices, default=Document.SourceType.FAQ)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=2000)
    top_k = serializers.IntegerField(min_value=1, max_value=50, default=5)
    source_type = serializers.ChoiceField(choices=Document.SourceType.choices, required=False, allow_blank=True,
                                          default="")


class SearchHitSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    title = serializers.CharField()
    source_type = serializers.CharField()
    text = serializers.CharField()
    similarity = serializers.FloatField()


class CacheStatsSerializer(serializers.Serializer):
    hits = serializers.IntegerField()
    misses = serializers.IntegerField()
    hit_rate = serializers.FloatField(allow_null=True)
    average_call_usd = serializers.DecimalField(max_digits=14, decimal_places=8)
    saved_usd = serializers.DecimalField(max_digits=14, decimal_places=4)
    saved_clp = serializers.DecimalField(max_digits=16, decimal_places=0)

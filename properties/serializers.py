from rest_framework import serializers

from properties.models import Project, PropertyType, Unit


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "developer", "comuna", "address", "description", "delivery_date", "subsidy_ds1",
                  "subsidy_ds19", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class UnitSerializer(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True, default=None)

    class Meta:
        model = Unit
        fields = ["id", "code", "project", "project_name", "property_type", "bedrooms", "bathrooms", "area_m2",
                  "price_uf", "price_clp", "price_currency", "status", "comuna", "address", "description",
                  "photo_urls", "subsidy_ds1", "subsidy_ds19", "created_at", "updated_at"]
        read_only_fields = fields


class UnitInputSerializer(serializers.Serializer):
    """What a person writes on a unit; `price` is in `price_currency` (the other one is derived)."""

    code = serializers.CharField(max_length=40)
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all(), required=False, allow_null=True)
    property_type = serializers.ChoiceField(choices=PropertyType.choices)
    bedrooms = serializers.IntegerField(min_value=0, max_value=20, required=False)
    bathrooms = serializers.IntegerField(min_value=0, max_value=20, required=False)
    area_m2 = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    price_currency = serializers.ChoiceField(choices=Unit.Currency.choices, default=Unit.Currency.UF)
    status = serializers.ChoiceField(choices=Unit.Status.choices, required=False)
    comuna = serializers.CharField(max_length=120, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    photo_urls = serializers.ListField(child=serializers.URLField(max_length=500), max_length=30, required=False)
    subsidy_ds1 = serializers.BooleanField(required=False)
    subsidy_ds19 = serializers.BooleanField(required=False)


class UnitFilterSerializer(serializers.Serializer):
    comuna = serializers.CharField(max_length=120, required=False)
    property_type = serializers.ChoiceField(choices=PropertyType.choices, required=False)
    bedrooms = serializers.IntegerField(min_value=0, max_value=20, required=False)
    min_price_uf = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    max_price_uf = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    status = serializers.ChoiceField(choices=Unit.Status.choices, required=False)
    project = serializers.IntegerField(min_value=1, required=False)


class UnitSearchSerializer(serializers.Serializer):
    comuna = serializers.CharField(max_length=120, required=False)
    property_type = serializers.ChoiceField(choices=PropertyType.choices, required=False)
    bedrooms = serializers.IntegerField(min_value=0, max_value=20, required=False)
    max_price_uf = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    q = serializers.CharField(max_length=500, required=False)
    top_k = serializers.IntegerField(min_value=1, max_value=10, default=3)


class UnitHitSerializer(serializers.Serializer):
    unit = UnitSerializer()
    score = serializers.FloatField()
    structured_rank = serializers.IntegerField()
    vector_rank = serializers.IntegerField(allow_null=True)


class UnitImportSerializer(serializers.Serializer):
    file = serializers.FileField()


class UnitImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())
    ignored_columns = serializers.ListField(child=serializers.CharField())

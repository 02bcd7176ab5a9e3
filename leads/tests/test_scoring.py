from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from brokers.models import BrokerLeadConfig, default_field_weights
from leads.models import Lead, LeadActivity
from leads.scoring import FIELD_PRESENT, lead_rescore, lead_score_compute, status_for_score
from leads.tests.factories import config_of, lead_make
from pipeline.models import Stage

NOW = timezone.now()

FULL = {"name": "Ana Pérez", "phone": "+56911111111", "email": "ana@example.cl", "location": "Ñuñoa",
        "budget_amount": Decimal("3500"), "budget_currency": "UF", "monthly_income": 1_500_000,
        "dicom_status": "clean", "property_type": "departamento", "bedrooms": 2}


def score(config: BrokerLeadConfig | None = None, **fields):
    fields.setdefault("created_at", NOW)
    return lead_score_compute(lead=Lead(**fields), config=config or BrokerLeadConfig(), now=NOW)


def test_an_empty_new_lead_scores_zero_and_cold():
    result = score()
    assert result.score == 0
    assert result.status == Lead.Status.COLD
    assert result.breakdown == {"base": 0, "financial": 0, "engagement": 0, "stage": 0, "penalties": 0}


def test_base_is_completeness_weighted_per_brokerage():
    assert score(**FULL).breakdown["base"] == 40
    # default weights: name 10 + phone 15 of a total of 100 → 25% of 40
    assert score(name="Ana", phone="+56911111111").breakdown["base"] == 10
    only_name_matters = BrokerLeadConfig(field_weights={"name": 5, "phone": 0})
    assert score(only_name_matters, name="Ana").breakdown["base"] == 40
    assert score(only_name_matters, phone="+56911111111").breakdown["base"] == 0


@pytest.mark.parametrize(("income", "points"), [
    (3_000_000, 20), (2_500_000, 15), (2_000_000, 15), (1_000_000, 10), (500_000, 5), (499_999, 0), (None, 0),
])
def test_financial_income_tiers(income, points):
    assert score(monthly_income=income).breakdown["financial"] == points


def test_financial_dicom_and_the_brokerage_debt_limit():
    assert score(monthly_income=1_000_000, dicom_status="clean").breakdown["financial"] == 20
    strict = BrokerLeadConfig(max_debt_clp=0)
    lenient = BrokerLeadConfig(max_debt_clp=500_000)
    assert score(strict, dicom_status="has_debt", debt_amount=200_000).breakdown["financial"] == 0
    assert score(lenient, dicom_status="has_debt", debt_amount=200_000).breakdown["financial"] == 5
    assert score(lenient, dicom_status="has_debt", debt_amount=900_000).breakdown["financial"] == 0


def test_engagement_counts_messages_and_recent_contact():
    assert score(messages_count=3).breakdown["engagement"] == 3
    assert score(messages_count=40).breakdown["engagement"] == 10
    assert score(last_contacted_at=NOW - timedelta(days=1)).breakdown["engagement"] == 5
    assert score(last_contacted_at=NOW - timedelta(days=5)).breakdown["engagement"] == 2
    assert score(last_contacted_at=NOW - timedelta(days=9)).breakdown["engagement"] == 0


@pytest.mark.parametrize(("stage", "points"), [
    (Stage.ENTRADA, 0), (Stage.PERFILAMIENTO, 3), (Stage.CALIFICACION_FINANCIERA, 6), (Stage.POTENCIAL, 10),
    (Stage.AGENDADO, 15), (Stage.GANADO, 15), (Stage.PERDIDO, 0),
])
def test_stage_component(stage, points):
    assert score(pipeline_stage=stage).breakdown["stage"] == points


def test_penalties_for_inactivity_per_brokerage_limit_and_opt_out():
    config = BrokerLeadConfig(inactivity_days=14)
    assert score(config, created_at=NOW - timedelta(days=10)).breakdown["penalties"] == 0
    assert score(config, created_at=NOW - timedelta(days=15)).breakdown["penalties"] == -10
    assert score(config, created_at=NOW - timedelta(days=29)).breakdown["penalties"] == -20
    patient = BrokerLeadConfig(inactivity_days=60)
    assert score(patient, created_at=NOW - timedelta(days=29)).breakdown["penalties"] == 0
    # last contact, not creation, is what counts once there is one
    assert score(config, created_at=NOW - timedelta(days=90),
                 last_contacted_at=NOW - timedelta(days=3)).breakdown["penalties"] == 0
    assert score(opted_out=True).breakdown["penalties"] == -30
    # a closed lead is not "inactive"
    assert score(config, pipeline_stage=Stage.GANADO, close_reason="Compró",
                 created_at=NOW - timedelta(days=90)).breakdown["penalties"] == 0


def test_score_is_the_clamped_sum_of_the_breakdown():
    result = score(**FULL, pipeline_stage=Stage.AGENDADO, messages_count=12, last_contacted_at=NOW)
    assert result.breakdown == {"base": 40, "financial": 20, "engagement": 15, "stage": 15, "penalties": 0}
    assert result.score == 90
    assert score(opted_out=True, name="Ana").score == 0


@pytest.mark.parametrize(("value", "status"), [
    (0, "cold"), (20, "cold"), (21, "warm"), (50, "warm"), (51, "hot"), (74, "hot"), (75, "qualified"),
    (100, "qualified"),
])
def test_status_from_default_thresholds(value, status):
    assert status_for_score(score=value, config=BrokerLeadConfig()) == status


@pytest.mark.parametrize(("value", "status"), [(10, "cold"), (11, "warm"), (31, "hot"), (60, "qualified")])
def test_status_from_a_brokerage_own_thresholds(value, status):
    config = BrokerLeadConfig(cold_max=10, warm_max=30, qualified_min=60)
    assert status_for_score(score=value, config=config) == status


def test_rescore_persists_with_a_timeline_entry_and_sees_decrypted_values(broker_a):
    with broker_a:
        lead = lead_make(name="Ana", monthly_income=3_200_000, dicom_status="clean")
        lead = Lead.objects.get(pk=lead.pk)  # values come back through decryption
        assert lead_rescore(lead=lead, config=config_of(broker_a), reason="test") is True
        lead.refresh_from_db()
        assert lead.score_breakdown["financial"] == 30
        assert lead.lead_score == sum(lead.score_breakdown.values())
        activity = LeadActivity.objects.get(lead=lead, kind=LeadActivity.Kind.SCORE_CHANGED)
        assert activity.payload == {"from": 0, "to": lead.lead_score, "reason": "test"}
        assert lead_rescore(lead=lead, config=config_of(broker_a), reason="again") is False
        assert connection.schema_name == "b_alfa"


# --- properties --------------------------------------------------------------------------------------------

FIELD_VALUES = {
    "name": st.text(min_size=1, max_size=20), "phone": st.just("+56912345678"), "email": st.just("a@b.cl"),
    "location": st.sampled_from(["Ñuñoa", "Providencia"]),
    "budget": st.decimals(min_value=0, max_value=10**9, places=2),
    "monthly_income": st.integers(min_value=0, max_value=10**9),
    "dicom_status": st.sampled_from(["clean", "has_debt"]), "property_type": st.sampled_from(["casa", "oficina"]),
    "bedrooms": st.integers(min_value=0, max_value=20),
}
weights = st.dictionaries(st.sampled_from(sorted(FIELD_PRESENT)), st.integers(min_value=0, max_value=100))
known_fields = st.fixed_dictionaries({}, optional=FIELD_VALUES)


def _lead_fields(values: dict) -> dict:
    fields = dict(values)
    if "budget" in fields:
        fields["budget_amount"], fields["budget_currency"] = fields.pop("budget"), "UF"
    return fields


@given(fields=known_fields, field_weights=weights, stage=st.sampled_from(list(Stage)),
       messages=st.integers(min_value=0, max_value=10**6), opted_out=st.booleans(),
       idle_days=st.integers(min_value=0, max_value=3650), debt=st.none() | st.integers(min_value=0, max_value=10**9))
def test_score_always_between_0_and_100(fields, field_weights, stage, messages, opted_out, idle_days, debt):
    config = BrokerLeadConfig(field_weights=field_weights, max_debt_clp=100_000)
    result = score(config, **_lead_fields(fields), pipeline_stage=stage, messages_count=messages, opted_out=opted_out,
                   debt_amount=debt, created_at=NOW - timedelta(days=idle_days))
    assert 0 <= result.score <= 100
    assert result.status in Lead.Status.values


@given(fields=known_fields, extra=st.sampled_from(sorted(FIELD_VALUES)), data=st.data(),
       field_weights=weights | st.just(default_field_weights()))
def test_more_complete_data_never_lowers_the_base(fields, extra, data, field_weights):
    config = BrokerLeadConfig(field_weights=field_weights)
    richer = {**fields, extra: data.draw(FIELD_VALUES[extra])}
    base = score(config, **_lead_fields(fields)).breakdown["base"]
    assert score(config, **_lead_fields(richer)).breakdown["base"] >= base

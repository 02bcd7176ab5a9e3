from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import committed_brokerage
from leads import tasks
from leads.models import Lead, LeadActivity
from leads.scoring import lead_rescore_all, lead_score_compute
from leads.tests.factories import config_of, lead_make


def test_nightly_pass_rescores_in_batches_never_all_at_once(broker_a):
    with broker_a:
        leads = [lead_make(name=f"Lead {i}") for i in range(5)]
        deleted = lead_make(is_deleted=True)
        # Twenty idle days: the inactivity penalty (limit 14 days) lowers every score.
        Lead.objects.update(created_at=timezone.now() - timedelta(days=20), lead_score=50)
        with CaptureQueriesContext(connection) as queries:
            seen = lead_rescore_all(config=config_of(broker_a), batch_size=2)
        assert seen == 5
        lead_selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "leads_lead" in q["sql"]]
        assert len(lead_selects) == 4  # 2 + 2 + 1 + the empty one that ends the pass
        assert all("LIMIT 2" in sql for sql in lead_selects)
        assert [q["sql"] for q in queries if q["sql"].startswith("ANALYZE")] == ["ANALYZE leads_lead"]  # all moved
        for lead in leads:
            lead.refresh_from_db()
            assert lead.score_breakdown["penalties"] == -10
            assert lead.lead_score == 0
        assert LeadActivity.objects.filter(kind="score_changed", payload__reason="nightly").count() == 5
        assert Lead.objects.get(pk=deleted.pk).lead_score == 50


def test_nightly_pass_is_idempotent(broker_a):
    with broker_a:
        lead_make(name="Ana")
        now = timezone.now()
        lead_rescore_all(config=config_of(broker_a), now=now)
        with CaptureQueriesContext(connection) as queries:
            lead_rescore_all(config=config_of(broker_a), now=now)
        assert not [q for q in queries if q["sql"].startswith(("UPDATE", "ANALYZE"))]


def test_beat_task_fans_out_one_task_per_brokerage_schema(broker_a, broker_b, monkeypatch):
    schemas = []
    monkeypatch.setattr(tasks.leads_rescore_brokerage, "delay", lambda: schemas.append(connection.schema_name))
    tasks.leads_rescore_all_brokerages()
    assert sorted(schemas) == ["b_alfa", "b_beta"]
    assert connection.schema_name == "public"


def test_brokerage_task_runs_in_the_schema_it_was_sent_from(broker_a):
    with broker_a:
        lead_make(name="Ana")
        result = tasks.leads_rescore_brokerage.apply()
    assert result.get() == 1


def test_nightly_pass_scores_dicom_and_debt_like_the_single_rescore(broker_a):
    """The pass reads DICOM from its index and decrypts the debt only with debts: same scores as lead_rescore."""
    config = config_of(broker_a)
    config.max_debt_clp = 500_000
    with broker_a:
        leads = [lead_make(name="Limpio", dicom_status="clean", monthly_income=2_500_000),
                 lead_make(name="Deuda chica", dicom_status="has_debt", debt_amount=300_000),
                 lead_make(name="Deuda grande", dicom_status="has_debt", debt_amount=900_000),
                 lead_make(name="Sin dato", monthly_income=600_000)]
        now = timezone.now()
        lead_rescore_all(config=config, now=now)
        for lead in leads:
            stored = Lead.objects.get(pk=lead.pk)
            expected = lead_score_compute(lead=stored, config=config, now=now)
            assert (stored.lead_score, stored.score_breakdown) == (expected.score, expected.breakdown)
        financial = [Lead.objects.get(pk=lead.pk).score_breakdown["financial"] for lead in leads]
        assert financial == [25, 5, 0, 5]


def test_the_beat_pass_outside_a_transaction_vacuums_what_it_rewrote(cast, django_db_blocker):
    """As the worker runs it (autocommit): VACUUM (ANALYZE), so the board's counts stay index-only."""
    with django_db_blocker.unblock():
        broker = committed_brokerage("vac", "Corredora Vacuum")
        with broker:
            for number in range(3):
                lead_make(name=f"Lead {number}")
            Lead.objects.update(created_at=timezone.now() - timedelta(days=20), lead_score=50)
            assert not connection.in_atomic_block
            with CaptureQueriesContext(connection) as queries:
                lead_rescore_all(config=config_of(broker))
            assert set(Lead.objects.values_list("lead_score", flat=True)) == {0}
        assert [q["sql"] for q in queries if "ANALYZE" in q["sql"]] == ["VACUUM (ANALYZE) leads_lead"]

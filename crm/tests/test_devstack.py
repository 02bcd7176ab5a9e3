"""The local services `make run` and `make test` start: what each run finds in its Redis."""

import redis as redis_client

from crm import devstack


def test_an_exec_redis_starts_empty_while_the_run_redis_keeps_its_data(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)  # make test exports the test run's own
    monkeypatch.setattr(devstack, "DATA", tmp_path)
    with devstack.redis("t") as url:
        redis_client.Redis.from_url(url).set("queued-by-an-earlier-run", "1")
    with devstack.redis("t") as url:
        assert redis_client.Redis.from_url(url).get("queued-by-an-earlier-run") == b"1"
    with devstack.redis("t", fresh=True) as url:
        assert redis_client.Redis.from_url(url).get("queued-by-an-earlier-run") is None

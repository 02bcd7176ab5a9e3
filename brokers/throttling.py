"""Login throttling per account and per IP, in the (tenant-prefixed) cache."""

from django.conf import settings
from django.core.cache import cache


def _keys(email: str, ip: str) -> tuple[str, str]:
    return f"login-fail:acct:{email.strip().lower()}", f"login-fail:ip:{ip}"


def login_allowed(*, email: str, ip: str) -> bool:
    limits = settings.LOGIN_THROTTLE
    account_key, ip_key = _keys(email, ip)
    counts = cache.get_many([account_key, ip_key])
    return counts.get(account_key, 0) < limits["per_account"] and counts.get(ip_key, 0) < limits["per_ip"]


def login_failed(*, email: str, ip: str) -> None:
    window = settings.LOGIN_THROTTLE["window_seconds"]
    for key in _keys(email, ip):
        cache.add(key, 0, timeout=window)
        cache.incr(key)


def login_succeeded(*, email: str, ip: str) -> None:
    cache.delete(_keys(email, ip)[0])


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")

"""Google Calendar over HTTP (httpx): OAuth 2.0 authorization code flow, events, freeBusy.

Only the wire: no models. Every URL comes from settings (GOOGLE_*), so tests use a stub on 127.0.0.1.
Errors are `GoogleError`; `retryable` says whether trying again later may work (5xx, 429, network),
`auth` that the grant is gone (revoked, expired): the agent has to connect again.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
from django.conf import settings
from django.utils.dateparse import parse_datetime

from crm.http import http_client

SCOPE = "https://www.googleapis.com/auth/calendar"


class GoogleError(Exception):
    def __init__(self, message: str, *, status: int = 0, retryable: bool = False, auth: bool = False) -> None:
        super().__init__(message)
        self.status, self.retryable, self.auth = status, retryable, auth


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: datetime
    refresh_token: str  # "" when Google did not send one (a refresh keeps the old one)


def configured() -> bool:
    return bool(settings.GOOGLE_OAUTH_CLIENT_ID and settings.GOOGLE_OAUTH_CLIENT_SECRET)


def authorization_url(*, state: str, redirect_uri: str) -> str:
    """Google's consent page: offline access (a refresh token), consent asked again so one is always sent."""
    query = {"client_id": settings.GOOGLE_OAUTH_CLIENT_ID, "redirect_uri": redirect_uri, "response_type": "code",
             "scope": SCOPE, "access_type": "offline", "prompt": "consent", "include_granted_scopes": "true",
             "state": state}
    return f"{settings.GOOGLE_OAUTH_AUTH_URL}?{urlencode(query)}"


def _send(method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return http_client().request(method, url, timeout=settings.GOOGLE_HTTP_TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        raise GoogleError(f"Google unreachable: {type(exc).__name__}", retryable=True) from exc


def _error(response: httpx.Response, what: str) -> GoogleError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # Calendar API: {"error": {"code", "message", "status"}}
        detail = error.get("message") or error.get("status") or ""
    else:  # OAuth endpoints: {"error": "invalid_grant", "error_description": "..."}
        detail = " ".join(filter(None, [error, body.get("error_description")])) if error else ""
    status = response.status_code
    return GoogleError(f"Google {what}: HTTP {status} {detail}".strip()[:300], status=status,
                       retryable=status == 429 or status >= 500,
                       auth=status == 401 or (status == 400 and error == "invalid_grant"))


def _tokens(response: httpx.Response, what: str) -> Tokens:
    if response.status_code != 200:
        raise _error(response, what)
    body = response.json()
    return Tokens(access_token=body["access_token"], refresh_token=body.get("refresh_token", ""),
                  expires_at=datetime.now(UTC) + timedelta(seconds=int(body.get("expires_in", 3600))))


def code_exchange(*, code: str, redirect_uri: str) -> Tokens:
    response = _send("POST", settings.GOOGLE_OAUTH_TOKEN_URL, data={
        "code": code, "client_id": settings.GOOGLE_OAUTH_CLIENT_ID,
        "client_secret": settings.GOOGLE_OAUTH_CLIENT_SECRET, "redirect_uri": redirect_uri,
        "grant_type": "authorization_code"})
    return _tokens(response, "token")


def token_refresh(*, refresh_token: str) -> Tokens:
    response = _send("POST", settings.GOOGLE_OAUTH_TOKEN_URL, data={
        "refresh_token": refresh_token, "client_id": settings.GOOGLE_OAUTH_CLIENT_ID,
        "client_secret": settings.GOOGLE_OAUTH_CLIENT_SECRET, "grant_type": "refresh_token"})
    return _tokens(response, "refresh")


def token_revoke(*, token: str) -> None:
    """Revoke the grant (a refresh token revokes its access tokens too). Already invalid: nothing to do."""
    response = _send("POST", settings.GOOGLE_OAUTH_REVOKE_URL, data={"token": token})
    if response.status_code != 200 and not (response.status_code == 400 and "invalid_token" in response.text):
        raise _error(response, "revoke")


def _calendar(method: str, path: str, *, access_token: str, what: str, **kwargs: Any) -> httpx.Response:
    response = _send(method, f"{settings.GOOGLE_CALENDAR_API_BASE}{path}",
                     headers={"Authorization": f"Bearer {access_token}"}, **kwargs)
    if response.status_code >= 400:
        raise _error(response, what)
    return response


EVENTS = "/calendars/primary/events"


def event_insert(*, access_token: str, event: dict[str, Any]) -> dict[str, Any]:
    return _calendar("POST", EVENTS, access_token=access_token, what="events.insert", json=event).json()


def event_patch(*, access_token: str, event_id: str, event: dict[str, Any]) -> dict[str, Any]:
    return _calendar("PATCH", f"{EVENTS}/{event_id}", access_token=access_token, what="events.patch",
                     json=event).json()


def event_delete(*, access_token: str, event_id: str) -> None:
    """Delete; an event already gone (404, or 410 "Resource has been deleted") counts as done."""
    try:
        _calendar("DELETE", f"{EVENTS}/{event_id}", access_token=access_token, what="events.delete")
    except GoogleError as error:
        if error.status not in (404, 410):
            raise


def events_deleted(*, access_token: str, schema: str, time_min: datetime) -> list[str]:
    """Ids of the CRM's events (private property `corredoraSchema`) ending after `time_min` that were
    deleted on Google (`events.list` with showDeleted: they come back with status "cancelled")."""
    deleted, page = [], None
    while True:
        params = {"privateExtendedProperty": f"corredoraSchema={schema}", "showDeleted": "true",
                  "singleEvents": "true", "timeMin": time_min.isoformat(), "maxResults": "250"}
        if page:
            params["pageToken"] = page
        answer = _calendar("GET", EVENTS, access_token=access_token, what="events.list", params=params).json()
        deleted += [event["id"] for event in answer.get("items", []) if event.get("status") == "cancelled"]
        page = answer.get("nextPageToken")
        if not page:
            return deleted


def freebusy(*, access_token: str, time_min: datetime, time_max: datetime) -> list[tuple[datetime, datetime]]:
    """The busy intervals of the primary calendar in [time_min, time_max)."""
    body = {"timeMin": time_min.isoformat(), "timeMax": time_max.isoformat(), "items": [{"id": "primary"}]}
    answer = _calendar("POST", "/freeBusy", access_token=access_token, what="freeBusy.query", json=body).json()
    calendar = answer.get("calendars", {}).get("primary", {})
    if calendar.get("errors"):
        reasons = ", ".join(error.get("reason", "") for error in calendar["errors"])
        raise GoogleError(f"Google freeBusy.query: {reasons}"[:300], retryable=True)
    return [(parse_datetime(busy["start"]), parse_datetime(busy["end"])) for busy in calendar.get("busy", [])]

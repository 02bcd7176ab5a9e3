"""A Google OAuth 2.0 + Calendar API v3 stub on 127.0.0.1, answering in Google's wire format.

    with GoogleStub() as stub:
        settings.GOOGLE_OAUTH_TOKEN_URL = stub.token_url           # and auth_url, revoke_url, calendar_base
        stub.account = "ana@gmail.com"                             # who consents on the next auth page
        stub.busy["ana@gmail.com"] = [(start, end)]                # busy on Ana's calendar (freeBusy)
        stub.events["ana@gmail.com"]["crm…"]                       # events the CRM wrote (status, summary…)
        stub.fail_next(503, path="/events", method="POST", times=3)  # inject errors
        stub.expire_access_tokens()                                # every access token now answers 401

Endpoints: `GET /o/oauth2/v2/auth` (consents at once: 302 to redirect_uri with code and state),
`POST /token` (form: authorization_code or refresh_token grants), `POST /revoke` (form: token),
`GET|POST /calendar/v3/calendars/primary/events` (list, insert), `PATCH|DELETE …/events/{eventId}`,
`POST /calendar/v3/freeBusy`.
Deleted events are kept with status "cancelled", as Google does (a second delete answers 410, an
insert with the same id 409, a patch with status "confirmed" restores it).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from collections import defaultdict
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from crm.tests.stubs import StubServer

CLIENT_ID = "stub-client.apps.googleusercontent.com"
CLIENT_SECRET = "stub-client-secret"
EVENT_PATH = re.compile(r"/calendar/v3/calendars/primary/events(?:/([^/?]+))?")


def _api_error(status: int, reason: str, message: str) -> dict[str, Any]:
    names = {401: "UNAUTHENTICATED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS", 410: "FAILED_PRECONDITION",
             429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
    return {"error": {"errors": [{"domain": "global", "reason": reason, "message": message}], "code": status,
                      "message": message, **({"status": names[status]} if status in names else {})}}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class GoogleStub:
    def __init__(self) -> None:
        self.account = "agente@gmail.com"
        self.expires_in = 3599
        self.busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        self.events: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.requests: list[dict[str, Any]] = []
        self.revoked: list[str] = []
        self._codes: dict[str, dict[str, str]] = {}
        self._refresh: dict[str, str] = {}   # refresh token → account
        self._access: dict[str, str] = {}    # valid access token → account
        self._failures: list[tuple[int, str, str | None]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                status, body, headers = stub._answer(method, self.path, {k.lower(): v for k, v in self.headers.items()},
                                                     raw)
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):  # noqa: N802 (http.server's naming)
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def do_PATCH(self):  # noqa: N802
                self._serve("PATCH")

            def do_DELETE(self):  # noqa: N802
                self._serve("DELETE")

            def log_message(self, *args):
                pass

        self._server = StubServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- where it listens --------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self) -> dict[str, str]:
        """The GOOGLE_* settings (and environment variables) that point the app at this stub."""
        return {"GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID, "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
                "GOOGLE_OAUTH_AUTH_URL": f"{self.url}/o/oauth2/v2/auth", "GOOGLE_OAUTH_TOKEN_URL": f"{self.url}/token",
                "GOOGLE_OAUTH_REVOKE_URL": f"{self.url}/revoke", "GOOGLE_CALENDAR_API_BASE": f"{self.url}/calendar/v3"}

    # --- test controls ---------------------------------------------------------------

    def fail_next(self, status: int, *, path: str = "/calendar/", method: str | None = None, times: int = 1) -> None:
        """The next `times` requests whose path contains `path` (and with `method`, when given) answer
        `status` in Google's error shape."""
        with self._lock:
            self._failures += [(status, path, method)] * times

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def calls(self, method: str, path_part: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and path_part in r["path"]]

    def live_events(self, account: str) -> dict[str, dict[str, Any]]:
        return {key: event for key, event in self.events[account].items() if event["status"] != "cancelled"}

    # --- serving -----------------------------------------------------------------------

    def _answer(self, method: str, target: str, headers: dict[str, str], raw: str):
        parts = urlsplit(target)
        path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
        is_json = headers.get("content-type", "").startswith("application/json")
        body = json.loads(raw) if raw and is_json else {k: v[0] for k, v in parse_qs(raw).items()}
        with self._lock:
            self.requests.append({"method": method, "path": path, "query": query, "headers": headers, "body": body})
            failure = next((f for f in self._failures if f[1] in path and f[2] in (None, method)), None)
            if failure is not None:
                self._failures.remove(failure)
                status = failure[0]
                if path in ("/token", "/revoke"):
                    return status, {"error": "internal_failure", "error_description": "Backend Error"}, {}
                return status, _api_error(status, "backendError", "Backend Error"), {}
            if method == "GET" and path == "/o/oauth2/v2/auth":
                return self._consent(query)
            if method == "POST" and path == "/token":
                return self._token(body)
            if method == "POST" and path == "/revoke":
                return self._revoke(body.get("token", "") or query.get("token", ""))
            account = self._access.get(headers.get("authorization", "").removeprefix("Bearer "))
            if path.startswith("/calendar/v3/") and account is None:
                return 401, _api_error(401, "authError", "Request had invalid authentication credentials. "
                                       "Expected OAuth 2 access token, login cookie or other valid authentication "
                                       "credential."), {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
            if method == "POST" and path == "/calendar/v3/freeBusy":
                return self._freebusy(account, body)
            match = EVENT_PATH.fullmatch(path)
            if match and method == "GET" and match.group(1) is None:
                return self._list(account, query)
            if match:
                return self._event(account, method, match.group(1), body)
            return 404, _api_error(404, "notFound", "Not Found"), {}

    def _consent(self, query: dict[str, str]):
        code = f"4/0A{secrets.token_urlsafe(12)}"
        self._codes[code] = {"account": self.account, "redirect_uri": query.get("redirect_uri", ""),
                             "client_id": query.get("client_id", ""), "scope": query.get("scope", "")}
        back = {"state": query.get("state", ""), "code": code, "scope": query.get("scope", "")}
        location = f"{query.get('redirect_uri')}?{urlencode(back)}"
        return 302, None, {"Location": location}

    def _grant(self, account: str) -> dict[str, Any]:
        access = f"ya29.{secrets.token_urlsafe(16)}"
        self._access[access] = account
        return {"access_token": access, "expires_in": self.expires_in, "scope": "https://www.googleapis.com/auth/calendar",
                "token_type": "Bearer"}

    def _token(self, form: dict[str, str]):
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}, {}
        if form.get("grant_type") == "authorization_code":
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}, {}
            refresh = f"1//0{secrets.token_urlsafe(24)}"
            self._refresh[refresh] = grant["account"]
            return 200, {**self._grant(grant["account"]), "refresh_token": refresh}, {}
        if form.get("grant_type") == "refresh_token":
            account = self._refresh.get(form.get("refresh_token", ""))
            if account is None:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, {}
            return 200, self._grant(account), {}
        return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}, {}

    def _revoke(self, token: str):
        if self._refresh.pop(token, None) is None and self._access.pop(token, None) is None:
            return 400, {"error": "invalid_token", "error_description": "Token expired or revoked"}, {}
        self.revoked.append(token)
        return 200, {}, {}

    def _event(self, account: str, method: str, event_id: str | None, body: dict[str, Any]):
        calendar = self.events[account]
        if method == "POST" and event_id is None:
            event_id = body.get("id") or f"stub{next(self._ids)}"
            if event_id in calendar:
                return 409, _api_error(409, "duplicate", "The requested identifier already exists."), {}
            calendar[event_id] = {"kind": "calendar#event", "etag": f'"{next(self._ids)}"', "id": event_id,
                                  "status": "confirmed", "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
                                  "created": _iso(datetime.now().astimezone()), **body}
            return 200, calendar[event_id], {}
        event = calendar.get(event_id or "")
        if event is None:
            return 404, _api_error(404, "notFound", "Not Found"), {}
        if method == "PATCH":
            event.update(body)
            event["etag"] = f'"{next(self._ids)}"'
            return 200, event, {}
        if method == "DELETE":
            if event["status"] == "cancelled":
                return 410, _api_error(410, "deleted", "Resource has been deleted"), {}
            event["status"] = "cancelled"
            return 204, None, {}
        return 404, _api_error(404, "notFound", "Not Found"), {}

    def _list(self, account: str, query: dict[str, str]):
        """events.list: privateExtendedProperty=key=value, timeMin, showDeleted (one page: no nextPageToken)."""
        key, _, value = query.get("privateExtendedProperty", "").partition("=")
        low = datetime.fromisoformat(query["timeMin"]) if "timeMin" in query else None
        items = [event for event in self.events[account].values()
                 if (not key or event.get("extendedProperties", {}).get("private", {}).get(key) == value)
                 and (query.get("showDeleted") == "true" or event["status"] != "cancelled")
                 and (low is None or datetime.fromisoformat(event["end"]["dateTime"]) > low)]
        return 200, {"kind": "calendar#events", "etag": f'"{next(self._ids)}"', "summary": account,
                     "updated": _iso(datetime.now().astimezone()), "timeZone": "America/Santiago",
                     "accessRole": "owner", "items": items}, {}

    def _freebusy(self, account: str, body: dict[str, Any]):
        low, high = datetime.fromisoformat(body["timeMin"]), datetime.fromisoformat(body["timeMax"])
        intervals = list(self.busy[account])
        for event in self.events[account].values():
            if event["status"] != "cancelled" and event.get("transparency") != "transparent":
                intervals.append((datetime.fromisoformat(event["start"]["dateTime"]),
                                  datetime.fromisoformat(event["end"]["dateTime"])))
        merged: list[list[datetime]] = []
        for start, end in sorted((max(s, low), min(e, high)) for s, e in intervals if s < high and e > low):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return 200, {"kind": "calendar#freeBusy", "timeMin": _iso(low), "timeMax": _iso(high),
                     "calendars": {"primary": {"busy": [{"start": _iso(s), "end": _iso(e)} for s, e in merged]}}}, {}

    # --- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> GoogleStub:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

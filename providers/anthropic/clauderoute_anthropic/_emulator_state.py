"""Shared machinery of the emulated resources: the request preamble (record, auth, a required
beta header where an endpoint still is beta, faults), JSON answers and the Claude API's list
pagination."""

from __future__ import annotations

import base64
import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from aiohttp import web

__all__ = ["ResourceBase", "now"]

_json = msgspec.json.Encoder()


def now(offset_s: float = 0.0) -> str:
    """An RFC 3339 UTC timestamp, as the API writes them."""
    t = datetime.now(UTC) + timedelta(seconds=offset_s)
    return t.isoformat().replace("+00:00", "Z")


class ResourceBase:
    """Mixed into the emulator: needs its ``record``, ``check_auth``, ``faults``,
    ``error_response`` and ``response_headers``."""

    #: Refuse calls to endpoints that require a beta without it in ``anthropic-beta``. (Files
    #: and Skills no longer do: they are generally available since 2026-08-19.)
    require_betas = True
    _serial = itertools.count(1)

    def new_object_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._serial):06d}{secrets.token_hex(9)}"

    def fail(self, status: int, error_type: str, message: str) -> web.Response:
        headers = self.response_headers()  # type: ignore[attr-defined]
        response: web.Response = self.error_response(  # type: ignore[attr-defined]
            status, error_type, message, headers)
        return response

    def fail_code(self, status: int, error_type: str, message: str,
                  code: str) -> web.Response:
        """An error whose ``error.details.error_code`` names the cause (the SDK maps e.g.
        ``(404, "file_expired")`` to ``FileExpiredError``)."""
        headers = self.response_headers()  # type: ignore[attr-defined]
        body = {"type": "error", "error": {"type": error_type, "message": message,
                                           "details": {"error_code": code}},
                "request_id": headers.get("request-id")}
        return web.Response(status=status, body=_json.encode(body),
                            content_type="application/json", headers=headers)

    def not_found(self, what: str, oid: str) -> web.Response:
        return self.fail(404, "not_found_error", f"{what} {oid!r} not found")

    def reply(self, obj: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, body=_json.encode(obj),
                            content_type="application/json",
                            headers=self.response_headers())  # type: ignore[attr-defined]

    async def begin(self, request: web.Request, operation: str, beta: str | None = None,
                    body: bytes = b"") -> web.Response | None:
        """Record the request, then auth, the beta header and any planned fault: a response
        to send instead, or ``None`` to go on."""
        self.record(request, body, operation)  # type: ignore[attr-defined]
        denied = self.check_auth(request, body)  # type: ignore[attr-defined]
        if denied is not None:
            return denied  # type: ignore[no-any-return]
        if beta and self.require_betas:
            sent = {b.strip() for b in request.headers.getall("anthropic-beta", [])
                    for b in b.split(",")}
            if beta not in sent:
                return self.fail(400, "invalid_request_error",
                                 f"this endpoint is in beta: send 'anthropic-beta: {beta}'")
        fault = self.faults.next(operation)  # type: ignore[attr-defined]
        if fault is not None and fault.status is not None:
            return self._error(fault)  # type: ignore[attr-defined,no-any-return]
        return None

    def page(self, request: web.Request, items: list[dict[str, Any]], *,
             cursor: bool = False) -> web.Response:
        """One page of ``items`` (newest first) for ``limit``/``after_id``/``before_id``, or
        the opaque ``page`` cursor when ``cursor`` (Files, Skills)."""
        q = request.query
        try:
            limit = int(q.get("limit", "20"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            return self.fail(400, "invalid_request_error",
                             "limit: Input should be between 1 and 1000")
        ids = [i["id"] for i in items]
        after, before = q.get("after_id"), q.get("before_id")
        if cursor and q.get("page"):
            try:
                after = base64.urlsafe_b64decode(q["page"][5:].encode()).decode()
            except ValueError:
                return self.fail(400, "invalid_request_error", "page: invalid cursor")
        for name, value in (("after_id", after), ("before_id", before)):
            if value is not None and value not in ids:
                return self.fail(400, "invalid_request_error", f"{name}: unknown id {value!r}")
        if before is not None:
            end = ids.index(before)
            chunk, has_more = items[max(0, end - limit):end], end - limit > 0
        else:
            start = ids.index(after) + 1 if after is not None else 0
            chunk, has_more = items[start:start + limit], start + limit < len(items)
        out: dict[str, Any] = {"data": chunk, "has_more": has_more,
                               "first_id": chunk[0]["id"] if chunk else None,
                               "last_id": chunk[-1]["id"] if chunk else None}
        if cursor:
            last = chunk[-1]["id"] if chunk and has_more else None
            out["next_page"] = ("page_" + base64.urlsafe_b64encode(last.encode()).decode()
                                if last else None)
        return self.reply(out)

"""What one request through the gateway did: ``Exchange``, read for its answer's headers, its
span, the per-key metrics and its access-log line."""

from __future__ import annotations

import itertools
import secrets
import time
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from ._app import Gateway

__all__ = ["Exchange"]

_encode = msgspec.json.Encoder().encode
# Request ids: a random prefix per process and a counter (unique across workers, and no
# system call per request).
_RID_PREFIX = "req_gw_" + secrets.token_hex(6)
_rid_count = itertools.count(1)


def _request_id() -> str:
    return f"{_RID_PREFIX}{next(_rid_count):012x}"


class Exchange:
    """What one request did, for its headers, span, metrics and access-log line."""

    __slots__ = (
        "attempts",
        "client",
        "error_type",
        "events",
        "gw",
        "homes",
        "input_tokens",
        "key",
        "model",
        "output_tokens",
        "overhead_ms",
        "provider",
        "refs",
        "rid",
        "status",
        "stream",
        "t0",
    )

    def __init__(self, gw: Gateway, key: str, t0: float) -> None:
        self.gw, self.key, self.t0 = gw, key, t0
        self.client = gw.client  # kept for the whole request, across a config reload
        self.homes = gw.homes  # where objects live, for that client
        self.refs = False  # the body may name an uploaded file or skill (read_body says)
        self.rid = _request_id()
        self.model: str | None = None
        self.provider: str | None = None
        self.error_type: str | None = None
        self.attempts = self.events = self.input_tokens = self.output_tokens = 0
        self.status = 0
        self.overhead_ms: float | None = None
        self.stream = False

    def count(self, usage: Any) -> None:
        """Tokens of a served answer (input includes the cache reads and writes)."""
        if usage is None:
            return
        self.input_tokens = (
            (usage.input_tokens or 0)
            + (getattr(usage, "cache_read_input_tokens", None) or 0)
            + (getattr(usage, "cache_creation_input_tokens", None) or 0)
        )
        self.output_tokens = usage.output_tokens or 0

    def log_line(self, method: str, path: str, duration_ms: float) -> str:
        """The access-log line (JSON) of this request."""
        return self.log_bytes(method, path, duration_ms).decode()

    def log_bytes(self, method: str, path: str, duration_ms: float) -> bytes:
        """``log_line`` as UTF-8 bytes, without the newline."""
        return _encode(
            {
                "ts": round(time.time(), 3),
                "request_id": self.rid,
                "key": self.key,
                "method": method,
                "path": path,
                "model": self.model,
                "stream": self.stream,
                "provider": self.provider,
                "attempts": self.attempts,
                "status": self.status,
                "error_type": self.error_type,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "events": self.events,
                "overhead_ms": None if self.overhead_ms is None else round(self.overhead_ms, 3),
                "duration_ms": round(duration_ms, 3),
            }
        )

"""``ErrorResponse``: the HTTP answer an ``APIStatusError`` came from (``e.response``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["ErrorResponse"]


class ErrorResponse:
    """The HTTP answer an ``APIStatusError`` came from (``e.response``, as in the SDK)."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        #: Every response header, names lower-cased (rate-limit headers included).
        self.headers = dict(headers)
        self.content = content

    @property
    def text(self) -> str:
        """The body as text."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body decoded as JSON (``msgspec.DecodeError`` if it is not)."""
        return msgspec.json.decode(self.content)

    def __repr__(self) -> str:
        return f"<ErrorResponse [{self.status_code}]>"

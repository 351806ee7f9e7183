"""Client keys: taken from ``x-api-key`` or ``Authorization: Bearer``, compared in constant
time, and never forwarded (the providers use their own credentials upstream)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from ._settings import GatewayKey

__all__ = ["OPEN", "KeyRing"]

#: The key name of every request to a gateway without keys (loopback only).
OPEN = "open"


class KeyRing:
    """The gateway's keys; ``identify`` names the key a request carries."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[GatewayKey]) -> None:
        self._keys = [(k.name, k.key.encode()) for k in keys]

    def __repr__(self) -> str:
        return f"<KeyRing {len(self._keys)} key(s)>"

    @property
    def required(self) -> bool:
        """Whether requests must carry a key."""
        return bool(self._keys)

    def identify(self, headers: Mapping[str, str]) -> str | None:
        """The name of the key in ``headers``, ``OPEN`` when no key is required, or ``None``.

        Every configured key is compared, whichever matches, so the time taken says nothing
        about which key (or how much of one) was right.
        """
        if not self._keys:
            return OPEN
        given = headers.get("x-api-key")
        if given is None:
            auth = headers.get("authorization", "")
            if auth[:7].lower() == "bearer ":
                given = auth[7:].strip()
        if not given:
            return None
        candidate = given.encode("utf-8", "surrogateescape")
        found = None
        for name, key in self._keys:
            if hmac.compare_digest(candidate, key) and found is None:
                found = name
        return found

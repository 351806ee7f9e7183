"""Reads and writes of one piece of fleet state that cannot wait for the sync task's next tick:
``FleetState.read`` and ``FleetState.write`` (a mixin, to keep ``_fleet`` within its budget).

A gateway worker asked about an object another worker made reads its home from Redis at once;
the worker that made it writes the home before answering. Neither ever fails the caller: when
the state is not live, or Redis is in trouble, they answer ``None`` and do nothing, and the
sync task is the one that notices and reconnects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["DirectOps"]


class DirectOps:
    """``read`` and ``write`` for ``FleetState`` (which provides what they use)."""

    live: bool
    _redis: Any
    op: Callable[[Awaitable[Any]], Awaitable[Any]]
    key: Callable[[str, str], str]
    publish: Callable[[str, str, bytes, float], None]

    async def read(self, kind: str, key: str) -> bytes | None:
        """One piece of state read from Redis now (a miss that cannot wait for the next
        merge); ``None`` when not live, absent, or on any trouble.

        .. versionadded:: 0.3
        """
        got = await self._now(lambda r: r.get(self.key(kind, key)))
        return got if isinstance(got, bytes) else None

    async def write(self, kind: str, key: str, payload: bytes, ttl_s: float) -> None:
        """``publish``, with the key also written now, so that another process's ``read``
        finds it at once (best effort: the next tick writes it anyway).

        .. versionadded:: 0.3
        """
        self.publish(kind, key, payload, ttl_s)
        ms = max(1, int(ttl_s * 1000))
        await self._now(lambda r: r.set(self.key(kind, key), payload, px=ms))

    async def _now(self, op: Callable[[Any], Awaitable[Any]]) -> Any:
        if self.live and self._redis is not None:
            try:
                return await self.op(op(self._redis))
            except Exception:  # noqa: BLE001, S110  (never fails the caller: it falls back)
                pass
        return None

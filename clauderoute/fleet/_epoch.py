"""What a ``FleetState`` does when Redis lost every key (``FLUSHALL``, a failover to an empty
replica): a mixin, to keep ``_fleet`` within its size budget.

The epoch key holds a random value. The process that finds it gone sets a new one and tells
the others with one message; a process that finds it changed (it missed that message) adopts
it. Each then re-announces what it owns (its ``on_sync`` callbacks) and stays live: the local
copies are still right, only Redis forgot them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from ._settings import StateSettings, redacted

__all__ = ["EpochOps", "new_token"]

log = logging.getLogger("clauderoute.fleet")
_enc = msgspec.msgpack.Encoder()


def new_token() -> bytes:
    """A new value for the epoch key."""
    return os.urandom(8).hex().encode()


class EpochOps:
    """``_emptied`` and ``_renew`` for ``FleetState`` (which provides what they use)."""

    settings: StateSettings
    origin: str
    flushes: int
    _epoch: bytes | None
    _checked: float
    _redis: Any
    _on_sync: list[Callable[[], None]]
    op: Callable[..., Awaitable[Any]]
    key: Callable[[str, str], str]

    @property
    def _channel(self) -> str:  # (FleetState's)
        raise NotImplementedError

    async def _emptied(self, token: bytes | None = None) -> None:
        """Redis lost every key (flushed, or replaced by an empty server). The local copies are
        still right: set a new epoch (``token``: this process's pipeline already set it), tell
        every process, and re-announce what this one owns, staying live."""
        key = self.key("epoch", "0")
        epoch = new_token() if token is None else token
        if token is None and not await self.op(self._redis.set(key, epoch, nx=True)):
            got = await self.op(self._redis.get(key))  # another process set it first
            epoch = got if isinstance(got, bytes) else epoch
        await self.op(
            self._redis.publish(
                self._channel, _enc.encode((self.origin, [("epoch", "0", epoch, 0)]))
            )
        )
        self._renew(epoch)

    def _renew(self, epoch: bytes) -> None:
        """A new epoch: Redis was emptied. Re-announce (the callbacks only queue changes)."""
        if epoch == self._epoch:
            return
        self._epoch = epoch
        self.flushes += 1
        self._checked = asyncio.get_running_loop().time()
        log.warning(
            "clauderoute state: Redis at %s lost the shared state (flushed or "
            "replaced); re-announcing this process's part",
            redacted(self.settings.url),
        )
        for callback in self._on_sync:
            callback()

"""Every connection the fleet opens to Redis is closed, however its close goes: cancelled halfway
(``aclose()`` while the sync task is closing after an outage), or run over its time bound.

Over a real redis-server on loopback. A socket left open shows as a ``ResourceWarning`` (an
unclosed redis-py ``Connection``, transport or socket) once the garbage collector frees it; the
tests record those warnings rather than let them fail whichever test runs next.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("redis", reason="clauderoute[redis] (redis-py) is not installed")

from clauderoute.fleet import FleetState, state_settings
from tests.test_fleet import RedisServer, running_redis, until


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    yield from running_redis()  # a server of its own: the tests kill it


class _OnOutage(logging.Handler):
    """Runs ``act`` when the fleet logs an outage: the sync task logs it and then, without
    yielding to the loop in between, starts closing its clients."""

    def __init__(self, act: Any) -> None:
        super().__init__(logging.WARNING)
        self.act, self.fired = act, 0

    def emit(self, record: logging.LogRecord) -> None:
        if "unavailable" in record.getMessage() and not self.fired:
            self.fired += 1
            self.act()


def _unclosed(seen: list[warnings.WarningMessage]) -> list[str]:
    gc.collect()  # frees what only a reference cycle kept: an open socket warns now
    return [str(w.message) for w in seen if issubclass(w.category, ResourceWarning)]


async def test_aclose_during_the_outage_close_leaves_no_socket_open(
    redis_server: RedisServer,
) -> None:
    """Redis dies; the sync task logs the outage and starts closing its clients (its pub/sub
    first); ``aclose()`` cancels it right there. Closing the pub/sub then ended in the
    cancellation and the client's pool, its idle connection still open, was dropped unclosed
    (found by a full suite run as an unclosed redis-py ``Connection``)."""
    s = state_settings({"url": redis_server.url, "sync_ms": 20, "op_timeout_ms": 100}, env={})
    assert s is not None
    fleet = FleetState(s)
    fleet.check_s = 3600.0  # (the sync task sits in its pub/sub read, not in an epoch check)
    closing: list[asyncio.Task[None]] = []
    handler = _OnOutage(
        lambda: closing.append(asyncio.get_running_loop().create_task(fleet.aclose()))
    )
    log = logging.getLogger("clauderoute.fleet")
    log.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", ResourceWarning)
            fleet.start()
            assert await until(lambda: fleet.live)
            assert await fleet.read("k", "absent") is None  # the pool now holds an idle socket
            redis_server.stop()
            assert await until(lambda: bool(closing))
            await closing[0]
            assert fleet.status()["live"] is False and fleet.failures >= 1
            assert _unclosed(seen) == []
    finally:
        log.removeHandler(handler)
        await fleet.aclose()

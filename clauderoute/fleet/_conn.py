"""How ``FleetState`` reaches Redis (a redis-py asyncio client for the ``[state]`` URL:
plain, TLS, Sentinel or Cluster) and its two metrics.

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from ._settings import StateSettings

__all__ = ["M_STATE_LIVE", "M_STATE_OUTAGES", "close", "connect", "instruments"]

#: Metric names (OpenTelemetry API; a no-op until an SDK is installed).
M_STATE_LIVE = "clauderoute.state.live"  # ObservableGauge, 1 synced / 0 on local state
M_STATE_OUTAGES = "clauderoute.state.outages"  # Counter {outage}, attribute error.type


def connect(s: StateSettings) -> tuple[Any, list[Any]]:
    """A redis-py asyncio client for the URL, and other clients to close with it (imported here: ``clauderoute[redis]`` is optional)."""
    import redis.asyncio as aioredis

    kw: dict[str, Any] = {
        "socket_timeout": s.op_timeout_ms / 1000,
        "socket_connect_timeout": s.op_timeout_ms / 1000,
    }
    scheme = s.url.split("://", 1)[0]
    if scheme.endswith("+sentinel"):
        from redis.asyncio.sentinel import Sentinel

        rest = s.url.split("://", 1)[1]
        auth, _, rest = rest.rpartition("@")
        hosts, _, path = rest.partition("/")
        service, _, db = path.partition("/")
        user, _, password = auth.partition(":")
        sentinels = [
            (h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1]) if ":" in h else 26379)
            for h in hosts.split(",")
        ]
        if scheme.startswith("rediss"):
            kw["ssl"] = True
        sentinel = Sentinel(sentinels, **kw)
        client = sentinel.master_for(
            service, db=int(db or 0), username=user or None, password=password or None
        )
        return client, list(sentinel.sentinels)  # the sentinels' clients close with it
    if s.cluster:
        from redis.asyncio.cluster import RedisCluster

        return RedisCluster.from_url(s.url.replace("cluster=true", "").rstrip("?&"), **kw), []
    return aioredis.from_url(s.url, **kw), []


async def close(clients: list[Any], users: list[asyncio.Task[None]]) -> None:
    """Close the clients one after another, each to its end; run as a task of its own that no
    caller's timeout or cancellation reaches. A redis-py ``aclose()`` stopped halfway (its pool
    about to close its connections, or a pub/sub's teardown under way) drops connections with
    their sockets open; left to run, each socket's close is bounded by the clients' own
    ``socket_connect_timeout`` (op_timeout_ms). ``users`` (tasks of ours still running on the
    clients, already cancelled) finish first, so that none reopens a connection once closed."""
    if users:
        await asyncio.wait(users)
    for client in clients:
        try:
            await client.aclose()
        except Exception:  # noqa: BLE001, S112  (a dead connection may fail to close)
            continue


def instruments(fleet: Any, meter_provider: Any) -> Any:
    """The outage counter, and the liveness gauge read from ``fleet`` when metrics export."""
    from opentelemetry import metrics
    from opentelemetry.metrics import CallbackOptions, Observation

    meter = metrics.get_meter("clauderoute", meter_provider=meter_provider)
    ref = weakref.ref(fleet)  # the meter outlives the state: do not keep it alive

    def live(options: CallbackOptions) -> list[Observation]:
        f = ref()
        return (
            []
            if f is None
            else [Observation(1 if f.live else 0, {"state.prefix": f.settings.prefix})]
        )

    meter.create_observable_gauge(
        M_STATE_LIVE, [live], "1", "Whether the shared routing state is in sync with Redis"
    )
    return meter.create_counter(
        M_STATE_OUTAGES, "{outage}", "Times Redis trouble sent routing back to local state"
    )

"""The Redis client for a ``[state] url``: plain, Sentinel (``redis+sentinel://``) or Cluster
(``?cluster=true``). redis-py is imported here only: ``clauderoute[redis]`` is optional."""

from __future__ import annotations

from typing import Any

from ._settings import StateSettings

__all__ = ["connect"]


def connect(s: StateSettings) -> tuple[Any, list[Any]]:
    """A redis-py asyncio client for the URL, and other clients to close with it."""
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

"""``AsyncClient``: configuration → router → SDK-shaped resources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._engine import Engine
from ._provider import Provider
from ._resources.messages import Messages
from ._retry import RetryPolicy
from .routing._breaker import CircuitBreaker
from .routing._hedge import Hedging
from .routing._observe import Observer
from .routing._policy import Policy
from .routing._router import Hook, Router

__all__ = ["AsyncClient"]


class AsyncClient:
    """One async Messages interface over any number of providers.

    Args:
        providers: the providers of the route, in order (instances of ``Provider`` subclasses).
        policy: how candidates are ordered per call (default: configured order, failover).
        timeout: per-attempt timeout, seconds (SDK default 600).
        connect_timeout: seconds to connect (SDK default 5).
        deadline: budget for a whole call, retries and failover included (default: none).
        first_token_timeout: a stream with no content by then fails over.
        retry: backoff timing.
        breaker: circuit breakers per (provider, model); ``False`` turns them off.
        hedging: opt-in hedging of slow first attempts.
        hooks: callables that receive each attempt's frozen ``AttemptInfo``.
        observers: telemetry observers (see ``clauderoute.routing.Observer``).

    Use ``async with AsyncClient(...) as client`` or ``await client.close()``.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        *,
        providers: Sequence[Provider],
        policy: Policy | None = None,
        timeout: float | None = 600.0,
        connect_timeout: float = 5.0,
        deadline: float | None = None,
        first_token_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | bool | None = None,
        hedging: Hedging | None = None,
        hooks: Sequence[Hook] = (),
        observers: Sequence[Observer] = (),
    ) -> None:
        self.engine = Engine(connect_timeout=connect_timeout)
        self.router = Router(providers, engine=self.engine, policy=policy, retry=retry,
                             timeout_s=timeout, deadline_s=deadline,
                             first_token_timeout_s=first_token_timeout, breaker=breaker,
                             hedging=hedging, hooks=hooks, observers=observers)
        self.messages = Messages(self)

    @property
    def providers(self) -> list[Provider]:
        """The configured providers, in order."""
        return list(self.router.providers)

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.router.providers)
        return f"<AsyncClient providers=[{names}] policy={self.router.policy.name}>"

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

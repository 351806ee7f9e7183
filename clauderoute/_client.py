"""``AsyncClient``: configuration → router → SDK-shaped resources."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._engine import MAX_RESPONSE_BYTES, Engine
from ._errors import ConfigurationError, InvalidRequest
from ._provider import Provider
from ._resources.messages import Messages
from ._retry import RetryPolicy
from ._validate import check_seconds
from .routing._breaker import CircuitBreaker
from .routing._hedge import Hedging
from .routing._observe import Observer
from .routing._policy import Policy
from .routing._router import Hook, Router

if TYPE_CHECKING:
    from ._resources.beta import Beta
    from ._resources.models import Models

__all__ = ["AsyncClient"]


class AsyncClient:
    """One async Messages interface over any number of providers.

    Args:
        providers: the providers of the route, in order (instances of ``Provider`` subclasses).
        policy: how candidates are ordered per call (default: configured order, failover).
        timeout: per-attempt timeout, seconds (SDK default 600): the whole answer of a create;
            for a stream, its headers and first content as a whole, then the longest silence
            between two reads (only ``deadline`` bounds a stream that keeps sending).
        connect_timeout: seconds to connect (SDK default 5).
        deadline: budget for a whole call, retries and failover included (default: none).
        first_token_timeout: a stream with no content this many seconds after its request was
            sent (headers included, as TTFT is measured) fails over.
        max_response_bytes: the largest answer read into memory, a whole (decompressed) body
            or one stream event (default 64 MiB); a larger one raises ``ResponseTooLarge`` and
            fails over, like any malformed answer, without reading further. An error answer's
            body is read only up to 64 KiB whatever this says.
        retry: backoff timing.
        breaker: circuit breakers per (provider, model); ``False`` turns them off.
        hedging: opt-in hedging of slow first attempts.
        hooks: callables that receive each attempt's frozen ``AttemptInfo``.
        observers: telemetry observers (see ``clauderoute.routing.Observer``).
        tracing: trace and measure calls with OpenTelemetry (a no-op until the application
            installs the SDK); ``False`` turns it off, a ``TracingObserver`` in ``observers``
            replaces the default one.

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
        tracing: bool = True,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        _check_settings(timeout=timeout, connect_timeout=connect_timeout, deadline=deadline,
                        first_token_timeout=first_token_timeout)
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or \
                max_response_bytes < 1:
            raise ConfigurationError(f"max_response_bytes: must be a positive integer, not "
                                     f"{max_response_bytes!r}")
        if tracing:
            from .tracing import TracingObserver, default_observer  # lazy: OpenTelemetry API

            if not any(isinstance(o, TracingObserver) for o in observers):
                observers = [*observers, default_observer()]
        self.engine = Engine(connect_timeout=connect_timeout,
                             max_response_bytes=max_response_bytes)
        self.router = Router(providers, engine=self.engine, policy=policy, retry=retry,
                             timeout_s=timeout, deadline_s=deadline,
                             first_token_timeout_s=first_token_timeout, breaker=breaker,
                             hedging=hedging, hooks=hooks, observers=observers)
        self.messages = Messages(self)
        self._models: Models | None = None
        self._beta: Beta | None = None

    @property
    def models(self) -> Models:
        """``client.models``: the Models API (loaded on first use)."""
        if self._models is None:
            from ._resources.models import Models  # lazy: not needed to send messages

            self._models = Models(self)
        return self._models

    @property
    def beta(self) -> Beta:
        """``client.beta.files`` and ``client.beta.skills`` (loaded on first use: multipart
        uploads, pagination)."""
        if self._beta is None:
            from ._resources.beta import Beta  # lazy: Files, Skills, multipart

            self._beta = Beta(self)
        return self._beta

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, *,
                    providers_registry: Mapping[str, type[Provider]] | None = None,
                    **overrides: Any) -> AsyncClient:
        """A client as a config file, or the environment alone, describes it.

        The file is ``path``, else ``$CLAUDEROUTE_CONFIG``, else ``./clauderoute.toml``; with
        none, one provider of kind ``$CLAUDEROUTE_PROVIDER`` (default ``anthropic``) configured
        from its platform's environment. ``$CLAUDEROUTE_PROVIDER`` with a file pins the route to
        the provider(s) of that name or kind.

        Args:
            path: the TOML file to read.
            providers_registry: ``{kind: Provider subclass}``; bypasses entry-point discovery.
            **overrides: constructor arguments that win over the file (``deadline=``,
                ``hooks=``, ...).

        Raises:
            ConfigurationError: a key is missing or wrong (the message names it and its line).
            UnknownPlatformError: no provider is installed for a ``kind``.

        .. versionadded:: 0.1
        """
        from ._config import client_settings  # lazy: tomllib and plugin discovery on demand

        settings = client_settings(path, registry=providers_registry)
        return cls(**{**settings, **overrides})

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

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _check_settings(**limits: float | None) -> None:
    """Every time limit is ``None`` or a positive number of seconds (a zero timeout would fail
    every call)."""
    for name, value in limits.items():
        try:
            check_seconds(value, name)
        except InvalidRequest as exc:
            raise ConfigurationError(str(exc)) from None

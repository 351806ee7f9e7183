"""The router's per-(provider, model) state behind one small interface: ``RouteState``.

Health (the circuit breakers), latency statistics, rate-limit observations, budgets and cache
affinity: ``InProcessState`` (the default) keeps them in this process; a fleet backend (Redis,
``clauderoute.fleet``) provides the same members. The router reads its breaker and latency
statistics from the state (``bind_state``) and calls nothing else.

.. versionadded:: 0.2
.. versionchanged:: 0.3 The state holds the breaker and the latency statistics too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from .._ratelimits import RateLimits
from ._affinity import AffinityTable
from ._breaker import CircuitBreaker
from ._budget import Budget, BudgetLimits
from ._stats import LatencyStats

__all__ = ["MAX_SKIP_S", "InProcessState", "RouteState", "bind_state"]

#: The longest one observation may keep a provider skipped (a reset an hour away, or a
#: retry-after of a day, from a buggy or hostile answer, must not take a provider out for long).
MAX_SKIP_S = 60.0


_DEFAULT: Any = object()


@runtime_checkable
class RouteState(Protocol):
    """Health, latency, capacity, budget and cache-affinity state shared by every call of a
    router.

    Contract for implementations (the in-process one and a fleet backend alike):

    * **Keys.** ``provider`` is the configured provider name (``Provider.name``), ``model`` the
      canonical model name of the call (``call.params["model"]``), cache keys opaque ``bytes``
      (16 bytes today). Rate limits are per (provider, model); budgets per provider; affinity
      per cache key.
    * **Time.** Every answer is relative: *seconds from now* the caller should wait. The
      implementation owns its clocks (wall time for platform resets, which are absolute
      RFC 3339 times; monotonic time for budget windows).
    * **Cost.** Every method is called on the request path, synchronously, on the event loop:
      it must not block on I/O. A remote backend answers from a local copy and syncs in the
      background (the fleet design's ``sync_ms``); what it cannot know yet it treats as
      absent (admit, no block, no affinity) rather than waiting.
    * **Failure.** No method raises for lack of data or a lost backend: it degrades to the
      answer "no signal" (admit, ``None``). Only programming errors may raise.

    Members:

    ``breaker``
        The ``CircuitBreaker`` of every (provider, model), or ``None`` (no breakers). A fleet
        backend gives a breaker whose openings and probe are fleet-wide (``SharedBreaker``).
    ``latency``
        The ``LatencyStats`` of every (provider, model) (time to first token, or to the whole
        answer), read by the latency policy and hedging; the router records every success.

    Methods:

    ``observe_limits(provider, model, limits)``
        An answer (success or error) from ``provider`` for ``model`` said ``limits``. The
        newest observation replaces the previous one for that pair (a fleet backend keeps the
        one with the latest ``limits.observed_at``).
    ``capacity_block(provider, model, input_tokens, output_tokens)``
        ``None`` if a call needing ``input_tokens`` in and up to ``output_tokens`` out may go to
        ``provider`` as far as the last observation says, the requests now in flight to it
        (``capacity_start`` minus ``capacity_end``) counted as spent (see
        ``RateLimits.blocked``); else ``(seconds, reason)``: skip it for ``seconds`` (at most
        ``MAX_SKIP_S``). ``reason`` starts with ``rate_limited:``.
    ``capacity_start(provider, model)`` / ``capacity_end(provider, model)``
        A request to ``provider`` for ``model`` was sent / got its answer or failed. Every start
        has exactly one end. These counts stay in the process, also in a fleet: sharing them
        would put a Redis round trip on every call's path, and the next answer's headers
        correct the estimate anyway; what must hold across a fleet is a budget (below).
    ``budget_admit(provider, input_estimate)``
        Check and take, in one atomic step, one request and ``input_estimate`` input tokens
        of the provider's client-side budget. ``None``: admitted (taken). Else
        ``(seconds, reason)`` and nothing is taken; ``reason`` starts with ``budget:``. A
        provider without a configured budget is always admitted. Across a fleet the step
        must be atomic (a Lua script or ``INCRBY`` then compare-and-undo), so N processes
        never admit more than the limit between them.
    ``budget_settle(provider, input_estimate, input_used, output_used)``
        An admitted call got a billed answer: replace the input estimate by ``input_used``,
        add ``output_used``.
    ``budget_release(provider, input_estimate)``
        An admitted call got no billed answer: give the input estimate back (the request
        itself stays counted).
    ``affinity_get(keys)``
        The provider that last served the first of ``keys`` (newest first) still alive, or
        ``None``. A hit refreshes nothing; ``affinity_put`` does.
    ``affinity_put(keys, provider)``
        ``provider`` served a call that wrote or read ``keys``: each ``(key, ttl_s)`` maps to it
        for ``ttl_s`` seconds from now. Memory is bounded (least recently used keys go first).
    ``record_latency(provider, model, seconds)``
        No longer called (0.3): the router records into ``latency``, which a fleet backend
        shares. Kept so implementations written for 0.2 still type-check.

    .. versionadded:: 0.2
    .. versionchanged:: 0.3 ``breaker`` and ``latency``.
    """

    breaker: CircuitBreaker | None
    latency: LatencyStats

    def observe_limits(self, provider: str, model: str, limits: RateLimits) -> None: ...
    def capacity_block(self, provider: str, model: str, input_tokens: int,
                       output_tokens: int) -> tuple[float, str] | None: ...
    def capacity_start(self, provider: str, model: str) -> None: ...
    def capacity_end(self, provider: str, model: str) -> None: ...
    def budget_admit(self, provider: str, input_estimate: int) -> tuple[float, str] | None: ...
    def budget_settle(self, provider: str, input_estimate: int, input_used: int,
                      output_used: int) -> None: ...
    def budget_release(self, provider: str, input_estimate: int) -> None: ...
    def affinity_get(self, keys: tuple[bytes, ...]) -> str | None: ...
    def affinity_put(self, keys: tuple[tuple[bytes, float], ...], provider: str) -> None: ...
    def record_latency(self, provider: str, model: str, seconds: float) -> None: ...


class InProcessState:
    """``RouteState`` in this process's memory (the default).

    Args:
        budgets: provider name → its client-side limits.
        max_affinity_keys: bound on cache keys remembered.
        wall_clock: seconds since the epoch (``time.time``), for platform resets.
        clock: monotonic seconds (``time.monotonic``), for budgets and affinity TTLs.
        breaker: the circuit breakers (default: ``CircuitBreaker()``; ``None``: none).
        latency: the latency statistics (default: a new ``LatencyStats``).

    .. versionadded:: 0.2
    .. versionchanged:: 0.3 ``breaker`` and ``latency``.
    """

    def __init__(self, budgets: Mapping[str, BudgetLimits] | None = None, *,
                 max_affinity_keys: int = 10_000,
                 wall_clock: Callable[[], float] = time.time,
                 clock: Callable[[], float] = time.monotonic,
                 breaker: CircuitBreaker | None | Any = _DEFAULT,
                 latency: LatencyStats | None = None) -> None:
        self.breaker: CircuitBreaker | None = (CircuitBreaker() if breaker is _DEFAULT
                                               else breaker)
        self.latency = latency if latency is not None else LatencyStats()
        self.wall_clock, self.clock = wall_clock, clock
        self.limits: dict[tuple[str, str], RateLimits] = {}
        self.in_flight: dict[tuple[str, str], int] = {}
        self.budgets = {name: Budget(b, clock) for name, b in (budgets or {}).items()
                        if b.rpm or b.input_tpm or b.output_tpm}
        self.affinity = AffinityTable(max_affinity_keys)
        #: Whether anything reads the affinity: a router with a choice of providers uses this
        #: state, or ``affinity_get`` was called. Until then ``Signals`` record none (hashing
        #: each cached prompt for a table nothing reads would be work for nothing).
        self.affinity_wanted = False

    def observe_limits(self, provider: str, model: str, limits: RateLimits) -> None:
        """See ``RouteState``."""
        if len(self.limits) >= 4096 and (provider, model) not in self.limits:
            self.limits.clear()  # bounded: (provider, model) pairs are few in practice
        self.limits[provider, model] = limits

    def capacity_block(self, provider: str, model: str, input_tokens: int,
                       output_tokens: int) -> tuple[float, str] | None:
        """See ``RouteState``."""
        seen = self.limits.get((provider, model))
        if seen is None:
            return None
        now = self.wall_clock()
        hit = seen.blocked(input_tokens, output_tokens, now,
                           self.in_flight.get((provider, model), 0))
        if hit is None:
            return None
        return min(hit[0] - now, MAX_SKIP_S), hit[1]

    def capacity_start(self, provider: str, model: str) -> None:
        """See ``RouteState``."""
        key = (provider, model)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1

    def capacity_end(self, provider: str, model: str) -> None:
        """See ``RouteState``."""
        key = (provider, model)
        n = self.in_flight.get(key, 0) - 1
        if n > 0:
            self.in_flight[key] = n
        else:
            self.in_flight.pop(key, None)

    def budget_admit(self, provider: str, input_estimate: int) -> tuple[float, str] | None:
        """See ``RouteState``."""
        b = self.budgets.get(provider)
        return None if b is None else b.admit(input_estimate)

    def budget_settle(self, provider: str, input_estimate: int, input_used: int,
                      output_used: int) -> None:
        """See ``RouteState``."""
        b = self.budgets.get(provider)
        if b is not None:
            b.settle(input_estimate, input_used, output_used)

    def budget_release(self, provider: str, input_estimate: int) -> None:
        """See ``RouteState``."""
        b = self.budgets.get(provider)
        if b is not None:
            b.release(input_estimate)

    def affinity_get(self, keys: tuple[bytes, ...]) -> str | None:
        """See ``RouteState``."""
        self.affinity_wanted = True
        return self.affinity.get(keys, self.clock())

    def affinity_put(self, keys: tuple[tuple[bytes, float], ...], provider: str) -> None:
        """See ``RouteState``."""
        self.affinity.put(keys, provider, self.clock())

    def record_latency(self, provider: str, model: str, seconds: float) -> None:
        """See ``RouteState`` (a no-op here)."""


def bind_state(state: Any, breaker: CircuitBreaker | bool | None) -> Any:
    """``state`` (a new ``InProcessState`` if ``None``) with the router's ``breaker`` argument
    applied: a ``CircuitBreaker`` replaces the state's, ``False`` removes it, ``None`` keeps
    it. A breaker that brings latency statistics (a fleet's) makes them the state's.

    .. versionadded:: 0.3
    """
    if state is None:
        state = InProcessState()
    if isinstance(breaker, CircuitBreaker):
        state.breaker = breaker
    elif breaker is False:
        state.breaker = None
    elif getattr(state, "breaker", _DEFAULT) is _DEFAULT:  # a state written for 0.2
        state.breaker = CircuitBreaker()
    stats = getattr(state.breaker, "stats", None)  # a fleet's breaker: the fleet's statistics
    if stats is not None:
        state.latency = stats
    elif getattr(state, "latency", None) is None:
        state.latency = LatencyStats()
    return state

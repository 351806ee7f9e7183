"""The rest of the shared state: rate-limit observations, cache affinity, latency, hedging.

``FleetRouteState`` wraps an in-process ``RouteState`` (the local copy the router reads) and
replays what other processes published onto it; budgets go to ``FleetBudget`` while the fleet
is live. ``FleetLatencyStats`` shares time-to-first-token histograms as decayed bucket
summaries, at most once a second per key; ``FleetHedging`` counts calls and hedges fleet-wide.

.. versionadded:: 0.2
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from ..routing._hedge import Hedging
from ..routing._stats import DecayingQuantiles, LatencyStats
from ._budget import FleetBudget, Limits
from ._fleet import FleetState

__all__ = ["FleetHedging", "FleetLatencyStats", "FleetRouteState"]

_SEP = "\x1f"
_enc = msgspec.msgpack.Encoder()
_limits_msg = msgspec.msgpack.Decoder(tuple[str, str, float, msgspec.Raw])
_affinity_msg = msgspec.msgpack.Decoder(str)
_lat_msg = msgspec.msgpack.Decoder(tuple[str, str, float, list[tuple[int, float]]])
_hedge_msg = msgspec.msgpack.Decoder(tuple[int, int])
_MAX_WEIGHT = 1e7  # no honest decayed summary holds more samples in one bucket
LIMITS_TTL_S = 60.0  # an observation older than this says nothing (MAX_SKIP_S of the signals)
MAX_OWN_AFFINITY = 4096  # cache keys remembered for re-announcing after a flush


def _rate_limits_type() -> type[Any] | None:
    """The signals' ``RateLimits`` type, where this version has it."""
    try:
        module = importlib.import_module("clauderoute._ratelimits")
    except ImportError:
        return None
    found: type[Any] | None = getattr(module, "RateLimits", None)
    return found


class FleetRouteState:
    """A ``RouteState`` shared by a fleet: reads answer from ``local`` (no round trip), writes
    go to ``local`` and to the fleet, remote writes are replayed onto ``local``.

    Args:
        fleet: the shared state.
        local: the in-process ``RouteState`` (``InProcessState``) holding the local copy.
        budgets: provider name → limits, enforced fleet-wide while the fleet is live (``local``
            enforces its own copy of them, per process, while it is not).
        limits_type: the type rate-limit observations decode to (``RateLimits``).

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        fleet: FleetState,
        local: Any,
        *,
        budgets: Mapping[str, Limits] | None = None,
        limits_type: type[Any] | None = None,
        window_s: float = 60.0,
    ) -> None:
        self.fleet, self.local = fleet, local
        #: The breakers and latency statistics (``RouteState``): the fleet's ``SharedBreaker``
        #: and ``FleetLatencyStats`` when ``configure`` builds it; else the local copy's.
        self.breaker: Any = getattr(local, "breaker", None)
        self.latency: Any = getattr(local, "latency", None)
        self.limits_type = limits_type if limits_type is not None else _rate_limits_type()
        self.budgets = {
            name: FleetBudget(fleet, name, b, window_s=window_s)
            for name, b in (budgets or {}).items()
            if b.rpm or b.input_tpm or b.output_tpm
        }
        self._admitted_by_fleet: dict[str, int] = {}
        self._observed: dict[tuple[str, str], float] = {}
        #: this process's newest observation per (provider, model): (published payload, time)
        self._own_limits: dict[tuple[str, str], tuple[bytes, float]] = {}
        #: cache keys this process placed, not since placed by another: hex key → (published
        #: payload, wall-clock time it expires)
        self._own_affinity: dict[str, tuple[bytes, float]] = {}
        fleet.register("rl", self._remote_limits)
        fleet.register("af", self._remote_affinity)
        fleet.on_sync(self._reannounce)

    # rate limits --------------------------------------------------------------------------------

    def observe_limits(self, provider: str, model: str, limits: Any) -> None:
        """See ``RouteState``: kept here, and published (the newest observation wins)."""
        self.local.observe_limits(provider, model, limits)
        if self.limits_type is None:
            self.limits_type = type(limits)
        at = float(getattr(limits, "observed_at", 0.0) or time.time())
        self._observed[provider, model] = at
        payload = _enc.encode((provider, model, at, msgspec.Raw(_enc.encode(limits))))
        self.fleet.publish("rl", f"{provider}{_SEP}{model}", payload, LIMITS_TTL_S)
        if len(self._own_limits) >= 4096 and (provider, model) not in self._own_limits:
            self._own_limits.clear()  # bounded, as the local copy is
        self._own_limits[provider, model] = (payload, at)

    def _reannounce(self) -> None:
        """After a re-sync (Redis back, flushed or replaced), publish again what this process
        observed or placed that still counts, so a process starting now learns it too."""
        now = time.time()
        for hexkey, (payload, until) in list(self._own_affinity.items()):
            if until <= now:
                del self._own_affinity[hexkey]
                continue
            self.fleet.publish("af", hexkey, payload, until - now)
        for (provider, model), (payload, at) in list(self._own_limits.items()):
            left = LIMITS_TTL_S - (now - at)
            if left <= 0 or self._observed.get((provider, model), 0.0) > at:
                del self._own_limits[provider, model]  # stale, or a newer one came from afar
                continue
            self.fleet.publish("rl", f"{provider}{_SEP}{model}", payload, left)

    def _remote_limits(self, key: str, payload: bytes, ttl_s: float) -> None:
        provider, model, at, raw = _limits_msg.decode(payload)
        if (
            self.limits_type is None
            or not math.isfinite(at)
            or at < self._observed.get((provider, model), 0.0)
        ):
            return
        self._observed[provider, model] = at
        limits = msgspec.msgpack.decode(raw, type=self.limits_type)
        self.local.observe_limits(provider, model, limits)

    def capacity_block(
        self, provider: str, model: str, input_tokens: int, output_tokens: int
    ) -> tuple[float, str] | None:
        """See ``RouteState`` (the local copy answers)."""
        got: tuple[float, str] | None = self.local.capacity_block(
            provider, model, input_tokens, output_tokens
        )
        return got

    def capacity_start(self, provider: str, model: str) -> None:
        """See ``RouteState``: requests in flight are counted per process (the local copy);
        the fleet shares what the platform announced, which already includes everyone's."""
        start = getattr(self.local, "capacity_start", None)
        if start is not None:
            start(provider, model)

    def capacity_end(self, provider: str, model: str) -> None:
        """See ``RouteState``."""
        end = getattr(self.local, "capacity_end", None)
        if end is not None:
            end(provider, model)

    # budgets ------------------------------------------------------------------------------------

    def budget_admit(self, provider: str, input_estimate: int) -> tuple[float, str] | None:
        """See ``RouteState``: the fleet's lease while live, else this process's own budget
        (Redis trouble). Before the first sync the fleet's count is unknown and this process's
        own window would admit what the others already took: the provider is skipped for one
        ``sync_ms``, as while a lease is being reserved (the call goes to the next provider,
        or waits that long when every one is skipped)."""
        b = self.budgets.get(provider)
        if b is None or not self.fleet.live:
            self.fleet.start()
            if b is not None and not self.fleet.failures:  # starting: no trouble seen yet
                return self.fleet.sync_s, "budget: reserving (shared state starting)"
            got: tuple[float, str] | None = self.local.budget_admit(provider, input_estimate)
            return got
        return b.admit(input_estimate)

    def budget_settle(
        self, provider: str, input_estimate: int, input_used: int, output_used: int
    ) -> None:
        """See ``RouteState``."""
        b = self.budgets.get(provider)
        if b is not None and self.fleet.live:
            b.settle(input_estimate, input_used, output_used)
        else:
            self.local.budget_settle(provider, input_estimate, input_used, output_used)

    def budget_release(self, provider: str, input_estimate: int) -> None:
        """See ``RouteState``."""
        b = self.budgets.get(provider)
        if b is not None and self.fleet.live:
            b.release(input_estimate)
        else:
            self.local.budget_release(provider, input_estimate)

    # cache affinity -----------------------------------------------------------------------------

    def affinity_get(self, keys: tuple[bytes, ...]) -> str | None:
        """See ``RouteState`` (the local copy answers)."""
        self.fleet.start()
        got: str | None = self.local.affinity_get(keys)
        return got

    def affinity_put(self, keys: tuple[tuple[bytes, float], ...], provider: str) -> None:
        """See ``RouteState``: kept here and published, each key expiring with its TTL."""
        self.local.affinity_put(keys, provider)
        payload = _enc.encode(provider)
        own, now = self._own_affinity, time.time()
        for key, ttl_s in keys:
            hexkey = key.hex()
            self.fleet.publish("af", hexkey, payload, ttl_s)
            if len(own) >= MAX_OWN_AFFINITY and hexkey not in own:
                own.clear()  # bounded, as the local copy is
            own[hexkey] = (payload, now + ttl_s)

    def _remote_affinity(self, key: str, payload: bytes, ttl_s: float) -> None:
        self.local.affinity_put(((bytes.fromhex(key), ttl_s),), _affinity_msg.decode(payload))
        self._own_affinity.pop(key, None)  # placed again by another process: theirs now

    def record_latency(self, provider: str, model: str, seconds: float) -> None:
        """See ``RouteState`` (not called: latency is shared by ``latency``)."""


class FleetLatencyStats(LatencyStats):
    """``LatencyStats`` whose histograms include every process's samples.

    Each process publishes, at most once a second per (provider, model), its *own* decayed
    histogram; a receiver adds what grew since the sender's previous summary. Summaries expire
    after ``ttl_s``, so a restarted process catches up on the last minutes of the fleet.

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        fleet: FleetState,
        half_life_s: float = 60.0,
        *,
        publish_every_s: float = 1.0,
        ttl_s: float = 600.0,
    ) -> None:
        super().__init__(half_life_s)
        self.fleet, self.publish_every_s, self.ttl_s = fleet, publish_every_s, ttl_s
        self._own: dict[tuple[str, str], DecayingQuantiles] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._seen: dict[tuple[str, str, str], tuple[float, list[tuple[int, float]]]] = {}
        self._last_publish = 0.0
        fleet.register("lat", self._remote)
        fleet.on_tick(self._tick)

    def record(self, provider: str, model: str, seconds: float) -> None:
        """Add one sample here and to this process's own summary."""
        super().record(provider, model, seconds)
        key = (provider, model)
        own = self._own.get(key)
        if own is None:
            own = self._own[key] = DecayingQuantiles(self.half_life_s)
        own.add(seconds)
        self._dirty.add(key)
        self.fleet.start()

    async def _tick(self, redis: Any) -> None:
        now = time.monotonic()
        if not self._dirty or now - self._last_publish < self.publish_every_s:
            return
        self._last_publish, dirty, self._dirty = now, self._dirty, set()
        wall = time.time()
        for p, m in dirty:
            payload = _enc.encode((p, m, wall, self._own[p, m].buckets(now)))
            self.fleet.publish("lat", f"{self.fleet.origin}{_SEP}{p}{_SEP}{m}", payload, self.ttl_s)

    def _remote(self, key: str, payload: bytes, ttl_s: float) -> None:
        origin = key.split(_SEP, 1)[0]
        if origin == self.fleet.origin:
            return
        p, m, at, buckets = _lat_msg.decode(payload)
        if not math.isfinite(at) or any(not 0 <= w <= _MAX_WEIGHT for _, w in buckets):
            return  # a foreign or corrupted summary: ignored
        f = 0.5 ** (max(0.0, time.time() - at) / self.half_life_s)  # decay to now
        prev = self._seen.get((origin, p, m))
        self._seen[origin, p, m] = (at, buckets)
        if prev is not None:
            if at <= prev[0]:
                return
            old = dict(prev[1])
            g = 0.5 ** ((at - prev[0]) / self.half_life_s)
            buckets = [(i, w - old.get(i, 0.0) * g) for i, w in buckets]
        self.histogram(p, m).merge([(i, w * f) for i, w in buckets if w > 0])


class FleetHedging(Hedging):
    """``Hedging`` whose budget (hedged calls as a fraction of calls) holds across the fleet:
    every process publishes its counts once a second, each adds the others' latest counts.

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        fleet: FleetState,
        after: float | str = "p95",
        *,
        budget: float = 0.1,
        min_samples: float = 5.0,
    ) -> None:
        super().__init__(after, budget=budget, min_samples=min_samples)
        self.fleet = fleet
        self._others: dict[str, tuple[int, int]] = {}
        self._sent = (0, 0)
        fleet.register("hg", self._remote)
        fleet.on_tick(self._tick)

    def allow(self) -> bool:
        """Count a call; whether the fleet's budget still allows hedging it."""
        self.fleet.start()
        self.calls += 1
        calls = self.calls + sum(c for c, _ in self._others.values())
        hedged = self.hedged + sum(h for _, h in self._others.values())
        return hedged < self.budget * calls + 1

    async def _tick(self, redis: Any) -> None:
        if (self.calls, self.hedged) != self._sent:
            self._sent = (self.calls, self.hedged)
            self.fleet.publish("hg", self.fleet.origin, _enc.encode(self._sent), 60.0)

    def _remote(self, key: str, payload: bytes, ttl_s: float) -> None:
        calls, hedged = _hedge_msg.decode(payload)
        if key != self.fleet.origin and 0 <= hedged <= calls:
            self._others[key] = (calls, hedged)

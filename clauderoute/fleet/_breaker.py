"""``SharedBreaker``: the circuit breaker, one per (provider, model) for the whole fleet.

Each process keeps its own ``CircuitBreaker`` (the local copy); this subclass publishes when a
circuit opens or closes and applies what other processes published, so one process opening a
circuit stops the others within ``sync_ms``. Half-open admits a single probe *fleet-wide*: when
a cooldown ends, the sync task (not a call) claims the probe with ``SET NX PX``; only the
process that won lets one call through, the others keep skipping the provider until the
probe's outcome is published (close, or open again with the doubled cooldown). A probe whose
process died is claimable again once its claim expires.

While the fleet state is not ``live`` every decision is the local breaker's (today's behaviour).

.. versionadded:: 0.2
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import msgspec

from ..routing._breaker import CLOSED, HALF_OPEN, CircuitBreaker
from ..routing._stats import LatencyStats
from ._fleet import FleetState

__all__ = ["SharedBreaker"]

_KIND = "br"
_PROBE = "probe"


class _Change(msgspec.Struct, array_like=True):
    provider: str
    model: str
    open_until: float  # wall time the cooldown ends; 0: closed
    cooldown: float


_dec = msgspec.msgpack.Decoder(_Change)
_enc = msgspec.msgpack.Encoder()


class SharedBreaker(CircuitBreaker):
    """A ``CircuitBreaker`` whose openings, closings and half-open probe are fleet-wide.

    Args:
        fleet: the shared state.
        probe_ttl_s: how long a claimed probe stays claimed if its process never reports.
        wall_clock: seconds since the epoch (cooldowns cross processes in wall time).

    Other arguments are ``CircuitBreaker``'s.

    .. versionadded:: 0.2
    """

    def __init__(self, fleet: FleetState, *, threshold: int = 5, cooldown_s: float = 5.0,
                 max_cooldown_s: float = 120.0, clock: object = None,
                 probe_ttl_s: float = 30.0,
                 wall_clock: Callable[[], float] = time.time) -> None:
        super().__init__(threshold=threshold, cooldown_s=cooldown_s,
                         max_cooldown_s=max_cooldown_s, clock=clock)
        self.fleet = fleet
        self.probe_ttl_s = probe_ttl_s
        self.wall_clock = wall_clock
        #: (provider, model) -> "ready" (this process won the probe), "used" or "lost"
        self._probe: dict[tuple[str, str], str] = {}
        self._lost_at: dict[tuple[str, str], float] = {}
        #: Latency statistics shared by the same fleet, adopted by the router when set.
        self.stats: LatencyStats | None = None
        fleet.register(_KIND, self._remote)
        fleet.on_tick(self._claim_probes)
        fleet.on_sync(self._reannounce)

    # --- decisions on the request path (local copy only) ---------------------------------------
    # Everything goes through CircuitBreaker's public methods (claim, release, holds, state,
    # on_open/on_close, force_open/force_close, opened, tripped_keys): no private attribute.

    def allow(self, provider: str, model: str) -> bool:
        """Whether an attempt may go to this key now (claims the probe when half-open)."""
        return self.claim(provider, model) is not None

    def claim(self, provider: str, model: str) -> int | None:
        """``None``: skip this key; ``0``: closed; else the number of the probe now held."""
        self.fleet.start()
        if self.state(provider, model) == CLOSED:
            return 0
        if not self.fleet.live:
            return super().claim(provider, model)
        key = (provider, model)
        if self._probe.get(key) != "ready":
            return None  # another process holds the probe, or the claim is not back yet
        got = super().claim(provider, model)  # None while cooling down or already probing
        if got:
            self._probe[key] = "used"
        return got

    def release(self, provider: str, model: str, claim: int) -> None:
        """Give back an unused probe claim (it stays this process's to use)."""
        if self.holds(provider, model, claim):
            super().release(provider, model, claim)
            if self._probe.get((provider, model)) == "used":
                self._probe[provider, model] = "ready"

    def success(self, provider: str, model: str) -> None:
        """An attempt succeeded: close the circuit here and across the fleet."""
        self.fleet.start()  # (the router asks allow() only while some circuit is tripped)
        super().success(provider, model)

    def on_close(self, provider: str, model: str) -> None:
        """A success closed a circuit here: tell the fleet."""
        self._probe.pop((provider, model), None)
        self._announce(provider, model, 0.0, 0.0)

    def on_open(self, provider: str, model: str, cooldown_s: float) -> None:
        """A failure opened (or re-opened) a circuit here: tell the fleet."""
        self._probe.pop((provider, model), None)
        self._announce(provider, model, self.wall_clock() + cooldown_s, cooldown_s)

    async def aclose(self) -> None:
        """Stop the fleet's sync task and close its connections, giving back a half-open
        probe this process holds (another process can then probe at once)."""
        held = tuple((_PROBE, f"{p}\x1f{m}") for (p, m), v in self._probe.items()
                     if v in ("ready", "used"))
        await self.fleet.aclose(held)

    def _reannounce(self) -> None:
        """After a re-sync, publish every circuit this process sees open (a flushed or new
        Redis, or a process that joined while Redis was away, learns them again)."""
        for p, m in self.tripped_keys():
            got = self.opened(p, m)
            if got is not None:
                self._announce(p, m, self.wall_clock() + got[0], got[1])

    def _announce(self, provider: str, model: str, until: float, cooldown: float) -> None:
        payload = _enc.encode(_Change(provider, model, until, cooldown))
        ttl = (until - self.wall_clock() if until else 0.0) + self.max_cooldown_s
        self.fleet.publish(_KIND, f"{provider}\x1f{model}", payload, ttl)
        # The probe's outcome is known: free the claim (an empty value that expires at once).
        self.fleet.publish(_PROBE, f"{provider}\x1f{model}", b"", 0.001)

    # --- merging what other processes said -------------------------------------------------------

    def _remote(self, key: str, payload: bytes, ttl_s: float) -> None:
        c = _dec.decode(payload)
        self._probe.pop((c.provider, c.model), None)
        if not c.open_until:
            self.force_close(c.provider, c.model)
            return
        if not (math.isfinite(c.open_until) and math.isfinite(c.cooldown)):
            return  # a foreign or corrupted value: ignored
        # a peer's clock or value cannot keep a circuit open past the ceiling (force_open caps
        # it); a cooldown already over means half-open: the fleet's one probe decides, not us
        self.force_open(c.provider, c.model, c.open_until - self.wall_clock(), c.cooldown)

    async def _claim_probes(self, redis: Any) -> None:
        """For every open circuit whose cooldown is over, try to win the fleet's one probe."""
        now = self.now()
        for key in self.tripped_keys():
            if self.state(*key) != HALF_OPEN:
                continue  # still cooling down
            got = self._probe.get(key)
            if got in ("ready", "used") or (got == "lost" and
                                            now - self._lost_at.get(key, now) < self.probe_ttl_s):
                continue  # the winner may have died: its claim expires after probe_ttl_s
            name = self.fleet.key(_PROBE, f"{key[0]}\x1f{key[1]}")
            won = await self.fleet.op(redis.set(name, self.fleet.origin.encode(), nx=True,
                                                px=int(self.probe_ttl_s * 1000)))
            self._probe[key] = "ready" if won else "lost"
            self._lost_at[key] = now

"""A circuit breaker per (provider, model).

closed ──(``threshold`` failures in a row)──▶ open ──(cooldown elapsed)──▶ half-open
   ▲                                                                            │
   └──────────────(the one probe succeeds)─────────────────────────────────────┘
                  (the probe fails: open again, cooldown doubled up to ``max_cooldown_s``)

A platform's ``retry-after`` lengthens the cooldown: it is the platform saying when to come back;
but no cooldown ever exceeds ``max_cooldown_s``, so one absurd header cannot shut a provider out.
Only failures that would fail over count (a 400 says nothing about the platform's health).

Half-open admits exactly one probe per cooldown: ``claim`` hands it to one call, every other
call skips the provider until the probe's outcome closes or re-opens the circuit; a claim its
call did not use (the call succeeded elsewhere first, or was cancelled) is given back with
``release``, so a half-open circuit can never be left waiting for a probe that never comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

from .._retry import hint_seconds

__all__ = ["Breaker", "CircuitBreaker"]

CLOSED, HALF_OPEN, OPEN = 0, 1, 2


class Breaker:
    """The state of one (provider, model)."""

    __slots__ = ("claims", "cooldown", "failures", "opened_at", "probing", "state")

    def __init__(self) -> None:
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.cooldown = 0.0
        self.probing = False
        self.claims = 0  # numbers each probe claim, so a stale release cannot free a newer one


class CircuitBreaker:
    """Breakers for every (provider, model) of a router.

    Args:
        threshold: consecutive failures that open the circuit.
        cooldown_s: first cooldown before a half-open probe.
        max_cooldown_s: ceiling of the doubling cooldown.
    """

    def __init__(self, *, threshold: int = 5, cooldown_s: float = 5.0,
                 max_cooldown_s: float = 120.0, clock: object = None) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.max_cooldown_s = max(max_cooldown_s, cooldown_s)
        self._clock: Callable[[], float] = (cast("Callable[[], float]", clock) if callable(clock)
                                             else time.monotonic)
        self._b: dict[tuple[str, str], Breaker] = {}
        #: How many keys are not closed (open or half-open): 0 lets the router skip its checks.
        self.tripped = 0

    def _get(self, key: tuple[str, str]) -> Breaker:
        b = self._b.get(key)
        if b is None:
            b = self._b[key] = Breaker()
        return b

    def state(self, provider: str, model: str) -> int:
        """0 closed, 1 half-open, 2 open (the ``clauderoute.circuit.state`` gauge values)."""
        b = self._b.get((provider, model))
        if b is None:
            return CLOSED
        if b.state == OPEN and self._clock() - b.opened_at >= b.cooldown:
            return HALF_OPEN
        return b.state

    def allow(self, provider: str, model: str) -> bool:
        """Whether an attempt may go to this key now (claims the probe when half-open)."""
        return self.claim(provider, model) is not None

    def available(self, provider: str, model: str) -> bool:
        """Whether ``claim`` would admit an attempt now (nothing is claimed).

        .. versionadded:: 0.2
        """
        b = self._b.get((provider, model))
        if b is None or b.state == CLOSED:
            return True
        if b.state == OPEN:
            return self._clock() - b.opened_at >= b.cooldown
        return not b.probing

    def claim(self, provider: str, model: str) -> int | None:
        """``None`` if an attempt may not go to this key now; else ``0`` (closed: no claim
        needed) or the number of the half-open probe this caller now holds (give it back with
        ``release`` if the attempt is not made).

        .. versionadded:: 0.2
        """
        b = self._b.get((provider, model))
        if b is None or b.state == CLOSED:
            return 0
        if b.state == OPEN:
            if self._clock() - b.opened_at < b.cooldown:
                return None
            b.state, b.probing = HALF_OPEN, False
        if b.probing:
            return None
        b.probing = True
        b.claims += 1
        return b.claims

    def holds(self, provider: str, model: str, claim: int) -> bool:
        """Whether probe ``claim`` is still held, unused, on this key.

        .. versionadded:: 0.2
        """
        b = self._b.get((provider, model))
        return b is not None and b.state == HALF_OPEN and b.probing and b.claims == claim

    def release(self, provider: str, model: str, claim: int) -> None:
        """Give back probe ``claim`` unused (no-op if its outcome was already recorded).

        .. versionadded:: 0.2
        """
        b = self._b.get((provider, model))
        if b is not None and b.state == HALF_OPEN and b.probing and b.claims == claim:
            b.probing = False

    def retry_in(self, provider: str, model: str) -> float:
        """Seconds until this key accepts a probe (0 if it does now)."""
        b = self._b.get((provider, model))
        if b is None or b.state != OPEN:
            return 0.0
        return max(0.0, b.opened_at + b.cooldown - self._clock())

    def success(self, provider: str, model: str) -> None:
        """An attempt succeeded: close the circuit."""
        b = self._b.get((provider, model))
        if b is not None:
            was = b.state
            if was != CLOSED:
                self.tripped -= 1
            b.state, b.failures, b.probing, b.cooldown = CLOSED, 0, False, 0.0
            if was != CLOSED:
                self.on_close(provider, model)

    def failure(self, provider: str, model: str, retry_after: float | None = None) -> None:
        """An attempt failed in a way that says the platform is unhealthy."""
        b = self._get((provider, model))
        b.failures += 1
        if b.state == HALF_OPEN or (b.state == CLOSED and b.failures >= self.threshold):
            base = b.cooldown * 2 if b.cooldown else self.cooldown_s
            # The platform's hint may lengthen the cooldown, never past the ceiling.
            b.cooldown = min(self.max_cooldown_s, max(base, hint_seconds(retry_after) or 0.0))
            if b.state == CLOSED:
                self.tripped += 1
            b.state, b.opened_at, b.probing = OPEN, self._clock(), False
            self.on_open(provider, model, b.cooldown)

    # --- for a breaker whose state is shared (``clauderoute.fleet``), through public methods ---

    def on_open(self, provider: str, model: str, cooldown_s: float) -> None:
        """Called when an attempt's failure opened (or re-opened) this key's circuit for
        ``cooldown_s`` seconds; a subclass that shares circuits publishes it here. Not called
        for ``force_open``.

        .. versionadded:: 0.3
        """

    def on_close(self, provider: str, model: str) -> None:
        """Called when a success closed a circuit that was open or half-open (not for
        ``force_close``).

        .. versionadded:: 0.3
        """

    def now(self) -> float:
        """The breaker's clock (monotonic seconds; a test may give a fake one).

        .. versionadded:: 0.3
        """
        return self._clock()

    def tripped_keys(self) -> list[tuple[str, str]]:
        """The (provider, model) keys whose circuit is not closed.

        .. versionadded:: 0.3
        """
        return [k for k, b in self._b.items() if b.state != CLOSED]

    def opened(self, provider: str, model: str) -> tuple[float, float] | None:
        """``(seconds left, cooldown)`` while this key's circuit is open and cooling down;
        ``None`` otherwise.

        .. versionadded:: 0.3
        """
        b = self._b.get((provider, model))
        if b is None or b.state != OPEN:
            return None
        left = b.opened_at + b.cooldown - self._clock()
        return (left, b.cooldown) if left > 0 else None

    def force_open(self, provider: str, model: str, left_s: float, cooldown_s: float) -> bool:
        """Open this key's circuit with ``left_s`` of a ``cooldown_s`` cooldown to go (another
        process opened it), both capped at ``max_cooldown_s``; a circuit already open for
        longer keeps its own. Returns whether anything changed.

        .. versionadded:: 0.3
        """
        left = max(0.0, min(left_s, self.max_cooldown_s))
        b = self._get((provider, model))
        now = self._clock()
        if b.state == OPEN and now + left <= b.opened_at + b.cooldown:
            return False
        if b.state == CLOSED:
            self.tripped += 1
        b.state, b.probing = OPEN, False
        b.cooldown = max(0.0, min(cooldown_s, self.max_cooldown_s))
        b.opened_at = now + left - b.cooldown
        return True

    def force_close(self, provider: str, model: str) -> None:
        """Close this key's circuit (another process's probe succeeded).

        .. versionadded:: 0.3
        """
        b = self._get((provider, model))
        if b.state != CLOSED:
            self.tripped -= 1
        b.state, b.failures, b.probing, b.cooldown = CLOSED, 0, False, 0.0

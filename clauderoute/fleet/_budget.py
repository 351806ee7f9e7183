"""Fleet-wide client-side budgets (``rpm``, ``input_tpm``, ``output_tpm``) with batched leases.

Redis holds one counter per provider, limit and window (a sliding-window counter, as the
in-process budget: the current window's count plus the previous window's share that still
overlaps). A Lua script *leases* a batch from it atomically, never past the limit, so N
processes cannot admit more than the limit between them. Each process admits calls from its
lease on the request path without a round trip; the sync task tops the lease up when it runs
low, so one Redis operation serves a batch of calls. A batch starts small and doubles each time
a lease runs dry, up to 2 % of the limit. Tokens leased and not used count as used (the safe
side): a budget may be under-used by at most one batch per process per window.

``output_tpm`` cannot be reserved (the output is unknown until the answer): usage is added in
batches each tick, and a call is admitted while the fleet's last known total is under the limit.

.. versionadded:: 0.2
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from ._fleet import FleetState

__all__ = ["FleetBudget", "Limits"]

# KEYS: current window, previous window. ARGV: want, limit, previous window's overlap, ttl ms.
# Returns the granted count (0 .. want) and takes it.
_LEASE = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local free = math.floor(tonumber(ARGV[2]) - cur - prev * tonumber(ARGV[3]))
local grant = math.min(tonumber(ARGV[1]), free)
if grant <= 0 then return 0 end
redis.call('INCRBY', KEYS[1], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return grant
"""
# KEYS as above. ARGV: amount to add, overlap, ttl ms. Returns the window's usage after it.
_ADD = """
local cur = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
return math.floor(cur + prev * tonumber(ARGV[2]))
"""


class Limits(Protocol):
    """What a budget needs of its limits (``BudgetLimits`` of the signals work fits)."""

    @property
    def rpm(self) -> int | None: ...
    @property
    def input_tpm(self) -> int | None: ...
    @property
    def output_tpm(self) -> int | None: ...


class _Lease:
    """This process's share of one fleet counter for the current window."""

    __slots__ = (
        "avail",
        "batch",
        "debt",
        "exhausted",
        "given",
        "limit",
        "max_batch",
        "name",
        "want",
        "window",
    )

    def __init__(self, name: str, limit: int) -> None:  # name: "rpm" or a token limit
        self.name, self.limit = name, limit
        # Start small (a fleet of many processes must not lease the budget away idle), double
        # each time the lease runs dry between ticks, up to 2 % of the limit.
        self.max_batch = max(1, limit // 50)
        self.batch = min(self.max_batch, 16 if name == "rpm" else 16 * 1024)
        self.window = -1
        self.avail = self.debt = self.want = self.given = 0
        self.exhausted = False

    def roll(self, window: int) -> None:
        if window != self.window:  # a lease belongs to its window: the rest is spent there
            self.window, self.avail, self.exhausted, self.want = window, 0, False, 0
            self.given = 0

    def take(self, n: int) -> bool:
        if self.avail >= n:
            self.avail -= n
            self.given += n  # taken by calls still under way, this window
            return True
        self.want = max(self.want, n - self.avail)
        return False

    def done(self, n: int, back: int, window: int) -> None:
        """A call that took ``n`` ended; ``back`` of them return to the lease, but only while
        the window it was taken in lasts: what the fleet counted in a past window must not
        become admissible in this one (calls admitted before the edge end after it)."""
        if window == self.window and self.given >= n:
            self.given -= n
            self.avail += back


class FleetBudget:
    """The fleet's budget of one provider (the in-process ``Budget``'s methods).

    Args:
        fleet: the shared state.
        provider: the provider's name.
        limits: its limits (``rpm``, ``input_tpm``, ``output_tpm``; ``None``: no limit).
        window_s: the window (60 s: limits are per minute).
        wall_clock: seconds since the epoch (windows are shared by processes in wall time).

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        fleet: FleetState,
        provider: str,
        limits: Limits,
        *,
        window_s: float = 60.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.fleet, self.provider = fleet, provider
        self.window_s, self.wall_clock = window_s, wall_clock
        self.requests = _Lease("rpm", limits.rpm) if limits.rpm else None
        self.input = _Lease("input_tpm", limits.input_tpm) if limits.input_tpm else None
        self.output_limit = limits.output_tpm
        self.output_seen = 0  # the fleet's output total this window, as of the last tick
        self.output_pending = 0
        self._out_window = -1
        fleet.on_tick(self._tick)

    def _window(self) -> tuple[int, float]:
        now = self.wall_clock()
        return int(now // self.window_s), now

    def admit(self, input_estimate: int) -> tuple[float, str] | None:
        """Take one request and ``input_estimate`` input tokens from this process's lease;
        ``(seconds, reason)`` if they are not there (and nothing is taken)."""
        self.fleet.start()
        window, now = self._window()
        ends = (window + 1) * self.window_s - now
        req, inp = self.requests, self.input
        if req is not None:
            req.roll(window)
            if not req.take(1):
                return self._refused(req, ends)
        if inp is not None:
            inp.roll(window)
            if not inp.take(min(input_estimate, inp.limit)):
                if req is not None:
                    req.avail += 1
                return self._refused(inp, ends)
        # (the fleet's total as of the last tick, if it was this window's, and what this
        # process used since: a window no tick has reached yet still counts its own use)
        seen = self.output_seen if self._out_window == window else 0
        if self.output_limit is not None and seen + self.output_pending >= self.output_limit:
            if req is not None:
                req.avail += 1
            if inp is not None:
                need = min(input_estimate, inp.limit)
                inp.done(need, need, window)
            return ends, f"budget: output_tpm {self.output_limit} spent"
        return None

    def _refused(self, lease: _Lease, ends: float) -> tuple[float, str]:
        if lease.exhausted:
            return ends, f"budget: {lease.name} {lease.limit} spent"
        self.fleet.soon(self._tick)
        # the lease is topped up within one tick: a short skip, not a failure
        return self.fleet.sync_s, f"budget: {lease.name} reserving"

    def settle(self, input_estimate: int, input_used: int, output_used: int) -> None:
        """An answer arrived: correct the input estimate, count the output."""
        if self.input is not None:
            need = min(input_estimate, self.input.limit)
            diff = input_used - need
            self.input.done(need, max(0, -diff), self._window()[0])
            self.input.debt += max(0, diff)
        if self.output_limit is not None:
            self.output_pending += output_used

    def release(self, input_estimate: int) -> None:
        """An admitted call got no billed answer: its input estimate returns to the lease."""
        if self.input is not None:
            need = min(input_estimate, self.input.limit)
            self.input.done(need, need, self._window()[0])

    def _keys(self, name: str, window: int) -> list[str]:
        tag = f"{{{self.fleet.settings.prefix}:bud:{self.provider}:{name}}}"
        return [f"{tag}:{window}", f"{tag}:{window - 1}"]

    async def _tick(self, redis: Any) -> None:
        window, now = self._window()
        overlap = 1.0 - (now - window * self.window_s) / self.window_s
        ttl = str(int(self.window_s * 2000))
        for lease in (self.requests, self.input):
            if lease is None:
                continue
            lease.roll(window)
            if lease.debt:
                debt, lease.debt = lease.debt, 0
                await self.fleet.op(
                    redis.eval(_ADD, 2, *self._keys(lease.name, window), debt, overlap, ttl)
                )
            if not lease.exhausted and (lease.want or lease.avail * 2 < lease.batch):
                if lease.want:
                    lease.batch = min(lease.max_batch, lease.batch * 2)
                want = max(lease.batch, lease.want)
                got = int(
                    await self.fleet.op(
                        redis.eval(
                            _LEASE,
                            2,
                            *self._keys(lease.name, window),
                            want,
                            lease.limit,
                            overlap,
                            ttl,
                        )
                    )
                )
                if lease.window != window:
                    continue  # the minute turned meanwhile: the grant was counted in the old
                lease.avail += got
                lease.want = 0
                # Short of what was asked: the fleet has nothing left this window. What the
                # lease holds still serves calls that fit it; one that does not is refused as
                # spent (testing only ``avail < 1`` left such a call "reserving" for ever).
                lease.exhausted = got < want
        if self.output_limit is not None:
            add, self.output_pending = self.output_pending, 0
            if window != self._out_window:
                self._out_window = window
            self.output_seen = int(
                await self.fleet.op(
                    redis.eval(_ADD, 2, *self._keys("output_tpm", window), add, overlap, ttl)
                )
            )

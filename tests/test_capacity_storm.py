"""The capacity storm: providers run out of requests and recover (a fake clock moves their
windows) while 2,000 calls run at concurrency 40; no call is lost, and traffic moves on the
announced exhaustion rather than on 429s."""

from __future__ import annotations

import asyncio

from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute.routing import InProcessState, Signals
from clauderoute.testing import Capacity, no_backoff

KEY = "capacity-storm-key"
NAMES = ("a", "b", "c", "d")
CALLS, CONCURRENCY = 2000, 40
WINDOW_S, PER_WINDOW = 10.0, 30  # each provider: 30 requests per 10 (fake) seconds
TICK_EVERY = 60  # the clock moves one window every 60 calls: demand is half the capacity


class WallClock:
    """Fake wall time shared by the emulators' capacity and the client's state."""

    def __init__(self) -> None:
        self.t = 2_000_000_000.0

    def __call__(self) -> float:
        return self.t


async def _storm(emus: dict[str, AnthropicEmulator], signals: bool) -> tuple[int, int, int]:
    wall = WallClock()
    for e in emus.values():
        e.capacity = Capacity(requests=PER_WINDOW, reset_s=WINDOW_S, clock=wall)
    provs = [AnthropicProvider(name=n, base_url=e.url, api_key=KEY, max_retries=3)
             for n, e in emus.items()]
    sig: Signals | bool = Signals(InProcessState(wall_clock=wall)) if signals else False
    done = lost = 0
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int, c: cr.AsyncClient) -> None:
        nonlocal done, lost
        async with gate:
            try:
                await c.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                        messages=[{"role": "user", "content": f"call {i}"}])
            except cr.ClauderouteError:
                lost += 1
            done += 1
            if done % TICK_EVERY == 0:
                wall.t += WINDOW_S

    async with cr.AsyncClient(providers=provs, signals=sig, tracing=False,
                              breaker=False) as c:
        with no_backoff():
            await asyncio.gather(*(one(i, c) for i in range(CALLS)))
    refused = sum(e.capacity.refused for e in emus.values() if e.capacity is not None)
    served = sum(len(e.requests) for e in emus.values()) - refused
    return lost, refused, served


async def test_capacity_storm_loses_no_call_and_meets_few_429s(
        emus: dict[str, AnthropicEmulator]) -> None:
    """With signals: every call answered, and 429s only from calls already in flight when a
    provider announced its last request (fewer than a tenth of the calls)."""
    lost, refused, served = await _storm(emus, signals=True)
    assert lost == 0 and served == CALLS
    assert refused < CALLS // 10, refused


async def test_capacity_storm_without_signals_meets_the_429s(
        emus: dict[str, AnthropicEmulator]) -> None:
    """The control: the same storm without signals learns only from 429s, many more of them."""
    lost, refused, _ = await _storm(emus, signals=False)
    with_signals_bound = CALLS // 10
    assert refused >= with_signals_bound, (lost, refused)

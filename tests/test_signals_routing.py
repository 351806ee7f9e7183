"""Routing on signals over loopback: capacity headers move traffic before the 429, budgets,
prompt-cache affinity under a weighted policy, and cost on every answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._cost import cost
from clauderoute.routing import Weighted
from clauderoute.routing._budget import BudgetLimits
from clauderoute.routing._signals import Signals
from clauderoute.routing._state import InProcessState
from clauderoute.testing import Capacity, no_backoff

KEY = "signals-test-key"
MODEL = "claude-haiku-4-5"
HELLO = [{"role": "user", "content": "Hello signals"}]


class WallClock:
    """A wall clock the test moves by hand, shared by the emulator and the client."""

    def __init__(self) -> None:
        self.t = 1_900_000_000.0

    def __call__(self) -> float:
        return self.t


def client(emus: dict[str, AnthropicEmulator], signals: Signals | bool | None = None,
           **kw: Any) -> cr.AsyncClient:
    provs = [AnthropicProvider(name=n, base_url=e.url, api_key=KEY) for n, e in emus.items()]
    return cr.AsyncClient(providers=provs, signals=signals, tracing=False, **kw)


def served(emu: AnthropicEmulator) -> int:
    return sum(r.operation == "messages.create" for r in emu.requests)


async def create(c: cr.AsyncClient, **kw: Any) -> Any:
    params: dict[str, Any] = {"model": MODEL, "max_tokens": 32, "messages": HELLO} | kw
    return await c.messages.create(**params)


async def test_exhaustion_moves_traffic_before_the_429_and_back_after_reset(
        emus: dict[str, AnthropicEmulator]) -> None:
    """A announces its last request: the next calls go to B with no 429 on A, and come back
    to A once A's reset has passed."""
    wall = WallClock()
    emus["a"].capacity = Capacity(requests=3, reset_s=30, clock=wall)
    sig = Signals(InProcessState(wall_clock=wall))
    async with client(emus, sig) as c:
        routes = [(await create(c)).route for _ in range(3)]
        assert [r.provider for r in routes] == ["a", "a", "a"]  # the third said remaining 0
        for _ in range(4):
            msg = await create(c)
            assert msg.route.provider == "b"
            assert msg.route.attempts[0].provider == "b"
            assert any(s.startswith("a (anthropic): rate_limited: requests remaining 0")
                       for s in msg.route.skipped)
        assert served(emus["a"]) == 3 and emus["a"].capacity.refused == 0  # never a 429
        wall.t += 30
        msg = await create(c)
        assert msg.route.provider == "a" and msg.route.skipped == ()


async def test_without_signals_the_same_traffic_meets_the_429(
        emus: dict[str, AnthropicEmulator]) -> None:
    """The control: with signals off, the fourth call hits A's 429 before failing over."""
    wall = WallClock()
    emus["a"].capacity = Capacity(requests=3, reset_s=30, clock=wall)
    async with client(emus, False) as c:
        with no_backoff():
            for _ in range(4):
                await create(c)
    assert emus["a"].capacity.refused == 1


async def test_tokens_that_cannot_fit_skip_the_provider(
        emus: dict[str, AnthropicEmulator]) -> None:
    """Remaining output tokens smaller than max_tokens skip A; a small call still goes to A."""
    wall = WallClock()
    emus["a"].capacity = Capacity(output_tokens=1000, reset_s=60, clock=wall)
    async with client(emus, Signals(InProcessState(wall_clock=wall))) as c:
        assert (await create(c)).route.provider == "a"
        big = await create(c, max_tokens=999)  # 997 left after the first answer
        assert big.route.provider == "b"
        assert any("rate_limited: output_tokens" in s for s in big.route.skipped)
        assert (await create(c, max_tokens=16)).route.provider == "a"


async def test_everyone_exhausted_fails_clearly_within_the_deadline(
        emus: dict[str, AnthropicEmulator]) -> None:
    """Both out of requests with resets after the deadline: a clear error, no request sent."""
    wall = WallClock()
    for e in emus.values():
        e.capacity = Capacity(requests=1, reset_s=50, clock=wall)
    async with client(emus, Signals(InProcessState(wall_clock=wall))) as c:
        await create(c)
        await create(c)
        before = served(emus["a"]) + served(emus["b"])
        with pytest.raises(cr.AllPlatformsFailed, match="out of capacity.*after the deadline"):
            await create(c, deadline=5)
        assert served(emus["a"]) + served(emus["b"]) == before


async def test_everyone_exhausted_waits_for_the_first_reset(
        emus: dict[str, AnthropicEmulator]) -> None:
    """Both out of requests, the deadline allows: the call waits (no_backoff here) for the
    provider that frees up first and is served by it."""
    wall = WallClock()
    emus["a"].capacity = Capacity(requests=1, reset_s=50, clock=wall)
    emus["b"].capacity = Capacity(requests=1, reset_s=20, clock=wall)
    async with client(emus, Signals(InProcessState(wall_clock=wall))) as c:
        await create(c)
        await create(c)
        wall.t += 20  # b's window has passed on the emulator's clock too
        with no_backoff():
            msg = await create(c)
        assert msg.route.provider == "b"


async def test_rpm_budget_holds_under_concurrency(emus: dict[str, AnthropicEmulator]) -> None:
    """rpm=5 on A and 40 concurrent calls: exactly 5 reach A, the rest go to B."""
    sig = Signals(InProcessState({"a": BudgetLimits(rpm=5)}))
    async with client(emus, sig) as c:
        msgs = await asyncio.gather(*(create(c) for _ in range(40)))
    assert served(emus["a"]) == 5 and served(emus["b"]) == 35
    assert sum(m.route.provider == "a" for m in msgs) == 5
    assert any("budget: rpm 5 spent" in s for m in msgs for s in m.route.skipped)


async def test_output_budget_counts_usage_as_answers_arrive(
        emus: dict[str, AnthropicEmulator]) -> None:
    """output_tpm: once the billed output reaches the budget, A is skipped."""
    sig = Signals(InProcessState({"a": BudgetLimits(output_tpm=5)}))
    async with client(emus, sig) as c:
        msgs = [await create(c) for _ in range(3)]
    assert [m.usage.output_tokens for m in msgs] == [3, 3, 3]  # the emulator's short reply
    assert [m.route.provider for m in msgs] == ["a", "a", "b"]  # 3 < 5, then 6 >= 5


def _cached_chat(i: int) -> list[dict[str, Any]]:
    long = f"conversation {i % 10} " + "context " * 200
    return [{"role": "user", "content": [
        {"type": "text", "text": long, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": f"question {i}"}]}]


async def test_cache_affinity_keeps_a_prefix_on_one_provider_under_weighted(
        emus: dict[str, AnthropicEmulator]) -> None:
    """Under a 50/50 weighted policy, ≥95 % of the calls sharing a cached prefix stay on the
    provider that served it first, while calls without breakpoints stay split."""
    policy = Weighted({"a": 1, "b": 1}, seed=7)
    async with client(emus, Signals(), policy=policy) as c:
        by_prefix: dict[int, list[str]] = {}
        for i in range(200):
            msg = await create(c, messages=_cached_chat(i))
            by_prefix.setdefault(i % 10, []).append(msg.route.provider)
        plain = [(await create(c)).route.provider for _ in range(200)]
    same = sum(max(ps.count("a"), ps.count("b")) for ps in by_prefix.values())
    assert same / 200 >= 0.95
    assert 70 <= plain.count("a") <= 130  # still weighted (seeded draw)
    assert c.router.signals is not None and c.router.signals.affinity_hits >= 180


async def test_cache_affinity_off_spreads_cached_calls(
        emus: dict[str, AnthropicEmulator]) -> None:
    """The control: without affinity the same cached calls are spread by the policy."""
    policy = Weighted({"a": 1, "b": 1}, seed=7)
    async with client(emus, Signals(cache_affinity=False), policy=policy) as c:
        providers = [(await create(c, messages=_cached_chat(i))).route.provider
                     for i in range(100)]
    assert 25 <= providers.count("a") <= 75


async def test_affinity_written_by_a_copy_is_read_by_the_original(
        emus: dict[str, AnthropicEmulator]) -> None:
    """``with_options`` copies share the signals: a prefix the copy sent to ``b`` brings the
    original's next call with that prefix to ``b`` too (its configured order says ``a``)."""
    async with client(emus, Signals()) as c:
        copy = c.with_options(timeout=30.0)
        first = await create(copy, messages=_cached_chat(1), provider="b")
        assert first.route.provider == "b"
        again = await create(c, messages=_cached_chat(1))
        assert again.route.provider == "b"
        assert (await create(c, messages=_cached_chat(2))).route.provider == "a"  # no prefix
        assert c.router.signals is not None and c.router.signals.affinity_hits == 1


async def test_affinity_of_a_lone_provider_is_kept_only_for_a_reader(
        emus: dict[str, AnthropicEmulator]) -> None:
    """A route of one provider alone in this process records no cache affinity (nothing could
    read it); once a route with a choice shares its signals, its answers are recorded and
    read there."""
    signals = Signals()
    assert isinstance(signals.state, InProcessState)
    lone = cr.AsyncClient(providers=[AnthropicProvider(name="b", base_url=emus["b"].url,
                                                       api_key=KEY)],
                          signals=signals, tracing=False)
    async with lone:
        await create(lone, messages=_cached_chat(1))
        assert len(signals.state.affinity) == 0
        async with client(emus, signals) as both:
            await create(lone, messages=_cached_chat(1))
            assert len(signals.state.affinity) > 0
            assert (await create(both, messages=_cached_chat(1))).route.provider == "b"
            assert (await create(both, messages=_cached_chat(2))).route.provider == "a"


async def test_cost_on_the_route_and_its_attempt(emus: dict[str, AnthropicEmulator]) -> None:
    """msg.route.cost_usd is usage × price (with the provider's multiplier), also on the
    attempt that answered; a model without a price gives None."""
    async with client(emus, Signals(price_multipliers={"a": 2.0})) as c:
        msg = await create(c, provider="a")
        expect = cost(msg.usage, MODEL, multiplier=2.0)
        assert expect is not None and expect > 0
        assert msg.route.cost_usd == pytest.approx(expect)
        assert msg.route.attempts[-1].cost_usd == pytest.approx(expect)
        other = await create(c, model="claude-unpriced-1", provider="b")
        assert other.route.cost_usd is None


async def test_stream_cost_and_capacity(emus: dict[str, AnthropicEmulator]) -> None:
    """A stream's final message carries its cost, and a stream's rate-limit headers move the
    next call like a whole answer's do."""
    wall = WallClock()
    emus["a"].capacity = Capacity(requests=1, reset_s=30, clock=wall)
    async with client(emus, Signals(InProcessState(wall_clock=wall))) as c:
        async with c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as s:
            final = await s.get_final_message()
        assert final.route.provider == "a"
        assert final.route.cost_usd == pytest.approx(cost(final.usage, MODEL))
        assert (await create(c)).route.provider == "b"
    assert emus["a"].capacity.refused == 0


async def test_cost_and_affinity_metrics(emus: dict[str, AnthropicEmulator]) -> None:
    """clauderoute.cost sums usage × price by deployment and model; cache-affinity hits count
    calls with breakpoints whose answer read the cache."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from clauderoute.testing import default_reply
    from clauderoute.tracing import TracingObserver

    def cached(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        msg = default_reply(params, model, msg_id)
        if "cache_control" in str(params.get("messages")):
            msg["usage"]["cache_read_input_tokens"] = 1000
        return msg

    for e in emus.values():
        e.responder = cached
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    obs = TracingObserver(meter_provider=meters)
    provs = [AnthropicProvider(name=n, base_url=e.url, api_key=KEY) for n, e in emus.items()]
    async with cr.AsyncClient(providers=provs, observers=[obs]) as c:
        plain = await create(c)
        hit = await create(c, messages=_cached_chat(1))
    points: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                points.setdefault(m.name, []).extend(m.data.data_points)
    meters.shutdown()
    (usd,) = points["clauderoute.cost"]
    assert usd.attributes == {"clauderoute.deployment": "a", "gen_ai.request.model": MODEL}
    assert usd.value == pytest.approx((plain.route.cost_usd or 0) + (hit.route.cost_usd or 0))
    assert (hit.route.cost_usd or 0) > (plain.route.cost_usd or 0)  # 1000 cache-read tokens
    (hits,) = points["clauderoute.cache_affinity.hits"]
    assert hits.value == 1


def test_sync_client_takes_signals() -> None:
    """The sync Client passes signals= to its router (False turns them off)."""
    p = AnthropicProvider(name="a", base_url="http://127.0.0.1:9", api_key=KEY)
    with cr.Client(providers=[p], signals=False, tracing=False) as off:
        assert off._async.router.signals is None
    sig = Signals()
    with cr.Client(providers=[p], signals=sig, tracing=False) as on:
        assert on._async.router.signals is sig
        assert on.with_options(timeout=5)._async.router.signals is sig  # copies share state


async def test_budget_keeps_an_unannounced_quota_without_429(
        emus: dict[str, AnthropicEmulator]) -> None:
    """A Vertex quota the platform does not announce (emulated capacity without headers): with
    a matching rpm budget the calls move to the Claude API before Vertex's 429; without one,
    the same traffic meets it."""
    from clauderoute_vertex import VertexEmulator, VertexProvider

    for budget, expect_refused in ((BudgetLimits(rpm=2), 0), (None, 2)):
        vertex = VertexEmulator(project="p", locations={"us-east5"}, tokens=[KEY])
        vertex.capacity = Capacity(requests=2, reset_s=60, announce=False)
        await vertex.start()
        try:
            provs = [VertexProvider(name="v", base_url=vertex.url, project="p",
                                    region="us-east5", access_token=KEY, max_retries=0),
                     AnthropicProvider(name="a", base_url=emus["a"].url, api_key=KEY)]
            state = InProcessState({"v": budget} if budget else None)
            async with cr.AsyncClient(providers=provs, signals=Signals(state),
                                      tracing=False) as c:
                served_by = [(await create(c)).route.provider for _ in range(4)]
            assert served_by == ["v", "v", "a", "a"]
            # Without a budget every call past the quota meets a 429 first (Google's front
            # end sends no retry-after to learn from).
            assert vertex.capacity.refused == expect_refused
        finally:
            await vertex.stop()

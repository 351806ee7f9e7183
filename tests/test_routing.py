"""Routing over loopback: failover, retry, deadline, first-token timeout, breakers, hedging,
policies and capability skips, with several emulated providers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._provider import COUNT_TOKENS, CREATE, STREAM, Capabilities
from clauderoute.routing import CircuitBreaker, Hedging, LatencyAware, Pinned, Weighted
from clauderoute.testing import (
    Fault,
    Hostile,
    HostileServer,
    LatencyProfile,
    default_reply,
    no_backoff,
)

KEY = "route-test-key"
HELLO = [{"role": "user", "content": "Hello router"}]
STREAM_ONLY = frozenset({STREAM})
NAMES = ("a", "b", "c", "d")
T = TypeVar("T")


def providers(emus: dict[str, AnthropicEmulator], *names: str, **kw: Any) -> list[Any]:
    return [AnthropicProvider(name=n, base_url=emus[n].url, api_key=KEY, **kw)
            for n in (names or NAMES)]


async def create(client: cr.AsyncClient, **kw: Any) -> Any:
    return await client.messages.create(model="claude-haiku-4-5", max_tokens=32,
                                        messages=HELLO, **kw)


async def stream(client: cr.AsyncClient, **kw: Any) -> tuple[Any, Any]:
    async with client.messages.stream(model="claude-haiku-4-5", max_tokens=32,
                                      messages=HELLO, **kw) as s:
        return await s.get_final_message(), s.route


class FakeClock:
    """The breaker's clock, moved by the test instead of waited out."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def guarded(call: Awaitable[T]) -> T:
    """A call whose adversary never gives up: a hang fails the test (``TimeoutError``, not the
    error under test) instead of the suite."""
    return await asyncio.wait_for(call, 20)


FAULTS = {
    "429": Fault(status=429),
    "529": Fault(status=529),
    "500": Fault(status=500),
    "503": Fault(status=503),
    "reset": Fault(reset=True),
    "truncated": Fault(truncate_body=True),
}
STREAM_FAULTS = {
    "in-stream overload": Fault(stream_error="overloaded_error", after_events=1),
    "cut before content": Fault(cut=True, after_events=2),
    "malformed": Fault(malformed=True, after_events=1),
    "stall": Fault(stall_s=3, after_events=1),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_create_fault_fails_over(emus: dict[str, AnthropicEmulator], name: str) -> None:
    """Each failover-class fault on the first provider makes the second one serve."""
    emus["a"].faults.add(FAULTS[name])
    async with cr.AsyncClient(providers=providers(emus, "a", "b"), timeout=1) as client:
        msg = await create(client)
    assert msg.route.provider == "b"
    first, second = msg.route.attempts
    assert first.provider == "a" and first.error is not None
    assert second.kind == "failover" and second.reason is not None


@pytest.mark.parametrize("name", [n for n in FAULTS if n != "truncated"] + list(STREAM_FAULTS))
async def test_stream_fault_fails_over_invisibly(emus: dict[str, AnthropicEmulator],
                                                 name: str) -> None:
    """Every fault before the first content fails a stream over without the caller noticing."""
    emus["a"].faults.add(FAULTS.get(name) or STREAM_FAULTS[name])
    async with cr.AsyncClient(providers=providers(emus, "a", "b"), timeout=5,
                              first_token_timeout=0.3) as client:
        final, route = await stream(client)
    assert final.text == "Echo: Hello router"
    assert route.provider == "b"
    assert [a.provider for a in route.attempts] == ["a", "b"]


async def test_bad_request_is_never_failed_over(emus: dict[str, AnthropicEmulator]) -> None:
    """A 400 from the first provider is raised as itself; the second is never asked."""
    emus["a"].faults.add(Fault(status=400, message="bad field"))
    async with cr.AsyncClient(providers=providers(emus, "a", "b")) as client:
        with pytest.raises(cr.BadRequestError):
            await create(client)
    assert emus["b"].requests == []


async def test_all_fail_lists_every_attempt(emus: dict[str, AnthropicEmulator]) -> None:
    """When every provider keeps failing, AllPlatformsFailed lists each attempt."""
    for n in ("a", "b"):
        emus[n].faults.add(Fault(status=529), times=5)
    async with cr.AsyncClient(providers=providers(emus, "a", "b", max_retries=1)) as client:
        with no_backoff(), pytest.raises(cr.AllPlatformsFailed) as info:
            await create(client)
    assert [a.provider for a in info.value.attempts] == ["a", "b", "a", "b"]
    assert all(isinstance(e, cr.OverloadedError) for e in info.value.errors)


async def test_deadline_bounds_the_whole_call(emus: dict[str, AnthropicEmulator]) -> None:
    """Providers that never answer cannot make a call outlive its deadline (only the deadline
    can end it: the guard is far longer); the error lists attempts."""
    for n in ("a", "b"):
        emus[n].faults.add(Fault(delay_s=3600))
    async with cr.AsyncClient(providers=providers(emus, "a", "b")) as client:
        with pytest.raises(cr.DeadlineExceeded) as info:
            await guarded(create(client, deadline=0.15))
    assert len(info.value.attempts) >= 1
    assert "attempt 1 on a" in str(info.value)


async def test_backoff_that_cannot_finish_is_skipped(emus: dict[str, AnthropicEmulator]) -> None:
    """A retry-after longer than the time left ends the call at once instead of sleeping (to
    the deadline or through the retry-after: either would trip the guard)."""
    emus["a"].faults.add(Fault(status=429, retry_after=50))  # honoured: under max_retry_after
    async with cr.AsyncClient(providers=providers(emus, "a")) as client:
        with pytest.raises(cr.DeadlineExceeded):
            await guarded(create(client, deadline=40))
    assert len(emus["a"].requests) == 1


async def test_retry_after_is_honoured(emus: dict[str, AnthropicEmulator]) -> None:
    """A retry-after hint sets the wait before the retry on the same provider."""
    emus["a"].faults.add(Fault(status=429, retry_after=0.1))
    async with cr.AsyncClient(providers=providers(emus, "a")) as client:
        t0 = time.perf_counter()
        msg = await create(client)
    assert time.perf_counter() - t0 >= 0.1
    assert msg.route.attempts[1].backoff_s == pytest.approx(0.1)


async def test_first_token_timeout_fails_a_silent_stream_over(
        emus: dict[str, AnthropicEmulator]) -> None:
    """A stream with headers but no content within first_token_timeout moves on."""
    emus["a"].latency = LatencyProfile(ttft_s=3600)  # only the timeout can move it on
    async with cr.AsyncClient(providers=providers(emus, "a", "b"),
                              first_token_timeout=0.2) as client:
        final, route = await guarded(stream(client))
    assert route.provider == "b" and route.attempts[0].error == "ReadTimeoutError"
    assert final.text.startswith("Echo:")


async def test_breaker_opens_cools_down_and_half_opens(
        emus: dict[str, AnthropicEmulator]) -> None:
    """After repeated failures a provider is skipped; after the cooldown one probe goes."""
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, cooldown_s=0.3, clock=clock)
    emus["a"].faults.add(Fault(status=503), times=2)
    async with cr.AsyncClient(providers=providers(emus, "a", "b"), breaker=breaker) as client:
        for _ in range(2):
            assert (await create(client)).route.provider == "b"
        assert breaker.state("a", "claude-haiku-4-5") == 2
        before = len(emus["a"].requests)
        skipped = await create(client)
        assert skipped.route.attempts[0].provider == "b"
        assert skipped.route.skipped == ("a (anthropic): circuit_open",)
        assert len(emus["a"].requests) == before  # open: not even tried
        clock.now = 0.29
        assert breaker.state("a", "claude-haiku-4-5") == 2  # not before the cooldown
        clock.now = 0.3
        assert breaker.state("a", "claude-haiku-4-5") == 1
        msg = await create(client)  # the half-open probe succeeds
    assert msg.route.provider == "a"
    assert breaker.state("a", "claude-haiku-4-5") == 0


async def test_all_circuits_open_fails_fast_past_deadline(
        emus: dict[str, AnthropicEmulator]) -> None:
    """With every circuit open and recovery after the deadline, the call fails at once (not at
    the deadline, an hour away: the guard would trip) and asks no provider."""
    breaker = CircuitBreaker(threshold=1, cooldown_s=7200)
    emus["a"].faults.add(Fault(status=503))
    async with cr.AsyncClient(providers=providers(emus, "a", max_retries=0),
                              breaker=breaker) as client:
        with pytest.raises(cr.APIStatusError):
            await create(client)
        with pytest.raises(cr.AllPlatformsFailed, match="circuit is open"):
            await guarded(create(client, deadline=3600))
    assert len(emus["a"].requests) == 1


async def test_hedge_wins_on_slow_primary_and_cancels_loser(
        emus: dict[str, AnthropicEmulator]) -> None:
    """A slow primary is hedged; the hedge's stream wins and the primary's is closed. The
    primary's stream is open (headers and message_start) but its first token never comes, only
    pings: the winner cannot have waited for the loser (the guard would trip), whatever the
    machine's load, and the primary's server sees the client hang up."""
    async with HostileServer(Hostile(mode="pings", drip_s=0.01)) as slow:
        primary = AnthropicProvider(name="a", base_url=slow.url, api_key=KEY)
        async with cr.AsyncClient(providers=[primary, *providers(emus, "b")],
                                  hedging=Hedging(after=0.1, budget=1.0)) as client:
            _, route = await guarded(stream(client))
        await slow.wait_disconnects(1)  # the loser's connection was closed, not left running
    assert route.provider == "b"
    kinds = {a.provider: (a.kind, a.error) for a in route.attempts}
    assert kinds == {"a": ("initial", "Cancelled"), "b": ("hedge", None)}
    assert slow.requests == 1 and slow.open_connections == 0


async def test_hedge_budget_caps_hedged_calls(emus: dict[str, AnthropicEmulator]) -> None:
    """With a zero budget only the first call may hedge; later slow calls wait."""
    emus["a"].latency = LatencyProfile(ttft_s=0.2)  # the hedge, 0.17 s ahead, wins the first
    hedging = Hedging(after=0.03, budget=0.0)
    async with cr.AsyncClient(providers=providers(emus, "a", "b"), hedging=hedging) as client:
        routes = [(await stream(client))[1] for _ in range(3)]
    assert [r.provider for r in routes] == ["b", "a", "a"]
    assert hedging.hedged == 1


async def test_capability_skip_and_missing_capability(
        emus: dict[str, AnthropicEmulator]) -> None:
    """A provider lacking an operation is skipped; if none has it the error says where."""
    class NoCount(AnthropicProvider):
        capabilities = Capabilities(operations=frozenset({CREATE, STREAM}))

    a = NoCount(name="a", base_url=emus["a"].url, api_key=KEY)
    b = AnthropicProvider(name="b", base_url=emus["b"].url, api_key=KEY)
    async with cr.AsyncClient(providers=[a, b]) as client:
        count = await client.messages.count_tokens(model="claude-haiku-4-5", messages=HELLO)
        assert count.input_tokens > 0
        msg = await create(client)
        assert msg.route.provider == "a" and msg.route.skipped == ()
        emus["a"].requests.clear()
        with pytest.raises(cr.CapabilityError, match=r"a \(anthropic\): operation "
                                                      r"messages.count_tokens"):
            await client.messages.count_tokens(model="claude-haiku-4-5", messages=HELLO,
                                               provider="a")
    assert [r.operation for r in emus["b"].requests] == [COUNT_TOKENS]
    assert emus["a"].requests == []


async def test_skipped_provider_reason_is_recorded(emus: dict[str, AnthropicEmulator]) -> None:
    """A stream skips a provider that cannot stream and the route says why."""
    class NoStream(AnthropicProvider):
        capabilities = Capabilities(operations=frozenset({CREATE, COUNT_TOKENS}))

    a = NoStream(name="a", base_url=emus["a"].url, api_key=KEY)
    b = AnthropicProvider(name="b", base_url=emus["b"].url, api_key=KEY)
    async with cr.AsyncClient(providers=[a, b]) as client:
        _, route = await stream(client)
    assert route.provider == "b"
    assert route.skipped == ("a (anthropic): operation messages.stream is not offered",)


async def test_refusal_is_an_answer_not_a_failure(emus: dict[str, AnthropicEmulator]) -> None:
    """stop_reason refusal comes back to the caller; nothing is retried or failed over."""
    def refuse(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        return dict(default_reply(params, model, msg_id), stop_reason="refusal")

    emus["a"].responder = refuse
    async with cr.AsyncClient(providers=providers(emus, "a", "b")) as client:
        msg = await create(client)
    assert msg.stop_reason == "refusal" and len(msg.route.attempts) == 1
    assert emus["b"].requests == []


async def test_per_call_provider_override(emus: dict[str, AnthropicEmulator]) -> None:
    """provider= pins one call; providers= reorders; an unknown name is a clear error."""
    async with cr.AsyncClient(providers=providers(emus)) as client:
        assert (await create(client, provider="c")).route.provider == "c"
        assert (await create(client, providers=["d", "a"])).route.provider == "d"
        with pytest.raises(cr.UnknownPlatformError, match="zzz"):
            await create(client, provider="zzz")


async def test_weighted_policy_spreads_by_weight(emus: dict[str, AnthropicEmulator]) -> None:
    """Weighted routing sends traffic in proportion to the weights."""
    policy = Weighted({"a": 3, "b": 1}, seed=7)
    async with cr.AsyncClient(providers=providers(emus, "a", "b"), policy=policy) as client:
        served = [(await create(client)).route.provider for _ in range(200)]
    share = served.count("a") / len(served)
    assert 0.65 < share < 0.85


async def test_latency_policy_prefers_the_fast_provider(
        emus: dict[str, AnthropicEmulator]) -> None:
    """After warm-up the provider with the lower time to first token serves most calls,
    and the slow one is still explored now and then."""
    emus["a"].latency = LatencyProfile(ttft_s=0.08)
    emus["b"].latency = LatencyProfile(ttft_s=0.005)
    policy = LatencyAware(explore=0.2, min_samples=2, seed=3)
    async with cr.AsyncClient(providers=providers(emus, "a", "b"), policy=policy) as client:
        for n in ("a", "b", "a", "b"):
            await stream(client, provider=n)
        served = [(await stream(client))[1].provider for _ in range(30)]
    assert served.count("b") >= 20


async def test_pinned_policy_never_fails_over(emus: dict[str, AnthropicEmulator]) -> None:
    """Pinned keeps every call on one provider, retries included."""
    emus["b"].faults.add(Fault(status=529))
    async with cr.AsyncClient(providers=providers(emus, "a", "b"),
                              policy=Pinned("b")) as client:
        with no_backoff():
            msg = await create(client)
    assert [a.provider for a in msg.route.attempts] == ["b", "b"]
    assert emus["a"].requests == []


async def test_stream_interrupted_after_content_is_not_failed_over(
        emus: dict[str, AnthropicEmulator]) -> None:
    """Once content reached the caller, a cut raises StreamInterrupted; b is not asked."""
    emus["a"].faults.add(Fault(operations=STREAM_ONLY, cut=True, after_events=4))
    async with cr.AsyncClient(providers=providers(emus, "a", "b")) as client:
        with pytest.raises(cr.StreamInterrupted) as info:
            await stream(client)
    assert info.value.partial.text.startswith("Echo:")
    assert emus["b"].requests == []


async def test_cached_plan_follows_replaced_capabilities(
        emus: dict[str, AnthropicEmulator]) -> None:
    """The per-operation plan cache notices a provider's capabilities being replaced (and put
    back) after calls were planned, and a policy swapped on the router."""
    a, b = providers(emus, "a", "b")
    full = a.capabilities
    async with cr.AsyncClient(providers=[a, b]) as client:
        first = await create(client)
        assert first.route.provider == "a" and first.route.skipped == ()
        a.capabilities = Capabilities(operations=frozenset({STREAM, COUNT_TOKENS}))
        second = await create(client)
        assert second.route.provider == "b"
        assert second.route.skipped == ("a (anthropic): operation messages.create is not offered",)
        a.capabilities = full
        assert (await create(client)).route.provider == "a"
        client.router.policy = Pinned("b")
        assert (await create(client)).route.provider == "b"


def test_breaker_counts_tripped_circuits() -> None:
    """``tripped`` counts keys that are open or half-open: the router's fast path reads it."""
    clock = [0.0]
    br = CircuitBreaker(threshold=2, cooldown_s=1.0, clock=lambda: clock[0])
    br.failure("a", "m")
    assert br.tripped == 0
    br.failure("a", "m")
    br.failure("b", "m")
    br.failure("b", "m")
    assert br.tripped == 2
    clock[0] = 5.0
    assert br.allow("a", "m") and br.state("a", "m") == 1
    br.failure("a", "m")  # the probe fails: open again, still tripped
    assert br.tripped == 2
    br.success("a", "m")
    br.success("a", "m")
    br.success("c", "m")
    assert br.tripped == 1 and br.state("b", "m") == 1
    br.success("b", "m")
    assert br.tripped == 0


def test_prepare_that_may_block_is_declared() -> None:
    """The API-key provider's prepare never waits (no timeout armed around it); a subclass that
    brings its own prepare is assumed to block unless it says otherwise."""
    class Refreshing(AnthropicProvider):
        async def prepare(self, call: Any) -> Any:
            await asyncio.sleep(0)
            return await super().prepare(call)

    class Sure(Refreshing):
        prepare_may_block = False

    class Plain(AnthropicProvider):
        pass

    assert AnthropicProvider.prepare_may_block is False and Plain.prepare_may_block is False
    assert Refreshing.prepare_may_block is True and Sure.prepare_may_block is False

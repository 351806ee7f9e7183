"""The router against hostile answers (issue #11, router half): a platform's wait hints are
parsed defensively and capped, ``x-should-retry: false`` never stops failover, a half-open
breaker admits one probe, a provider without credentials (or refused them) is skipped, and the
errors a call gives up with keep their cause. Real providers over loopback; the breaker runs on
a fake clock."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import msgspec
import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
from hypothesis import given
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute import RetryPolicy
from clauderoute.routing import Hedging
from clauderoute._provider import Auth, Call, HttpRequest
from clauderoute._retry import MAX_HINT_S, hint_seconds, parse_retry_after
from clauderoute.routing import CircuitBreaker
from clauderoute.testing import Fault, Hostile, HostileServer, no_backoff

KEY = "hostile-route-key"
MODEL = "claude-haiku-4-5"
HI = [{"role": "user", "content": "Hello hostile router"}]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def provider(name: str, url: str, **kw: Any) -> AnthropicProvider:
    return AnthropicProvider(name=name, base_url=url, api_key=KEY, **kw)


async def create(client: cr.AsyncClient, **kw: Any) -> Any:
    return await client.messages.create(model=MODEL, max_tokens=16, messages=HI, **kw)


# --- item 3: retry-after parsed defensively, every platform-controlled wait capped -------------

ABSURD = ["99999999999999999999", "inf", "Infinity", "-inf", "nan", "NaN", "-5", "0", "1e400",
          "1e3", "1_000", "0x10", " ", "", "soon", "5 s", "\x00", "9" * 5000,
          "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 1900 00:00:00 GMT",
          "Wed, 21 Oct 2015 07:28:00 -0000", "Wed, 99 Foo 2015 99:99:99 GMT"]


@pytest.mark.parametrize("value", ABSURD, ids=[f"value{i}" for i in range(len(ABSURD))])
@pytest.mark.parametrize("header", ["retry-after", "retry-after-ms"])
def test_absurd_retry_after_is_no_hint_or_capped(header: str, value: str) -> None:
    """Each absurd value is either no hint or a finite wait of at most a day."""
    got = parse_retry_after({header: value})
    assert got is None or 0 < got <= MAX_HINT_S
    if value in ("99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT") \
            and header == "retry-after":
        assert got == MAX_HINT_S  # absurdly long: clamped, not dropped, not 1e20
    if value in ("inf", "nan", "-5", "0", "1e400", "1_000", "soon", "-inf", "9" * 5000):
        assert got is None


def test_retry_after_ms_garbage_falls_back() -> None:
    """A malformed retry-after-ms does not hide a good retry-after."""
    assert parse_retry_after({"retry-after-ms": "inf", "retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5


@given(st.dictionaries(st.sampled_from(["retry-after", "retry-after-ms", "x"]), st.text(),
                       max_size=3))
def test_parse_retry_after_never_raises(headers: dict[str, str]) -> None:
    """Whatever the headers hold, the answer is no hint or a finite wait of at most a day."""
    got = parse_retry_after(headers)
    assert got is None or (math.isfinite(got) and 0 < got <= MAX_HINT_S)


@given(st.one_of(st.floats(), st.integers(), st.none(), st.booleans(), st.text()))
def test_hint_seconds_is_safe(value: Any) -> None:
    got = hint_seconds(value)
    assert got is None or (math.isfinite(got) and 0 < got <= MAX_HINT_S)


@given(st.one_of(st.floats(), st.none(), st.integers(min_value=-(10**30), max_value=10**30)))
def test_backoff_never_exceeds_its_caps(retry_after: Any) -> None:
    """Whatever hint an error carries, the backoff is a finite wait within the policy's caps."""
    policy = RetryPolicy()
    for n in range(4):
        w = policy.backoff(n, retry_after)
        assert math.isfinite(w) and 0 <= w <= max(policy.wait_max, policy.max_retry_after)


@given(st.lists(st.one_of(st.floats(), st.none(), st.integers(min_value=0, max_value=10**40)),
                min_size=1, max_size=6))
def test_breaker_cooldown_never_exceeds_max(hints: list[Any]) -> None:
    """No sequence of retry-after values opens a circuit for longer than ``max_cooldown_s``."""
    clock = Clock()
    b = CircuitBreaker(threshold=1, cooldown_s=1.0, max_cooldown_s=30.0, clock=clock)
    for hint in hints:
        b.failure("p", "m", hint)
        assert 0 <= b.retry_in("p", "m") <= 30.0
        clock.now += 30.0
        assert b.state("p", "m") == 1  # half-open again after at most the ceiling


@pytest.mark.parametrize("headers", [{"retry-after": "99999999999999999999"},
                                     {"retry-after-ms": "inf"}, {"retry-after": "nan"},
                                     {"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}])
async def test_absurd_retry_after_does_not_poison_breaker(
        emus: dict[str, AnthropicEmulator], headers: dict[str, str]) -> None:
    """A 529 with an absurd hint fails over at once, opens the circuit for at most
    ``max_cooldown_s``, and after that the provider is probed and serves again."""
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=1.0, max_cooldown_s=10.0, clock=clock)
    async with HostileServer(Hostile(status=529, headers=headers), Hostile()) as server:
        provs = [provider("a", server.url), provider("b", emus["b"].url)]
        async with cr.AsyncClient(providers=provs, breaker=breaker, deadline=20) as client:
            first = await create(client)
            assert first.route.provider == "b"
            assert 0 < breaker.retry_in("a", MODEL) <= 10.0
            clock.now += 10.0  # the ceiling: the platform's hint cannot hold it longer
            second = await create(client)
    assert second.route.provider == "a" and server.requests == 2
    assert breaker.state("a", MODEL) == 0


@pytest.mark.parametrize("headers", [{"retry-after": "99999999999999999999"},
                                     {"retry-after-ms": "inf"}, {"retry-after": "-3"}])
async def test_absurd_retry_after_alone_backs_off_normally(headers: dict[str, str]) -> None:
    """Alone, a provider whose 529 carries an absurd hint is retried after the SDK's own
    backoff (not the hint), within the deadline."""
    async with HostileServer(Hostile(status=529, headers=headers), Hostile()) as server, \
            cr.AsyncClient(providers=[provider("a", server.url)], breaker=False,
                           deadline=20) as client:
        with no_backoff():
            msg = await create(client)
    retry = msg.route.attempts[1]
    assert retry.kind == "retry" and 0 < retry.backoff_s <= 0.5


# --- item 4: x-should-retry: false stops retries on that provider, never failover --------------

@pytest.mark.parametrize("status", [529, 503, 429])
async def test_should_retry_false_still_fails_over(emus: dict[str, AnthropicEmulator],
                                                   status: int) -> None:
    emus["a"].faults.add(Fault(status=status, should_retry=False))
    async with cr.AsyncClient(providers=[provider(n, emus[n].url) for n in "ab"]) as client:
        with no_backoff():
            msg = await create(client)
    assert msg.route.provider == "b" and len(emus["b"].requests) == 1
    assert len(emus["a"].requests) == 1  # and a was not retried


async def test_should_retry_false_alone_is_not_retried(
        emus: dict[str, AnthropicEmulator]) -> None:
    emus["a"].faults.add(Fault(status=529, should_retry=False), Fault(status=529))
    async with cr.AsyncClient(providers=[provider("a", emus["a"].url)]) as client:
        with no_backoff(), pytest.raises(cr.OverloadedError):
            await create(client)
    assert len(emus["a"].requests) == 1


# --- item 5: one probe per half-open cooldown ---------------------------------------------------

class GatedProvider(AnthropicProvider):
    """Holds every request in ``prepare`` until ``gate`` opens (so a probe stays in flight)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.gate = asyncio.Event()
        self.arrived = asyncio.Event()
        self.entered = 0

    async def prepare(self, call: Call) -> HttpRequest:
        self.entered += 1
        self.arrived.set()
        await self.gate.wait()
        return await super().prepare(call)


@pytest.mark.parametrize("probe_ok", [True, False], ids=["probe succeeds", "probe fails"])
async def test_half_open_admits_one_probe(emus: dict[str, AnthropicEmulator],
                                          probe_ok: bool) -> None:
    """10 concurrent calls while a's circuit is half-open: exactly one reaches a, the other
    nine skip it (recorded) and are served by b; the probe's outcome closes or re-opens."""
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=5.0, max_cooldown_s=60.0, clock=clock)
    a = GatedProvider(name="a", base_url=emus["a"].url, api_key=KEY, max_retries=0)
    a.gate.set()
    emus["a"].faults.add(Fault(status=529))  # opens the circuit
    if not probe_ok:
        emus["a"].faults.add(Fault(status=529))
    async with cr.AsyncClient(providers=[a, provider("b", emus["b"].url)],
                              breaker=breaker) as client:
        assert (await create(client)).route.provider == "b"
        assert breaker.state("a", MODEL) == 2
        clock.now += 5.0
        a.gate.clear()
        a.arrived.clear()
        a.entered = 0
        calls = [asyncio.create_task(create(client)) for _ in range(10)]
        await asyncio.wait_for(a.arrived.wait(), 5)
        while sum(c.done() for c in calls) < 9:  # the nine others finish with a still gated
            await asyncio.wait_for(asyncio.wait([c for c in calls if not c.done()],
                                                return_when=asyncio.FIRST_COMPLETED), 5)
        done = [c for c in calls if c.done()]
        assert a.entered == 1 and len(done) == 9
        assert all(m.route.provider == "b" and any(
            s.startswith("a (") and "probe in flight" in s for s in m.route.skipped)
            for m in (c.result() for c in done))
        a.gate.set()
        probe = [c for c in calls if c not in done]
        assert len(probe) == 1
        msg = await asyncio.wait_for(probe[0], 5)
    assert len(emus["a"].requests) == 2  # the failure that opened it, and the one probe
    if probe_ok:
        assert msg.route.provider == "a" and breaker.state("a", MODEL) == 0
    else:
        assert msg.route.provider == "b" and breaker.state("a", MODEL) == 2
        assert breaker.retry_in("a", MODEL) == 10.0  # re-opened, cooldown doubled


async def test_unused_probe_is_released(emus: dict[str, AnthropicEmulator]) -> None:
    """A call that claimed b's probe but was served by a first gives the probe back, so the
    next call that needs b can probe it (a half-open circuit never waits for a lost probe)."""
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=5.0, clock=clock)
    breaker.failure("b", MODEL)  # b's circuit opens
    clock.now += 5.0  # and is half-open
    async with cr.AsyncClient(providers=[provider(n, emus[n].url, max_retries=0)
                                         for n in "ab"], breaker=breaker) as client:
        assert (await create(client)).route.provider == "a"  # b's probe claimed, unused
        assert breaker.state("b", MODEL) == 1
        emus["a"].faults.add(Fault(status=529))
        msg = await create(client)  # needs b now
    assert msg.route.provider == "b" and breaker.state("b", MODEL) == 0


async def test_probe_cancelled_is_released(emus: dict[str, AnthropicEmulator]) -> None:
    """The probe's caller is cancelled while the probe is in flight: the claim is given back."""
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=5.0, clock=clock)
    a = GatedProvider(name="a", base_url=emus["a"].url, api_key=KEY, max_retries=0)
    a.gate.set()
    emus["a"].faults.add(Fault(status=529))
    async with cr.AsyncClient(providers=[a, provider("b", emus["b"].url)],
                              breaker=breaker) as client:
        await create(client)
        clock.now += 5.0
        a.gate.clear()
        a.arrived.clear()
        task = asyncio.create_task(create(client))
        await asyncio.wait_for(a.arrived.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        a.gate.set()
        msg = await create(client)
    assert msg.route.provider == "a" and breaker.state("a", MODEL) == 0


# --- item 6: a provider without credentials, or refused them, is unavailable --------------------

class NoCredentials(Auth):
    """An auth whose refresh always fails, the way a provider reports it: ``CredentialsError``."""

    kind = "test-none"

    def __init__(self) -> None:
        self.refreshes = 0

    async def refresh(self) -> None:
        self.refreshes += 1
        raise cr.CredentialsError("no credentials found for the test platform")

    def sign(self, request: HttpRequest) -> HttpRequest:
        return request


class RefreshingProvider(AnthropicProvider):
    """Refreshes its ``refresher`` before every request, as the cloud providers do."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.refresher = NoCredentials()

    async def prepare(self, call: Call) -> HttpRequest:
        await self.refresher.refresh()
        return await super().prepare(call)


async def test_credentials_error_fails_over(emus: dict[str, AnthropicEmulator]) -> None:
    """The provider that cannot get credentials is recorded and skipped, never retried."""
    x = RefreshingProvider(name="x", base_url=emus["a"].url, api_key=KEY)
    async with cr.AsyncClient(providers=[x, provider("b", emus["b"].url)]) as client:
        msg = await create(client)
    assert msg.route.provider == "b" and x.refresher.refreshes == 1
    first, second = msg.route.attempts
    assert first.provider == "x" and first.error == "CredentialsError"
    assert second.kind == "failover" and len(emus["a"].requests) == 0


async def test_credentials_error_alone_is_not_retried(
        emus: dict[str, AnthropicEmulator]) -> None:
    x = RefreshingProvider(name="x", base_url=emus["a"].url, api_key=KEY, max_retries=3)
    async with cr.AsyncClient(providers=[x]) as client:
        with no_backoff(), pytest.raises(cr.CredentialsError) as info:
            await create(client)
    assert x.refresher.refreshes == 1 and len(info.value.attempts) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_fail_over_once(emus: dict[str, AnthropicEmulator],
                                                  status: int) -> None:
    """A platform's 401/403 fails over (another platform, other credentials), and the refusing
    provider is not retried even when the other one fails too."""
    emus["a"].faults.add(Fault(status=status))
    async with cr.AsyncClient(providers=[provider(n, emus[n].url) for n in "ab"]) as client:
        msg = await create(client)
        assert msg.route.provider == "b" and len(emus["a"].requests) == 1
        emus["a"].faults.add(Fault(status=status))
        emus["b"].faults.add(*[Fault(status=529)] * 3)
        with no_backoff(), pytest.raises(cr.AllPlatformsFailedError) as info:
            await create(client)
    assert len(emus["a"].requests) == 2  # once per call, never retried
    assert len(emus["b"].requests) == 1 + 3  # b: its attempt and its two retries
    assert isinstance(info.value.errors[0], cr.APIStatusError)
    assert info.value.errors[0].status_code == status


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_request_errors_stay_fatal(emus: dict[str, AnthropicEmulator],
                                         status: int) -> None:
    emus["a"].faults.add(Fault(status=status))
    async with cr.AsyncClient(providers=[provider(n, emus[n].url) for n in "ab"]) as client:
        with pytest.raises(cr.APIStatusError) as info:
            await create(client)
    assert info.value.status_code == status and len(emus["b"].requests) == 0


# --- item 11: the errors a call gives up with keep their cause ---------------------------------

async def test_all_failed_has_the_last_error_as_cause(
        emus: dict[str, AnthropicEmulator]) -> None:
    for n in "ab":
        emus[n].faults.add(Fault(status=529))
    provs = [provider(n, emus[n].url, max_retries=0) for n in "ab"]
    async with cr.AsyncClient(providers=provs) as client:
        with pytest.raises(cr.AllPlatformsFailedError) as info:
            await create(client)
    assert info.value.__cause__ is info.value.errors[-1]
    assert isinstance(info.value.__cause__, cr.OverloadedError)


async def test_deadline_has_the_last_error_as_cause(emus: dict[str, AnthropicEmulator]) -> None:
    """The platform asks for a 30 s wait and 5 s are left: the call ends at once with
    ``DeadlineExceededError`` caused by that 529."""
    emus["a"].faults.add(Fault(status=529, retry_after=30))
    async with cr.AsyncClient(providers=[provider("a", emus["a"].url)], deadline=5) as client:
        with pytest.raises(cr.DeadlineExceededError) as info:
            await create(client)
    assert isinstance(info.value.__cause__, cr.OverloadedError)


async def test_alone_the_error_keeps_its_own_cause() -> None:
    """Alone, the provider's error is raised as itself, with the transport cause it had."""
    async with HostileServer(Hostile(mode="reset_before_headers")) as server, \
            cr.AsyncClient(providers=[provider("a", server.url, max_retries=0)]) as client:
        with pytest.raises(cr.APIConnectionError) as info:
            await create(client)
    assert info.value.__cause__ is not None


# --- the rest of the class: other waits the platform controls, other early stops ---------------

async def test_one_providers_hint_does_not_delay_another(
        emus: dict[str, AnthropicEmulator]) -> None:
    """b's 529 asks for 50 s; the next attempt is a's retry, which waits a's own backoff, not
    b's hint (before, the call gave up at once: 50 s did not fit the 20 s deadline)."""
    emus["a"].faults.add(Fault(status=529))
    emus["b"].faults.add(Fault(status=529, retry_after=50))
    provs = [provider(n, emus[n].url, max_retries=1) for n in "ab"]
    async with cr.AsyncClient(providers=provs, deadline=20) as client:
        with no_backoff():
            msg = await create(client)
    assert msg.route.provider == "a" and len(msg.route.attempts) == 3
    assert msg.route.attempts[2].backoff_s <= 0.5


def small_body_limit(p: AnthropicProvider, limit: int) -> AnthropicProvider:
    p.capabilities = msgspec.structs.replace(p.capabilities, default_max_body_bytes=limit,
                                             max_body_bytes={})
    return p


async def test_body_over_one_providers_limit_fails_over(
        emus: dict[str, AnthropicEmulator]) -> None:
    """A body over a's (smaller) limit is refused locally, and b, whose limit is larger, serves
    it; the refusal does not count against a's circuit breaker."""
    breaker = CircuitBreaker(threshold=1)
    provs = [small_body_limit(provider("a", emus["a"].url), 64), provider("b", emus["b"].url)]
    async with cr.AsyncClient(providers=provs, breaker=breaker) as client:
        msg = await create(client)
    assert msg.route.provider == "b" and msg.route.attempts[0].error == "RequestTooLargeError"
    assert len(emus["a"].requests) == 0 and breaker.state("a", MODEL) == 0


async def test_body_over_every_limit_is_request_too_large(
        emus: dict[str, AnthropicEmulator]) -> None:
    provs = [small_body_limit(provider(n, emus[n].url), 64) for n in "ab"]
    async with cr.AsyncClient(providers=provs) as client:
        with pytest.raises(cr.RequestTooLargeError):
            await create(client)
    assert len(emus["a"].requests) == len(emus["b"].requests) == 0


async def test_every_circuit_busy_or_cooling(emus: dict[str, AnthropicEmulator]) -> None:
    """a's probe is held by another call and b is cooling down: the call's choice is to wait
    for b (here 5 s, past a 1 s deadline, so it says so at once), not to fail as if nothing
    could recover; with both probes held by others it fails at once, naming why."""
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=5.0, clock=clock)
    breaker.failure("a", MODEL)
    clock.now += 5.0
    assert breaker.claim("a", MODEL)  # another call holds a's probe
    breaker.failure("b", MODEL)  # b opened now: 5 s to go on the fake clock
    async with cr.AsyncClient(providers=[provider(n, emus[n].url) for n in "ab"],
                              breaker=breaker, deadline=1) as client:
        with pytest.raises(cr.AllPlatformsFailedError, match="recovers in 5.0s"):
            await create(client)
        clock.now += 5.0
        assert breaker.claim("b", MODEL)  # now b's probe is taken too
        with pytest.raises(cr.AllPlatformsFailedError, match="probe in flight"):
            await create(client)
    assert emus["a"].requests == [] and emus["b"].requests == []


async def test_probe_is_claimed_only_where_an_attempt_goes(
        emus: dict[str, AnthropicEmulator]) -> None:
    """A call in flight on a (healthy) does not hold b's probe: another call that goes to b
    (here: only b) probes it and closes the circuit."""
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=5.0, clock=clock)
    breaker.failure("b", MODEL)
    clock.now += 5.0
    a = GatedProvider(name="a", base_url=emus["a"].url, api_key=KEY)
    async with cr.AsyncClient(providers=[a, provider("b", emus["b"].url)],
                              breaker=breaker) as client:
        first = asyncio.create_task(create(client))
        await asyncio.wait_for(a.arrived.wait(), 5)  # first call in flight on a
        msg = await create(client, providers=["b"])
        assert msg.route.provider == "b" and breaker.state("b", MODEL) == 0
        a.gate.set()
        assert (await asyncio.wait_for(first, 5)).route.provider == "a"


@pytest.mark.parametrize("after", ["p999", "p100", "p0", "p", "95", "p-5", "pnan", "p1e2",
                                   "p" + "9" * 50, float("nan"), float("inf"), -1.0, True, "P95"])
def test_hedging_refuses_an_impossible_hedge_after(after: object) -> None:
    """Built in code, not only from a config file: an out-of-range quantile or a delay that is
    not a finite number >= 0 fails at once, naming the setting (issue #11 item 12)."""
    with pytest.raises(cr.ConfigurationError, match="hedge_after"):
        Hedging(after=after)  # type: ignore[arg-type]


@pytest.mark.parametrize(("after", "quantile", "fixed"),
                         [("p95", 0.95, None), ("p99.9", 0.999, None), ("p50", 0.5, None),
                          (0, None, 0.0), (0.25, None, 0.25)])
def test_hedging_accepts_sane_hedge_after(after: object, quantile: object,
                                          fixed: object) -> None:
    h = Hedging(after=after)  # type: ignore[arg-type]
    assert (h.quantile, h.fixed) == (pytest.approx(quantile) if quantile else None, fixed)

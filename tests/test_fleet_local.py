"""The fleet state in one process against a real redis-server: configuration, a Redis that
never answers, a flushed Redis, shared latency summaries and hedging budget."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

import clauderoute as cr
from clauderoute.testing import LatencyProfile

pytest.importorskip("redis", reason="clauderoute[redis] (redis-py) is not installed")

from clauderoute.fleet import (
    FleetHedging,
    FleetLatencyStats,
    FleetState,
    SharedBreaker,
    state_settings,
)
from tests.test_fleet import RedisServer, running_redis, until


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    yield from running_redis()


@pytest.mark.parametrize("value", [0, 9, 300_001, -5000])
def test_max_backoff_out_of_range_names_the_field(value: Any) -> None:
    with pytest.raises(cr.ConfigurationError, match=r"state\.max_backoff_ms: must be 10 to 300000"):
        state_settings({"url": "redis://127.0.0.1:1/0", "max_backoff_ms": value}, env={})
    s = state_settings({"url": "redis://127.0.0.1:1/0"}, env={})
    assert s is not None and s.max_backoff_ms == 5000
    s = state_settings({"url": "redis://127.0.0.1:1/0", "max_backoff_ms": 10}, env={})
    assert s is not None and s.max_backoff_ms == 10


def test_config_state_builds_a_shared_breaker(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("REDIS_PW", "hunter2-secret")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[providers.a]\nkind = "anthropic"\napi_key = "k"\n'
        '[state]\nurl = "redis://:${REDIS_PW}@127.0.0.1:1/0"\nsync_ms = 50\n'
    )
    client = cr.AsyncClient.from_config(cfg, tracing=False)
    b = client.router.breaker
    assert isinstance(b, SharedBreaker) and client.router.stats is b.stats
    assert "hunter2" not in repr(b.fleet) + repr(b.fleet.settings) + str(b.fleet.status())
    cfg.write_text(
        '[providers.a]\nkind = "anthropic"\napi_key = "k"\n'
        '[state]\nurl = "http://:${REDIS_PW}@x/0"\n'
    )
    with pytest.raises(cr.ConfigurationError, match="state.url") as e:
        cr.AsyncClient.from_config(cfg)
    assert "hunter2" not in str(e.value)
    cfg.write_text('[providers.a]\nkind = "anthropic"\napi_key = "k"\n')
    plain = cr.AsyncClient.from_config(cfg, tracing=False)
    assert not isinstance(plain.router.breaker, SharedBreaker)
    monkeypatch.setenv("CLAUDEROUTE_STATE_URL", "redis://127.0.0.1:1/0")
    assert isinstance(cr.AsyncClient.from_config(cfg, tracing=False).router.breaker, SharedBreaker)


async def test_silent_redis_degrades_and_calls_still_succeed(caplog: Any) -> None:
    from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

    writers: list[asyncio.StreamWriter] = []

    async def mute(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        writers.append(w)  # accepts, reads, never answers
        await r.read(1 << 20)

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    s = state_settings(
        {"url": f"redis://:pw-XYZ-123@127.0.0.1:{port}/0", "sync_ms": 20, "op_timeout_ms": 50},
        env={},
    )
    assert s is not None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    breaker = SharedBreaker(FleetState(s, meter_provider=MeterProvider([reader])))
    with caplog.at_level(logging.WARNING, logger="clauderoute.fleet"):
        async with AnthropicEmulator(api_key="k", latency=LatencyProfile()) as emu:
            client = cr.AsyncClient(
                providers=[AnthropicProvider(name="a", base_url=emu.url, api_key="k")],
                breaker=breaker,
                tracing=False,
            )
            async with client:
                for _ in range(5):
                    await client.messages.create(
                        model="claude-haiku-4-5",
                        max_tokens=8,
                        messages=[{"role": "user", "content": "x"}],
                    )
                assert await until(lambda: breaker.fleet.failures >= 2)
                assert breaker.fleet.status()["state"] == "degraded"
                seen = {
                    m.name: [p.value for p in m.data.data_points]
                    for rm in reader.get_metrics_data().resource_metrics
                    for sm in rm.scope_metrics
                    for m in sm.metrics
                }
                assert seen["clauderoute.state.live"] == [0]
                assert seen["clauderoute.state.outages"] == [1]  # one outage, many retries
    await breaker.aclose()
    for w in writers:
        w.close()
    server.close()
    await server.wait_closed()
    text = caplog.text
    assert text.count("unavailable") == 1  # logged once per outage, not per retry
    assert "pw-XYZ-123" not in text + str(breaker.fleet.status())


async def test_flushed_redis_is_noticed_and_resynced(redis_server: RedisServer) -> None:
    import redis.asyncio as aioredis

    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fleet = FleetState(s)
    fleet.check_s = 0.05
    fleet.start()
    assert await until(lambda: fleet.live)
    r = aioredis.from_url(redis_server.url)
    await r.flushall()
    await r.aclose()
    assert await until(lambda: fleet.flushes >= 1)  # noticed by the periodic check
    assert fleet.live and fleet.failures == 0  # not an outage: routing stays shared
    await fleet.aclose()


async def test_latency_summaries_and_hedging_budget_merge(redis_server: RedisServer) -> None:
    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fa, fb = FleetState(s), FleetState(s)
    la, lb = FleetLatencyStats(fa, publish_every_s=0.0), FleetLatencyStats(fb)
    ha, hb = FleetHedging(fa, 1.0, budget=0.0), FleetHedging(fb, 1.0, budget=0.0)
    fa.start()
    fb.start()
    assert await until(lambda: fa.live and fb.live)
    for _ in range(20):
        la.record("p", "m", 0.5)
    for _ in range(3):
        ha.allow()
    ha.hedged = 1
    assert await until(lambda: (h := lb.get("p", "m")) is not None and h.weight() > 19)
    h = lb.get("p", "m")
    assert h is not None and h.quantile(0.5) == pytest.approx(0.5, rel=0.1)
    assert lb.get("p", "m") is not None and la.get("p", "m") is not None
    assert await until(lambda: bool(hb._others))
    assert not hb.allow()  # budget 0: the hedge made in the other process counts here
    await fa.aclose()
    await fb.aclose()


def _fleet_in_process(
    url: str,
) -> tuple[FleetState, SharedBreaker, FleetLatencyStats, FleetHedging]:
    s = state_settings({"url": url, "sync_ms": 20}, env={})
    assert s is not None
    f = FleetState(s)
    return (
        f,
        SharedBreaker(f, threshold=1, max_cooldown_s=30.0),
        FleetLatencyStats(f),
        FleetHedging(f, 1.0),
    )


async def test_hostile_peer_values_are_ignored(redis_server: RedisServer) -> None:
    """Garbage on the channel, garbage keys, absurd times and weights: the state stays live,
    no circuit is held open past the ceiling, and honest changes still arrive."""
    import msgspec
    import redis.asyncio as aioredis

    a, ba, la, ha = _fleet_in_process(redis_server.url)
    b, bb, _, _ = _fleet_in_process(redis_server.url)
    r = aioredis.from_url(redis_server.url)
    await r.set("clauderoute:br:x", b"\xc1garbage", px=60_000)  # read by the re-sync
    a.start()
    b.start()
    assert await until(lambda: a.live and b.live)
    enc = msgspec.msgpack.encode
    for junk in (
        b"",
        b"\x00" * 10,
        enc(["x", [["br", "k", b"\xff", 10]]]),
        enc(
            [
                "x",
                [
                    ["br", "k", enc(["p", "m", 1e300, 1e300]), 10],
                    ["br", "k", enc(["p", "m", float("inf"), 5.0]), 10],
                    ["lat", "x\x1fp\x1fm", enc(["p", "m", 1.0, [[3, 1e300]]]), 10],
                    ["hg", "x", enc([1, 10**9]), 10],
                    ["af", "zz-not-hex", enc("p"), 10],
                ],
            ]
        ),
    ):
        await r.publish("clauderoute:events", junk)
    bb.failure("honest", "m")  # threshold 1: opens, and is published
    assert await until(lambda: ba.state("honest", "m") == 2)
    assert a.live and ba.retry_in("p", "m") <= 30.0
    assert la.get("p", "m") is None and ha.allow()
    await r.aclose()
    for f in (a, b):
        await f.aclose()


def _sentinel(
    master: RedisServer, tmp_path: Any, port: int, more: str = ""
) -> subprocess.Popen[bytes]:
    """A Sentinel (``redis-server --sentinel``) on ``port`` watching ``master`` as
    ``mymaster`` with a quorum of one; ``more``: further lines of its configuration."""
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {master.port} 1\n"
        f"sentinel auth-pass mymaster {master.password}\n{more}"
    )
    return subprocess.Popen(
        [master.exe, str(conf), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_sentinel_url_finds_the_master(redis_server: RedisServer, tmp_path: Any) -> None:
    """``redis+sentinel://`` through a real Sentinel (redis-server --sentinel) to the master."""
    from tests.test_fleet import _free_port

    port = _free_port()
    proc = _sentinel(redis_server, tmp_path, port)
    try:
        s = state_settings(
            {
                "url": f"redis+sentinel://:{redis_server.password}@127.0.0.1:{port}/mymaster/0",
                "sync_ms": 20,
            },
            env={},
        )
        assert s is not None and redis_server.password not in repr(s)
        f = FleetState(s)
        f.start()
        assert await until(lambda: f.live, 20.0), f.status()
        await f.aclose()
    finally:
        proc.kill()
        proc.wait()


class _Seen(msgspec.Struct):
    """A stand-in for the signals' RateLimits (any msgspec Struct with ``observed_at``)."""

    remaining: int
    observed_at: float


class _LocalLimits:
    """The local copy's rate-limit side, as the in-process RouteState keeps it."""

    def __init__(self) -> None:
        self.limits: dict[tuple[str, str], Any] = {}

    def observe_limits(self, provider: str, model: str, limits: Any) -> None:
        self.limits[provider, model] = limits


async def test_rate_limit_observations_cross_and_newest_wins(redis_server: RedisServer) -> None:
    from clauderoute.fleet import FleetRouteState

    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fa, fb = FleetState(s), FleetState(s)
    la, lb = _LocalLimits(), _LocalLimits()
    a = FleetRouteState(fa, la, limits_type=_Seen)
    b = FleetRouteState(fb, lb, limits_type=_Seen)
    fa.start()
    fb.start()
    assert await until(lambda: fa.live and fb.live)
    b.observe_limits("p", "m", _Seen(remaining=5, observed_at=time.time() + 100))  # newer
    a.observe_limits("p", "m", _Seen(remaining=0, observed_at=time.time()))
    a.observe_limits("p", "m2", _Seen(remaining=0, observed_at=time.time()))
    assert await until(lambda: ("p", "m2") in lb.limits)
    assert lb.limits["p", "m2"] == la.limits["p", "m2"]  # crossed, decoded to its type
    assert lb.limits["p", "m"].remaining == 5  # the older observation (same batch) lost
    assert await until(lambda: la.limits["p", "m"].remaining == 5)  # and B's newer won in A
    for f in (fa, fb):
        await f.aclose()


async def test_budget_before_first_sync_and_during_an_outage(redis_server: RedisServer) -> None:
    """Starting: a budgeted provider is skipped (its fleet count is unknown), an unbudgeted one
    admitted; live: the fleet's lease admits exactly the limit; Redis gone: the process's own
    budget admits (the call never fails for the state), up to the limit again."""
    from clauderoute.fleet import FleetRouteState
    from clauderoute.routing._budget import BudgetLimits
    from clauderoute.routing._state import InProcessState

    s = state_settings({"url": redis_server.url, "sync_ms": 20, "op_timeout_ms": 100}, env={})
    assert s is not None
    fleet = FleetState(s)
    limits = {"a": BudgetLimits(rpm=5)}
    state = FleetRouteState(fleet, InProcessState(limits), budgets=limits, window_s=3600)
    assert state.budget_admit("a", 0) == (0.02, "budget: reserving (shared state starting)")
    assert state.budget_admit("b", 0) is None
    assert await until(lambda: fleet.live)
    admitted = 0
    for _ in range(500):  # leases arrive within a tick or two; "spent" ends it
        got = state.budget_admit("a", 0)
        if got is None:
            admitted += 1
        elif got[1].endswith("spent"):
            break
        else:
            await asyncio.sleep(0.01)
    assert admitted == 5
    assert state.budget_admit("a", 0) is not None
    redis_server.stop()
    assert await until(lambda: not fleet.live and fleet.failures >= 1)
    own = [state.budget_admit("a", 0) for _ in range(6)]
    assert own[:5] == [None] * 5 and own[5] is not None and own[5][1] == "budget: rpm 5 spent"
    await fleet.aclose()


async def test_budget_short_of_one_call_says_spent_and_sends_nothing(
    redis_server: RedisServer,
) -> None:
    """The lease holds a few tokens, the fleet has none left, a call needs more than the lease:
    the budget must say "spent" (wait for the window) rather than "reserving" for ever, which
    the router answered by sending the call after one sync_ms without a budget (over-admit)."""
    import redis.asyncio as aioredis
    from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

    from clauderoute.fleet import FleetRouteState
    from clauderoute.routing._budget import BudgetLimits
    from clauderoute.routing._signals import Signals
    from clauderoute.routing._state import InProcessState

    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fleet = FleetState(s)
    limits = {"a": BudgetLimits(input_tpm=1000)}
    state = FleetRouteState(fleet, InProcessState(limits), budgets=limits, window_s=3600)
    budget = state.budgets["a"]
    lease = budget.input
    assert lease is not None
    fleet.start()
    assert await until(lambda: fleet.live)
    assert await until(lambda: state.budget_admit("a", 1) is None)  # a first lease
    assert await until(lambda: lease.avail >= 5)
    held = lease.avail
    r = aioredis.from_url(redis_server.url)  # another process takes the rest of the window
    cur = budget._keys("input_tpm", budget._window()[0])[0]
    await r.set(cur, 1000)
    await r.aclose()
    got = state.budget_admit("a", held + 50)
    for _ in range(500):  # a few ticks at most; the old code said "reserving" every time
        if got is not None and got[1].endswith("spent"):
            break
        await asyncio.sleep(0.01)
        got = state.budget_admit("a", held + 50)
    assert got is not None and got[1] == "budget: input_tpm 1000 spent", got
    assert state.budget_admit("a", 1) is None  # what the lease still holds is still usable
    async with AnthropicEmulator(api_key="k", latency=LatencyProfile()) as emu:
        client = cr.AsyncClient(
            providers=[AnthropicProvider(name="a", base_url=emu.url, api_key="k")],
            signals=Signals(state),
            tracing=False,
            deadline=5,
        )
        async with client:
            with pytest.raises(cr.AllPlatformsFailed, match="input_tpm 1000 spent"):
                await client.messages.create(
                    model="claude-haiku-4-5",
                    max_tokens=8,
                    messages=[{"role": "user", "content": "word " * 400}],
                )
        assert emu.requests == []  # nothing sent past the fleet's budget
    await fleet.aclose()


async def test_password_appears_nowhere(
    redis_server: RedisServer, tmp_path: Any, monkeypatch: Any, caplog: Any
) -> None:
    """A password from ``${ENV}`` in ``[state] url``: through a start, calls, Redis killed and
    back, and a wrong password, it is in no log line of any logger at DEBUG (redis-py's too),
    not in ``/readyz`` of a gateway, not in an error, and not in a repr of the objects."""
    import aiohttp
    from aiohttp import web
    from clauderoute_anthropic import AnthropicEmulator

    from clauderoute.gateway import Gateway, GatewaySettings

    pw = redis_server.password
    monkeypatch.setenv("REDIS_PW", pw)
    seen: list[str] = []
    async with AnthropicEmulator(api_key="k", latency=LatencyProfile()) as emu:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[providers.a]\nkind = "anthropic"\napi_key = "k"\n'
            f'base_url = "{emu.url}"\n[route.budgets.a]\nrpm = 1000\n'
            f'[state]\nurl = "redis://:${{REDIS_PW}}@127.0.0.1:{redis_server.port}'
            f'/0"\nsync_ms = 20\nop_timeout_ms = 100\n'
        )
        with caplog.at_level(logging.DEBUG):
            client = cr.AsyncClient.from_config(cfg, tracing=False)
            fleet = client.router.breaker.fleet  # type: ignore[union-attr]
            gw = Gateway(client, GatewaySettings(api_keys=["gw-key-0123456789"]))
            runner = web.AppRunner(gw.app(), access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

            async def readyz() -> str:
                async with (
                    aiohttp.ClientSession() as s,
                    s.get(f"http://127.0.0.1:{port}/readyz") as r,
                ):
                    assert r.status == 200
                    return await r.text()

            try:
                assert await until(lambda: fleet.live)
                seen.append(await readyz())
                for _ in range(3):
                    await client.messages.create(
                        model="claude-haiku-4-5",
                        max_tokens=8,
                        messages=[{"role": "user", "content": "x"}],
                    )
                redis_server.stop()
                assert await until(lambda: not fleet.live and fleet.failures >= 2)
                await client.messages.create(
                    model="claude-haiku-4-5",
                    max_tokens=8,
                    messages=[{"role": "user", "content": "x"}],
                )
                seen.append(await readyz())
                assert '"degraded"' in seen[-1]
                redis_server.start()
                assert await until(lambda: fleet.live, 20.0)
                seen.append(await readyz())
            finally:
                await runner.cleanup()
                await client.close()
            seen += [
                repr(fleet),
                str(fleet),
                repr(fleet.settings),
                str(fleet.status()),
                repr(client.router.breaker),
                repr(client.router.signals.state),
                repr(client.router.signals.state.budgets),
            ]  # type: ignore[union-attr]
            # a wrong password: Redis refuses, the error and the logs still say nothing of it
            wrong = state_settings(
                {"url": f"redis://:wrong-{pw}@127.0.0.1:{redis_server.port}/0", "sync_ms": 20},
                env={},
            )
            assert wrong is not None
            bad = FleetState(wrong)
            bad.start()
            assert await until(lambda: bad.failures >= 1)
            seen += [str(bad.last_error), str(bad.status()), repr(bad)]
            await bad.aclose()
            with pytest.raises(cr.ConfigurationError) as e:
                state_settings({"url": f"redis://:{pw}@h/0", "sync_ms": 0}, env={})
            seen.append(str(e.value))
            with pytest.raises(cr.ConfigurationError) as e:
                state_settings({"url": f"redis://:{pw}@h/0", "nope": 1}, env={})
            seen.append(str(e.value))
    seen += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("redis" in r.name for r in caplog.records)  # redis-py's own DEBUG lines
    assert "unavailable" in caplog.text and "AuthenticationError" in str(bad.last_error)
    leaks = [s for s in seen if pw in s]
    assert not leaks, leaks[:3]


async def test_stopped_redis_calls_go_on_then_resync(redis_server: RedisServer) -> None:
    """redis-server SIGSTOPped mid-run (connections open, nothing answers): every operation
    ends at op_timeout_ms, the process routes on its own state and every call succeeds; a
    circuit opened meanwhile reaches the other process once SIGCONT lets Redis answer."""
    import os
    import signal

    from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

    from clauderoute.fleet import FleetRouteState
    from clauderoute.routing._budget import BudgetLimits
    from clauderoute.routing._signals import Signals
    from clauderoute.routing._state import InProcessState

    s = state_settings({"url": redis_server.url, "sync_ms": 20, "op_timeout_ms": 100}, env={})
    assert s is not None
    fa, fb = FleetState(s), FleetState(s)
    ba, bb = SharedBreaker(fa, threshold=1, cooldown_s=60), SharedBreaker(fb, threshold=1)
    limits = {"a": BudgetLimits(rpm=100_000)}
    state = FleetRouteState(fa, InProcessState(limits), budgets=limits, window_s=3600)
    fa.start()
    fb.start()
    assert await until(lambda: fa.live and fb.live)
    proc = redis_server.proc
    assert proc is not None
    ok, errors, stop = 0, [], asyncio.Event()
    async with AnthropicEmulator(api_key="k", latency=LatencyProfile(ttft_s=0.002)) as emu:
        client = cr.AsyncClient(
            providers=[AnthropicProvider(name="a", base_url=emu.url, api_key="k")],
            breaker=ba,
            signals=Signals(state),
            tracing=False,
            deadline=10,
        )

        async def caller() -> None:
            nonlocal ok
            while not stop.is_set():
                try:
                    await client.messages.create(
                        model="claude-haiku-4-5",
                        max_tokens=8,
                        messages=[{"role": "user", "content": "x"}],
                    )
                    ok += 1
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

        callers = [asyncio.create_task(caller()) for _ in range(4)]
        try:
            assert await until(lambda: ok >= 20)
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                assert await until(lambda: not fa.live and fa.failures >= 1)
                during = ok
                assert await until(lambda: ok >= during + 50)  # calls go on without Redis
                ba.failure("other", "m")  # opened while Redis cannot hear it
                assert fa.status()["state"] == "degraded"
            finally:
                os.kill(proc.pid, signal.SIGCONT)
            assert await until(lambda: fa.live and fb.live, 20.0)
            assert await until(lambda: bb.state("other", "m") != 0)  # re-synced
            after = ok
            assert await until(lambda: ok >= after + 20)
        finally:
            stop.set()
            await asyncio.gather(*callers)
            client.router.breaker = None
            await client.close()
    assert errors == []
    assert fa.status()["state"] == "ok" and fa.outages >= 1
    for f in (fa, fb):
        await f.aclose()


async def test_flushed_redis_gets_open_circuits_reannounced(redis_server: RedisServer) -> None:
    """FLUSHALL while a circuit is open: the next publish notices (its pipeline finds the
    epoch key gone) and the process re-announces the circuit at once, staying live (a flush
    is not an outage: no fallback to local budgets); an idle process notices within check_s.
    A process that joins after the flush learns both circuits."""
    import redis.asyncio as aioredis

    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fa, fi = FleetState(s), FleetState(s)
    ba = SharedBreaker(fa, threshold=1, cooldown_s=60)
    bi = SharedBreaker(fi, threshold=1, cooldown_s=60)
    fa.check_s = 3600.0  # only its own publishing can notice the flush
    fi.check_s = 0.5  # idle: the periodic check notices it
    for f in (fa, fi):
        f.start()
    assert await until(lambda: fa.live and fi.live)
    ba.failure("old", "m")
    bi.failure("idle", "m")
    r = aioredis.from_url(redis_server.url)
    assert await until(lambda: bi.state("old", "m") != 0 and ba.state("idle", "m") != 0)
    await r.flushall()
    ba.failure("new", "m")  # a publish after the flush
    assert await until(lambda: fa.flushes >= 1 and fi.flushes >= 1)
    assert fa.live and fi.live and fa.failures == fi.failures == 0
    fc = FleetState(s)
    bc = SharedBreaker(fc, threshold=1)
    fc.start()
    assert await until(lambda: all(bc.state(p, "m") != 0 for p in ("old", "new", "idle"))), [
        bc.state(p, "m") for p in ("old", "new", "idle")
    ]
    await r.aclose()
    for f in (fa, fi, fc):
        await f.aclose()


async def test_rediss_url_over_tls(redis_server: RedisServer, tmp_path: Any) -> None:
    """``rediss://`` against a real redis-server listening with TLS only (a certificate made
    here with openssl): a change crosses two processes' states; without the CA the
    certificate is refused, the state degrades, and the error names no password."""
    import shutil
    import subprocess

    from tests.test_fleet import _free_port

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: cannot make a certificate for the TLS test")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    await asyncio.to_thread(
        subprocess.run,
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    port, pw = _free_port(), redis_server.password
    proc = subprocess.Popen(  # noqa: ASYNC220
        [
            redis_server.exe,
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(cert),
            "--tls-auth-clients",
            "no",
            "--requirepass",
            pw,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"rediss://:{pw}@127.0.0.1:{port}/0"
        # A TLS handshake on a loaded machine can outlast the 250 ms default for one
        # operation; this test is about TLS, not that budget (tested elsewhere).
        tls = {"sync_ms": 20, "op_timeout_ms": 3000}
        s = state_settings({"url": f"{url}?ssl_ca_certs={cert}", **tls}, env={})
        assert s is not None
        fa, fb = FleetState(s), FleetState(s)
        ba, bb = SharedBreaker(fa, threshold=1), SharedBreaker(fb, threshold=1)
        fa.start()
        fb.start()
        assert await until(lambda: fa.live and fb.live, 20.0), (fa.status(), fb.status())
        ba.failure("p", "m")
        assert await until(lambda: bb.state("p", "m") != 0)
        untrusted = state_settings({"url": url, **tls}, env={})
        assert untrusted is not None
        fu = FleetState(untrusted)
        fu.start()
        assert await until(lambda: fu.failures >= 1)
        assert not fu.live and "CERTIFICATE" in str(fu.last_error).upper(), fu.last_error
        assert pw not in str(fu.status()) + repr(fa) + str(fa.status())
        for f in (fa, fb, fu):
            await f.aclose()
    finally:
        proc.kill()
        proc.wait()


async def test_cluster_url_shares_state(redis_server: RedisServer, tmp_path: Any) -> None:
    """``?cluster=true`` against a real three-node Redis Cluster (redis-server
    --cluster-enabled, joined by redis-cli): a circuit crosses, an rpm = 5 budget admits
    exactly 5 (its Lua script's keys share a hash slot), and a process started afterwards
    catches up (SCAN over every node). A cluster pipeline refuses PUBLISH and a cluster's
    SCAN answers per node: both failed here before, and the state never went live."""
    import shutil
    import subprocess

    from clauderoute.fleet import FleetRouteState
    from clauderoute.routing._budget import BudgetLimits
    from clauderoute.routing._state import InProcessState
    from tests.test_fleet import _free_port

    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not installed: cannot join a Redis Cluster")
    ports: list[int] = []
    while len(ports) < 3:  # a node's cluster bus listens on port + 10000 too
        port = _free_port()
        if port + 10000 <= 65535 and port not in ports:
            ports.append(port)
    nodes = []
    for port in ports:
        (tmp_path / str(port)).mkdir()
        nodes.append(
            subprocess.Popen(  # noqa: ASYNC220
                [
                    redis_server.exe,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                ],
                cwd=tmp_path / str(port),
                stdout=subprocess.DEVNULL,
            )
        )
    try:
        for _ in range(200):
            made = await asyncio.to_thread(
                subprocess.run,
                [
                    cli,
                    "--cluster",
                    "create",
                    *(f"127.0.0.1:{p}" for p in ports),
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                capture_output=True,
            )
            if made.returncode == 0:
                break
            await asyncio.sleep(0.05)  # (the nodes are still starting)
        assert made.returncode == 0, made.stdout[-500:]
        s = state_settings(
            {"url": f"redis://127.0.0.1:{ports[0]}/0?cluster=true", "sync_ms": 20}, env={}
        )
        assert s is not None and s.cluster
        fa, fb = FleetState(s), FleetState(s)
        ba, bb = SharedBreaker(fa, threshold=1), SharedBreaker(fb, threshold=1)
        limits = {"a": BudgetLimits(rpm=5)}
        state = FleetRouteState(fa, InProcessState(limits), budgets=limits, window_s=3600)
        fa.start()
        fb.start()
        assert await until(lambda: fa.live and fb.live, 20.0), (fa.status(), fb.status())
        ba.failure("p", "m")
        assert await until(lambda: bb.state("p", "m") != 0)
        admitted = 0
        for _ in range(500):
            got = state.budget_admit("a", 0)
            if got is None:
                admitted += 1
            elif got[1].endswith("spent"):
                break
            else:
                await asyncio.sleep(0.01)
        assert admitted == 5
        fc = FleetState(s)
        bc = SharedBreaker(fc)
        fc.start()
        assert await until(lambda: bc.state("p", "m") != 0)  # caught up from the cluster
        for f in (fa, fb, fc):
            await f.aclose()
    finally:
        for n in nodes:
            n.kill()
            n.wait()


async def test_output_budget_holds_before_a_tick_of_the_window(redis_server: RedisServer) -> None:
    """output_tpm = 1000: in a window no tick has reached yet (a new minute, or a process
    that just started), this process's own unsent output still counts. The check used to
    need a tick of the current window first, and admitted without limit until then."""
    from clauderoute.fleet import FleetBudget
    from clauderoute.routing._budget import BudgetLimits

    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fleet = FleetState(s)
    now = [time.time()]
    budget = FleetBudget(fleet, "o", BudgetLimits(output_tpm=1000), wall_clock=lambda: now[0])
    fleet.start()
    assert await until(lambda: fleet.live and budget._out_window >= 0)  # a tick ran
    now[0] += 60.0  # the next minute: no tick has seen it yet (and none runs: no await below)
    admitted = 0
    for _ in range(100):
        if budget.admit(0) is not None:
            break
        admitted += 1
        budget.settle(0, 0, 400)
    assert admitted == 3
    await fleet.aclose()


async def test_a_lease_granted_for_a_past_window_is_not_spent_in_the_next(
    redis_server: RedisServer,
) -> None:
    """A lease request in flight (Redis stopped) while the minute turns: its grant was counted
    in the old minute's counter, so it must not be admitted from in the new one. Invariant
    checked: every call admitted in a window is counted in that window's fleet counter."""
    import os
    import signal

    import redis.asyncio as aioredis

    from clauderoute.fleet import FleetBudget
    from clauderoute.routing._budget import BudgetLimits

    # sync_ms 5: spending a minute's budget takes a lease top-up per tick
    s = state_settings({"url": redis_server.url, "sync_ms": 5, "op_timeout_ms": 60_000}, env={})
    assert s is not None
    fleet = FleetState(s)
    now = [time.time()]
    budget = FleetBudget(fleet, "a", BudgetLimits(rpm=1000), wall_clock=lambda: now[0])
    lease = budget.requests
    assert lease is not None
    fleet.start()
    assert await until(lambda: fleet.live and lease.avail > 0)
    proc = redis_server.proc
    assert proc is not None
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        while budget.admit(0) is None:  # spend the lease: a top-up is asked for (in flight)
            pass
        ops = fleet.ops
        assert await until(lambda: fleet.ops > ops)  # the lease request went out
        now[0] += 60.0  # the next minute, while that request is unanswered
        assert budget.admit(0) is not None  # a new window's lease starts empty
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    window = budget._window()[0]
    admitted = 0
    for _ in range(5000):  # the whole new minute's budget, to "spent"
        got = budget.admit(0)
        if got is None:
            admitted += 1
        elif got[1].endswith("spent"):
            break
        else:
            await asyncio.sleep(0.005)
    assert lease.window == window
    r = aioredis.from_url(redis_server.url)
    counted = int(await r.get(budget._keys("rpm", window)[0]) or 0)
    await r.aclose()
    assert 0 < admitted <= counted, (admitted, counted)
    await fleet.aclose()


async def test_state_url_env_latency_and_hedging_shared_through_config(
    redis_server: RedisServer, tmp_path: Any, monkeypatch: Any
) -> None:
    """Two clients built from config files (one process each in a real fleet): the URL comes
    from ``$CLAUDEROUTE_STATE_URL`` (overriding the file's, which points nowhere), the latency
    policy reads a summary that holds the other client's samples, and ``hedge_after`` builds a
    fleet-wide hedging budget that counts the other client's calls."""
    from clauderoute_anthropic import AnthropicEmulator

    from clauderoute.fleet import FleetRouteState

    monkeypatch.setenv("CLAUDEROUTE_STATE_URL", redis_server.url)
    async with AnthropicEmulator(api_key="k", latency=LatencyProfile(ttft_s=0.002)) as emu:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[providers.a]\nkind = "anthropic"\napi_key = "k"\n'
            f'base_url = "{emu.url}"\n[providers.b]\nkind = "anthropic"\n'
            f'api_key = "k"\nbase_url = "{emu.url}"\n'
            f'[route]\npolicy = "latency"\nhedge_after = "p95"\n'
            f'[state]\nurl = "redis://127.0.0.1:1/0"\nsync_ms = 20\n'
        )
        one = cr.AsyncClient.from_config(cfg, tracing=False)
        two = cr.AsyncClient.from_config(cfg, tracing=False)
        async with one, two:
            for c in (one, two):
                assert isinstance(c.router.stats, FleetLatencyStats)
                assert isinstance(c.router.hedging, FleetHedging)
                assert isinstance(c.router.signals.state, FleetRouteState)  # type: ignore[union-attr]
                c.router.stats.publish_every_s = 0.0  # type: ignore[attr-defined]
            fa = one.router.breaker.fleet  # type: ignore[union-attr]
            fb = two.router.breaker.fleet  # type: ignore[union-attr]
            assert fa.settings.url == redis_server.url  # the variable won over the file
            fa.start()
            fb.start()
            assert await until(lambda: fa.live and fb.live)
            for _ in range(10):
                await one.messages.create(
                    model="claude-haiku-4-5",
                    max_tokens=8,
                    messages=[{"role": "user", "content": "x"}],
                )

            def seen_by_two() -> float:
                return sum(
                    h.weight()
                    for p in ("a", "b")
                    if (h := two.router.stats.get(p, "claude-haiku-4-5")) is not None
                )

            assert await until(lambda: seen_by_two() >= 9.0)  # one's samples (decayed)
            hedging = two.router.hedging
            assert isinstance(hedging, FleetHedging)
            assert await until(lambda: sum(c for c, _ in hedging._others.values()) >= 10)
            assert hedging.calls == 0  # two made none: the counts are one's


async def test_prefixes_keep_routers_apart(redis_server: RedisServer) -> None:
    """Two routers on one Redis with different ``prefix`` values share nothing; the same prefix
    shares (the control that makes the first check able to fail)."""
    states = [
        FleetState(
            state_settings({"url": redis_server.url, "sync_ms": 20, "prefix": p}, env={}) or _no()
        )
        for p in "xxy"
    ]
    breakers = [SharedBreaker(f, threshold=1) for f in states]
    for f in states:
        f.start()
    assert await until(lambda: all(f.live for f in states))
    breakers[0].failure("p", "m")
    assert await until(lambda: breakers[1].state("p", "m") != 0)  # same prefix "x"
    late = FleetState(
        state_settings({"url": redis_server.url, "sync_ms": 20, "prefix": "y"}, env={}) or _no()
    )
    lb = SharedBreaker(late)
    late.start()
    assert await until(lambda: late.live)
    breakers[2].failure("q", "m")  # prefix "y" works, and its change came after x's
    assert await until(lambda: lb.state("q", "m") != 0)
    assert breakers[2].state("p", "m") == 0 and lb.state("p", "m") == 0
    assert breakers[0].state("q", "m") == 0
    for f in (*states, late):
        await f.aclose()


def _no() -> Any:
    raise AssertionError("no settings")


async def test_sentinel_failover_reaches_the_new_master(
    redis_server: RedisServer, tmp_path: Any
) -> None:
    """``redis+sentinel://`` through a real Sentinel watching a master and its replica: the
    master is killed, Sentinel promotes the replica, and the state reconnects to it (asking
    Sentinel again), goes live, and changes cross again between two processes' states."""
    import redis.asyncio as aioredis
    import redis.exceptions

    from tests.test_fleet import _free_port

    pw = redis_server.password
    rport, sport = _free_port(), _free_port()
    master = aioredis.from_url(redis_server.url)
    try:  # the first sync starts at once (Redis 7 otherwise waits 5 s for more replicas)
        await master.config_set("repl-diskless-sync-delay", 0)
    finally:
        await master.aclose()
    replica = subprocess.Popen(  # noqa: ASYNC220
        [
            redis_server.exe,
            "--port",
            str(rport),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            pw,
            "--masterauth",
            pw,
            "--dir",  # the replica writes the master's snapshot there on sync
            str(tmp_path),
            "--replicaof",
            "127.0.0.1",
            str(redis_server.port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    r = aioredis.from_url(f"redis://:{pw}@127.0.0.1:{rport}/0")
    sentinel: subprocess.Popen[bytes] | None = None
    states: list[FleetState] = []
    try:
        # The replica has the master's data (so the promotion loses nothing) before Sentinel
        # starts: Sentinel reads the master's INFO, which lists its replicas, when it connects
        # and then every 10 s, so a replica that linked after that first read stayed unknown to
        # it for up to 10 s (the test then took 11 s instead of 1).
        info: dict[str, Any] = {}
        for _ in range(500):
            try:
                info = await r.info("replication")
            except redis.exceptions.ConnectionError:  # the replica is not listening yet
                info = {}
            if info.get("master_link_status") == "up":
                break
            await asyncio.sleep(0.02)
        assert info.get("master_link_status") == "up", info
        sentinel = _sentinel(
            redis_server,
            tmp_path,
            sport,
            "sentinel down-after-milliseconds mymaster 300\n"
            "sentinel failover-timeout mymaster 2000\n",
        )
        s = state_settings(
            {
                "url": f"redis+sentinel://:{pw}@127.0.0.1:{sport}/mymaster/0",
                "sync_ms": 20,
                "op_timeout_ms": 200,
                # reconnection attempts during the failover stay close together (by default
                # the wait doubles up to 5 s; what this test checks is where they reconnect)
                "max_backoff_ms": 100,
            },
            env={},
        )
        assert s is not None
        states = [FleetState(s), FleetState(s)]
        a, b = (SharedBreaker(f, threshold=1) for f in states)
        for f in states:
            f.start()
        assert await until(lambda: all(f.live for f in states), 20.0)
        a.failure("before", "m")
        assert await until(lambda: b.state("before", "m") != 0)

        sent = aioredis.from_url(f"redis://127.0.0.1:{sport}/0")
        try:  # Sentinel knows the replica (from the master's INFO it read on connecting)
            for _ in range(1500):
                if await sent.execute_command("SENTINEL", "REPLICAS", "mymaster"):
                    break
                await asyncio.sleep(0.02)
            assert await sent.execute_command("SENTINEL", "REPLICAS", "mymaster")
        finally:
            await sent.aclose()
        redis_server.stop()  # the master dies
        assert await until(lambda: not states[0].live)

        async def role() -> str:  # (the promotion closes the replica's client connections)
            try:
                return str((await r.info("replication")).get("role"))
            except redis.exceptions.ConnectionError:
                return "reconnecting"

        for _ in range(1000):  # Sentinel promotes the replica
            if await role() == "master":
                break
            await asyncio.sleep(0.02)
        assert await role() == "master"
        assert await until(lambda: all(f.live for f in states), 30.0), [f.status() for f in states]
        a.failure("after", "m")
        assert await until(lambda: b.state("after", "m") != 0)
        assert pw not in str([f.status() for f in states])
    finally:
        await r.aclose()
        for f in states:
            await f.aclose()
        for p in (sentinel, replica):
            if p is not None:
                p.kill()
                p.wait()


async def test_aclose_returns_when_a_redis_call_swallows_the_cancellation(
    redis_server: RedisServer,
) -> None:
    """On Python 3.11 redis-py's ``asyncio.wait_for`` can swallow a cancellation (the write
    finished at the same moment): the sync task then went on ticking for ever and ``aclose``
    (a worker's or gateway's shutdown) never returned. A tick hook that swallows the
    cancellation once, as that does, stands in for the race; aclose must still return."""
    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fleet = FleetState(s)
    inside = asyncio.Event()

    async def swallows(redis: Any) -> None:
        inside.set()
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
        except asyncio.CancelledError:
            pass  # swallowed, as asyncio.wait_for does on 3.11 when the inner op just ended

    fleet.on_tick(swallows)
    fleet.start()
    await asyncio.wait_for(inside.wait(), 20)
    done, _ = await asyncio.wait({asyncio.ensure_future(fleet.aclose())}, timeout=20)
    assert done, "aclose() never returned: the sync task kept ticking after its cancellation"


async def test_tokens_given_back_after_the_minute_turned_stay_in_the_old_one(
    redis_server: RedisServer,
) -> None:
    """A call admitted in one minute that fails (or was over-estimated) in the next gives its
    input tokens back: they were counted in the old minute's counter, so they must not become
    admissible in the new minute. Invariant: the tokens admitted in a minute are at most the
    fleet's counter for that minute."""
    import redis.asyncio as aioredis

    from clauderoute.fleet import FleetBudget
    from clauderoute.routing._budget import BudgetLimits

    s = state_settings({"url": redis_server.url, "sync_ms": 5}, env={})  # a top-up per tick
    assert s is not None
    fleet = FleetState(s)
    now = [time.time()]
    budget = FleetBudget(fleet, "a", BudgetLimits(input_tpm=10_000), wall_clock=lambda: now[0])
    fleet.start()
    assert await until(lambda: fleet.live)
    assert await until(lambda: budget.admit(100) is None)  # one call, this minute
    assert await until(lambda: budget.admit(100) is None)  # and another
    now[0] += 60.0  # the next minute; both calls end in it
    assert budget.admit(1) is not None  # (the lease rolls to the new minute, empty)
    budget.release(100)  # the first got no billed answer
    budget.settle(100, 10, 5)  # the second used 10 of its 100
    window = budget._window()[0]
    tokens = 0
    for _ in range(5000):  # the whole new minute's budget, to "spent"
        got = budget.admit(50)
        if got is None:
            tokens += 50
        elif got[1].endswith("spent"):
            break
        else:
            await asyncio.sleep(0.005)
    r = aioredis.from_url(redis_server.url)
    counted = int(await r.get(budget._keys("input_tpm", window)[0]) or 0)
    await r.aclose()
    assert 0 < tokens <= counted, (tokens, counted)
    await fleet.aclose()


async def test_flushed_redis_gets_rate_limit_observations_reannounced(
    redis_server: RedisServer,
) -> None:
    """FLUSHALL after a process saw a platform announce exhaustion: once the flush is noticed
    the process publishes its observation again, so a process starting afterwards still skips
    the provider (it would otherwise learn of it only from a 429)."""
    import redis.asyncio as aioredis

    from clauderoute.fleet import FleetRouteState

    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fa = FleetState(s)
    a = FleetRouteState(fa, _LocalLimits(), limits_type=_Seen)
    fa.check_s = 0.05
    fa.start()
    assert await until(lambda: fa.live)
    a.observe_limits("p", "m", _Seen(remaining=0, observed_at=time.time()))
    r = aioredis.from_url(redis_server.url)
    for _ in range(500):  # the observation reached Redis
        if await r.exists("clauderoute:rl:p\x1fm"):
            break
        await asyncio.sleep(0.01)
    assert await r.exists("clauderoute:rl:p\x1fm")
    await r.flushall()
    assert await until(lambda: fa.flushes >= 1)
    fc = FleetState(s)
    lc = _LocalLimits()
    FleetRouteState(fc, lc, limits_type=_Seen)
    fc.start()
    assert await until(lambda: ("p", "m") in lc.limits)  # caught up after the flush
    assert lc.limits["p", "m"].remaining == 0
    await r.aclose()
    for f in (fa, fc):
        await f.aclose()


async def test_flushed_redis_gets_cache_affinity_reannounced(redis_server: RedisServer) -> None:
    """FLUSHALL after a process placed cache keys: once the flush is noticed it publishes them
    again with what is left of their TTL, so a process starting afterwards sends the same
    prompt prefix to the same provider (it would otherwise pick one afresh and miss the cache).
    A key another process placed since is theirs and is not re-announced."""
    import redis.asyncio as aioredis

    from clauderoute.fleet import FleetRouteState
    from clauderoute.routing import InProcessState

    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fa, fb = FleetState(s), FleetState(s)
    a = FleetRouteState(fa, InProcessState())
    b = FleetRouteState(fb, InProcessState())
    fa.check_s = 0.05
    for f in (fa, fb):
        f.start()
    assert await until(lambda: fa.live and fb.live)
    mine, taken, short = b"\x01" * 16, b"\x02" * 16, b"\x03" * 16
    short_gone = time.monotonic() + 0.15  # the short key's TTL (0.1 s) has run out by then
    a.affinity_put(((mine, 300.0), (taken, 300.0), (short, 0.1)), "bedrock")
    assert await until(lambda: b.affinity_get((taken,)) == "bedrock")
    b.affinity_put(((taken, 300.0),), "vertex")  # placed again elsewhere: B's now
    assert await until(lambda: a.affinity_get((taken,)) == "vertex")
    await fb.aclose()
    r = aioredis.from_url(redis_server.url)
    ttl = -2
    for _ in range(500):  # A's key reached Redis
        ttl = await r.pttl(f"clauderoute:af:{mine.hex()}")
        if ttl > 0:
            break
        await asyncio.sleep(0.01)
    assert ttl > 0
    await asyncio.sleep(max(0.0, short_gone - time.monotonic()))  # the short key's TTL runs out
    await r.flushall()
    assert await until(lambda: fa.flushes >= 1)
    for _ in range(500):  # re-announced, with what is left of its TTL
        if await r.exists(f"clauderoute:af:{mine.hex()}"):
            break
        await asyncio.sleep(0.01)
    left = await r.pttl(f"clauderoute:af:{mine.hex()}")
    assert 0 < left <= 300_000
    assert not await r.exists(f"clauderoute:af:{taken.hex()}")  # B placed it last
    assert not await r.exists(f"clauderoute:af:{short.hex()}")  # expired: not brought back
    fc = FleetState(s)
    c = FleetRouteState(fc, InProcessState())
    fc.start()
    assert await until(lambda: c.affinity_get((mine,)) == "bedrock")  # caught up after the flush
    assert c.affinity_get((taken,)) is None
    await r.aclose()
    for f in (fa, fc):
        await f.aclose()


async def test_one_budgeted_provider_sends_nothing_past_the_fleet_budget(
    redis_server: RedisServer,
) -> None:
    """rpm = 5 on the only provider, from the first call (the shared state still starting):
    the router waits while the fleet's lease is being reserved and sends exactly 5 calls; the
    others fail before the network (the budget frees up after the deadline). After a
    "reserving" wait the router used to send the call without any budget: 6 reached the
    platform here."""
    from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

    from clauderoute.fleet import FleetRouteState
    from clauderoute.routing._budget import BudgetLimits
    from clauderoute.routing._signals import Signals
    from clauderoute.routing._state import InProcessState

    s = state_settings({"url": redis_server.url, "sync_ms": 20}, env={})
    assert s is not None
    fleet = FleetState(s)
    limits = {"a": BudgetLimits(rpm=5)}
    state = FleetRouteState(fleet, InProcessState(limits), budgets=limits, window_s=3600)
    async with AnthropicEmulator(api_key="k", latency=LatencyProfile()) as emu:
        provider = AnthropicProvider(name="a", base_url=emu.url, api_key="k")
        client = cr.AsyncClient(
            providers=[provider], signals=Signals(state), tracing=False, deadline=3
        )
        ok, refused = 0, 0
        async with client:
            for _ in range(8):
                try:
                    await client.messages.create(
                        model="claude-haiku-4-5",
                        max_tokens=8,
                        messages=[{"role": "user", "content": "x"}],
                    )
                    ok += 1
                except cr.AllPlatformsFailed as exc:
                    assert "rpm 5 spent" in str(exc), exc
                    refused += 1
        assert (ok, refused, len(emu.requests)) == (5, 3, 5)
    await fleet.aclose()

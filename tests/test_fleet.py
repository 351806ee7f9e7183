"""Routing state shared through a REAL redis-server by several real processes.

The tests start ``redis-server`` on a free loopback port. Without it they skip, loudly; with
``CLAUDEROUTE_REQUIRE_REDIS=1`` (set by .ci/run, which installs it) a missing server fails.
Every wait is a poll with a deadline on an observable state, never a timing assertion.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clauderoute.testing import Fault, FaultPlan, LatencyProfile

WORKER = str(Path(__file__).with_name("fleet_worker.py"))
SYNC_S = 0.05  # the workers' sync_ms
MARGIN_S = 5.0  # generous: the machine is shared; the checks are on state, not on time

pytest.importorskip("redis", reason="clauderoute[redis] (redis-py) is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A real redis-server on loopback that a test may kill and start again (same port)."""

    def __init__(self, exe: str, password: str) -> None:
        self.exe, self.password, self.port = exe, password, _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--requirepass",
                self.password,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                    if b"PONG" in s.recv(100):
                        return
            except OSError:
                time.sleep(0.01)  # redis-server is up within tens of ms: poll finely
        raise RuntimeError("redis-server did not start")

    def flush(self) -> None:
        """Empty every database (FLUSHALL), so that a test starts on a blank Redis."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(f"AUTH {self.password}\r\nFLUSHALL\r\n".encode())
            got = b""
            while got.count(b"\r\n") < 2:
                chunk = s.recv(100)
                assert chunk, got
                got += chunk
        assert got == b"+OK\r\n+OK\r\n", got

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


# The tests of this module share one redis-server and four worker processes (each Python start
# with these imports costs ~0.75 s of CPU; 24 of them were half the module's time), so they run on
# one pytest-xdist worker. Each test still starts on an empty Redis and on fresh fleet state in
# every process (``reset``: new objects under a prefix of its own); the ones about processes
# that join later or restart start those processes themselves.
pytestmark = pytest.mark.xdist_group("fleet")


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisServer]:
    yield from running_redis()


@pytest.fixture
def redis_server(shared_redis: RedisServer) -> RedisServer:
    """The module's redis-server, running and empty."""
    if shared_redis.proc is None:  # a test stopped it and did not get to start it again
        shared_redis.start()
    shared_redis.flush()
    return shared_redis


def running_redis() -> Iterator[RedisServer]:
    """A started redis-server (skip, or fail under CLAUDEROUTE_REQUIRE_REDIS=1, without it)."""
    exe = shutil.which("redis-server")
    if exe is None:
        reason = (
            "REDIS TESTS SKIPPED: redis-server is not installed (apt-get install "
            "redis-server); CI sets CLAUDEROUTE_REQUIRE_REDIS=1 and must not skip them"
        )
        if os.environ.get("CLAUDEROUTE_REQUIRE_REDIS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    server = RedisServer(exe, password="s3cret-pw-" + os.urandom(4).hex())
    server.start()
    yield server
    server.stop()


class Worker:
    """One fleet process (tests/fleet_worker.py) driven over stdin/stdout."""

    def __init__(self, url: str, cooldown_s: float = 1.0, prefix: str = "") -> None:
        self.url, self.prefix = url, prefix
        self.proc = subprocess.Popen(
            [sys.executable, WORKER, url, str(cooldown_s), *([prefix] if prefix else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __call__(self, op: str, **kw: Any) -> dict[str, Any]:
        self.send(op, **kw)
        return self.answer()

    def send(self, op: str, **kw: Any) -> None:
        """Start ``op`` without waiting for its answer (several workers then run at once)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()

    def answer(self) -> dict[str, Any]:
        """The answer to the op last sent."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"worker died: {err[-2000:]}")
        got: dict[str, Any] = json.loads(line)
        return got

    def close(self) -> str:
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # stuck: say where (tasks, threads), then stop it
            self.proc.send_signal(signal.SIGUSR2)
            time.sleep(1)
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(1)
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"worker did not exit: {err[-4000:]}") from None
        return err


@pytest.fixture(scope="module")
def fleet_processes(shared_redis: RedisServer) -> Iterator[list[Worker]]:
    # (until a test resets them, under a prefix no test's own processes use)
    workers = [Worker(shared_redis.url, prefix="idle" + os.urandom(6).hex()) for _ in range(4)]
    try:
        yield workers
    finally:
        logs = [w.close() for w in workers]
        for log in logs:
            assert shared_redis.password not in log  # no password in any log line


@pytest.fixture
def fleet(redis_server: RedisServer, fleet_processes: list[Worker]) -> list[Worker]:
    """Four processes, each on fresh fleet state under this test's own prefix."""
    prefix = "t" + os.urandom(6).hex()
    for i, w in enumerate(fleet_processes):
        if w.proc.poll() is not None:  # died in an earlier test (which failed for it)
            assert redis_server.password not in w.close()
            fleet_processes[i] = w = Worker(redis_server.url)
        w.prefix = prefix
        assert w("reset", prefix=prefix)["live"], "worker never synced with redis"
    return fleet_processes


def test_breaker_opens_fleet_wide_and_one_probe(fleet: list[Worker]) -> None:
    a, *others = fleet
    assert all(w("allow")["allow"] for w in fleet)
    assert a("fail", n=2)["state"] == 2  # threshold 2: open here
    for w in others:  # the others stop sending within sync_ms plus a margin
        assert w("until_blocked", within=SYNC_S + MARGIN_S)["blocked"]
    late = Worker(fleet[0].url, prefix=fleet[0].prefix)  # joins after it opened
    try:
        assert late("live")["live"]
        assert late("state")["state"] != 0  # open or half-open: caught up from Redis at once
    finally:
        late.close()
    # after the 1 s cooldown exactly one process in the fleet gets the half-open probe: all
    # four try at once (each of the losers tries for the whole 3 s)
    for w in fleet:
        w.send("try_probe", within=3.0)
    probes = [w.answer()["probe"] for w in fleet]
    assert probes.count(True) == 1, probes
    winner = fleet[probes.index(True)]
    winner("success")
    for w in fleet:  # the probe's success closes the circuit everywhere
        assert w("until_allowed", within=SYNC_S + MARGIN_S)["allowed"]


def test_rpm_budget_holds_across_processes(fleet: list[Worker]) -> None:
    admitted = [w("admit", within=MARGIN_S)["admitted"] for w in fleet]
    assert sum(admitted) == 10, admitted
    again = [w("admit", within=0.5)["admitted"] for w in fleet]
    assert sum(again) == 0, again


def test_affinity_holds_across_processes(fleet: list[Worker]) -> None:
    key = os.urandom(16).hex()
    fleet[0]("aff_put", key=key, provider="p1")
    for w in fleet[1:]:
        assert w("aff_get", key=key, within=MARGIN_S)["provider"] == "p1"
    late = Worker(fleet[0].url, prefix=fleet[0].prefix)  # a restarted process
    try:
        assert late("live")["live"]
        assert late("aff_get", key=key, within=MARGIN_S)["provider"] == "p1"  # caught up
    finally:
        late.close()


async def until(pred: Any, seconds: float = 10.0) -> bool:
    """Poll ``pred`` every 10 ms until it holds or ``seconds`` pass; its last answer (the fleet
    tests' waits: on an observable state, with a deadline, never a timing assertion)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        await asyncio.sleep(0.01)
    return bool(pred())


async def test_redis_killed_and_restarted_mid_run_loses_no_call(
    redis_server: RedisServer, fleet: list[Worker]
) -> None:
    from clauderoute_anthropic import AnthropicEmulator

    async with AnthropicEmulator(api_key="fleet-key", latency=LatencyProfile(ttft_s=0.01)) as emu:
        runs = [
            asyncio.ensure_future(asyncio.to_thread(w, "calls", urls=[emu.url], n=200, conc=4))
            for w in fleet
        ]
        assert await until(lambda: len(emu.requests) >= 100, 60)  # mid-run
        redis_server.stop()
        assert await until(lambda: len(emu.requests) >= 300, 60)  # calls go on without it
        redis_server.start()
        results = await asyncio.gather(*runs)
        assert [r["ok"] for r in results] == [200] * 4, [r["errors"] for r in results]
    for w in fleet:  # every process noticed the outage and re-synced
        assert w("live")["live"]
        st = w("status")
        assert st["state"] == "ok" and st["failures"] >= 1
        assert redis_server.password not in json.dumps(st)


async def test_fault_storm_across_four_processes(fleet: list[Worker]) -> None:
    from clauderoute_anthropic import AnthropicEmulator

    plan = FaultPlan(seed=7)
    plan.random_faults(
        0.3,
        [
            Fault(status=529),
            Fault(status=500),
            Fault(reset=True),
            Fault(status=429, retry_after=0.01),
            Fault(status=503),
        ],
    )
    async with (
        AnthropicEmulator(api_key="fleet-key", faults=plan) as bad,
        AnthropicEmulator(api_key="fleet-key") as good,
    ):
        results = await asyncio.gather(
            *(asyncio.to_thread(w, "calls", urls=[bad.url, good.url], n=250, conc=8) for w in fleet)
        )
    assert [r["ok"] for r in results] == [250] * 4, [r["errors"] for r in results]
    assert sum(r["served"].get("p1", 0) for r in results) > 0  # failover happened
    for w in fleet:
        st = w("status")
        assert st["state"] == "ok" and st["ops"] > 0


async def test_rpm_budget_through_the_router_across_processes(
    redis_server: RedisServer, fleet: list[Worker], tmp_path: Path
) -> None:
    """The whole wiring: three processes built from one config file with [state] and an
    rpm = 10 budget on provider a; a serves at most 10 calls between them, b the rest. (Three
    of the module's processes: each builds its client from the file, with fleet state of its
    own, apart from the test's harness state.)"""
    pytest.importorskip(
        "clauderoute.routing._signals",
        reason="the routing signals (issue 14) are not merged here yet",
    )
    from clauderoute_anthropic import AnthropicEmulator

    async with (
        AnthropicEmulator(api_key="fleet-key") as ea,
        AnthropicEmulator(api_key="fleet-key") as eb,
    ):
        path = tmp_path / "fleet.toml"
        path.write_text(
            f'[providers.a]\nkind = "anthropic"\napi_key = "fleet-key"\nbase_url = "{ea.url}"\n'
            f'[providers.b]\nkind = "anthropic"\napi_key = "fleet-key"\nbase_url = "{eb.url}"\n'
            f"[route.budgets.a]\nrpm = 10\n"
            f'[state]\nurl = "{redis_server.url}"\nsync_ms = 50\n'
        )
        results = await asyncio.gather(
            *(asyncio.to_thread(w, "config_calls", path=str(path), n=20) for w in fleet[:3])
        )
    assert [r["ok"] for r in results] == [20] * 3, [r["errors"] for r in results]
    assert {r["state"] for r in results} == {"FleetRouteState"}
    assert 1 <= len(ea.requests) <= 10, len(ea.requests)  # the platform's own count
    assert len(ea.requests) + len(eb.requests) == 60


async def test_cache_affinity_through_the_router_across_processes(
    redis_server: RedisServer, fleet: list[Worker], tmp_path: Path
) -> None:
    """Process 1 (order b, a) serves a cached prefix on b; process 2 (order a, b) then sends
    that prefix to b, because the fleet says b holds its cache, and other requests to a. (Two
    of the module's processes, each with a client built from its file.)"""
    pytest.importorskip(
        "clauderoute.routing._signals",
        reason="the routing signals (issue 14) are not merged here yet",
    )
    from clauderoute_anthropic import AnthropicEmulator

    async with (
        AnthropicEmulator(api_key="fleet-key") as ea,
        AnthropicEmulator(api_key="fleet-key") as eb,
    ):
        paths = []
        for order in ('"b", "a"', '"a", "b"'):
            path = tmp_path / f"fleet{len(paths)}.toml"
            path.write_text(
                f'[providers.a]\nkind = "anthropic"\napi_key = "fleet-key"\n'
                f'base_url = "{ea.url}"\n[providers.b]\nkind = "anthropic"\n'
                f'api_key = "fleet-key"\nbase_url = "{eb.url}"\n[route]\n'
                f'providers = [{order}]\n[state]\nurl = "{redis_server.url}"\nsync_ms = 50\n'
            )
            paths.append(str(path))
        prefix = "a long system prompt worth caching " * 20 + os.urandom(8).hex()
        one, two = fleet[0], fleet[1]
        first = await asyncio.to_thread(one, "config_calls", path=paths[0], n=1, cache=prefix)
        cached = await asyncio.to_thread(two, "config_calls", path=paths[1], n=3, cache=prefix)
        plain = await asyncio.to_thread(two, "config_calls", path=paths[1], n=1)
    assert first["served"] == {"b": 1}, first
    assert cached["served"] == {"b": 3}, cached  # without the fleet: a, its first choice
    assert plain["served"] == {"a": 1}, plain


async def test_rate_limit_exhaustion_seen_by_the_fleet(fleet: list[Worker]) -> None:
    """Process 1 spends provider p0's announced capacity (the emulator's rate-limit headers
    say 0 requests remaining, no 429); process 2 then routes to p1 without sending p0 a
    single request, so does a process started afterwards (caught up from Redis), and once
    the platform's reset has passed (the clocks moved, not slept) they return to p0.
    (Processes 1 and 2 are two of the module's, on this test's fresh state.)"""
    from clauderoute_anthropic import AnthropicEmulator

    from clauderoute.testing import Capacity

    offset = [0.0]
    cap = Capacity(requests=3, reset_s=60, clock=lambda: time.time() + offset[0])
    model = "claude-haiku-4-5"
    async with (
        AnthropicEmulator(api_key="fleet-key") as ea,
        AnthropicEmulator(api_key="fleet-key") as eb,
    ):
        ea.capacity = cap
        one, two = fleet[0], fleet[1]
        late: Worker | None = None
        try:
            urls = [ea.url, eb.url]
            first = await asyncio.to_thread(one, "signal_calls", urls=urls, n=3)
            assert first["served"] == {"p0": 3}, first
            assert two("until_limits", p="p0", m=model, remaining=0, within=MARGIN_S)["seen"]
            second = await asyncio.to_thread(two, "signal_calls", urls=urls, n=4)
            assert second["served"] == {"p1": 4}, second  # p0 skipped on what one saw
            late = Worker(one.url, prefix=one.prefix)  # a process started afterwards
            assert late("live")["live"]
            assert late("until_limits", p="p0", m=model, remaining=0, within=MARGIN_S)["seen"]
            third = await asyncio.to_thread(late, "signal_calls", urls=urls, n=2)
            assert third["served"] == {"p1": 2}, third
            assert len(ea.requests) == 3 and cap.refused == 0  # never a 429 from p0
            offset[0] = 61.0  # past the announced reset, for the platform and the process
            late("clock", offset=61.0)
            after = await asyncio.to_thread(late, "signal_calls", urls=urls, n=2)
            assert after["served"] == {"p0": 2}, after
            assert cap.refused == 0
        finally:
            if late is not None:
                late.close()


async def test_token_budgets_hold_across_processes(fleet: list[Worker]) -> None:
    """input_tpm = 1000 on provider t: four processes asking 100 input tokens a call admit at
    most 10 calls between them (each alone would admit 10), and every one ends on "spent";
    output_tpm = 1000 on provider o: what one process's answers used (1200 output tokens)
    makes every other process refuse o, though none of them used any."""
    results = await asyncio.gather(
        *(asyncio.to_thread(w, "admit", p="t", input=100, within=MARGIN_S) for w in fleet)
    )
    assert 1 <= sum(r["admitted"] for r in results) <= 10, results
    assert {r["why"] for r in results} == {"budget: input_tpm 1000 spent"}, results
    first = fleet[0]("admit", p="o", output=400, within=MARGIN_S)
    assert first == {"admitted": 3, "why": "budget: output_tpm 1000 spent"}, first
    for w in fleet[1:]:
        assert w("until_spent", p="o", within=MARGIN_S)["spent"]

"""Fleet state (issue #15): does ``[state]`` (Redis) cost the request path anything?

    python benchmarks/fleet.py [--calls 2000] [--reps 5] [--quick]

Two clients against one loopback server (``_server.py``, its own process, sending the Claude
API's rate-limit headers on every answer) and one ``redis-server`` this script starts on a free
loopback port, both built by ``AsyncClient.from_config`` from the same config file (the real
wiring), which routes over two providers with the ``latency`` policy and gives both providers
``[route.budgets]`` (rpm, input and output tpm, large enough never to refuse):

* ``inproc``: no ``[state]``: breaker, latency statistics, rate-limit observations and budgets
  in this process;
* ``fleet``: the same file with ``[state]`` (``sync_ms`` 100), synced with Redis before timing:
  every call reads the shared copy of each signal, publishes the rate limits its answer
  announced, and takes its budget from leases.

At concurrency 32, each repetition times ``--calls`` calls of each client in turn (A/B
interleaved); reported per client: CPU per call (``time.process_time`` of this process, which
includes the fleet's sync task), latency p50/p99, and Redis operations per call (the fleet's
op counter; pipelines and scripts count once); then the fleet/inproc ratios of CPU per call
and of p50, per repetition, with their median. The machine is shared: read the ranges.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _server import API_KEY, MODEL


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_redis() -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = _port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def _start_server() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "BENCH_RATELIMIT_HEADERS": "1"}  # as the Claude API answers
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


_BUDGET = "rpm = 10_000_000\ninput_tpm = 1_000_000_000\noutput_tpm = 1_000_000_000\n"


def _config(path: Path, url: str, state: str | None) -> Path:
    """The benchmark's config file: two providers, the latency policy, budgets on both."""
    text = "".join(
        f'[providers.p{i}]\nkind = "anthropic"\napi_key = "{API_KEY}"\nbase_url = "{url}"\n'
        for i in range(2)
    )
    text += '[route]\npolicy = "latency"\n'
    text += "".join(f"[route.budgets.p{i}]\n{_BUDGET}" for i in range(2))
    if state is not None:
        text += f'[state]\nurl = "{state}"\nsync_ms = 100\n'
    path.write_text(text)
    return path


async def _run(client: Any, calls: int, conc: int) -> tuple[float, list[float]]:
    sem = asyncio.Semaphore(conc)
    lat: list[float] = []

    async def one() -> None:
        async with sem:
            t0 = time.perf_counter()
            msg = await client.messages.create(
                model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}]
            )
            lat.append(time.perf_counter() - t0)
            assert msg.content[0].text.startswith("pong")

    c0 = time.process_time()
    await asyncio.gather(*(one() for _ in range(calls)))
    return (time.process_time() - c0) / calls, lat


def _kinds(url: str) -> str:
    """What the fleet wrote to Redis, counted by kind (proof the signals went through it)."""
    import redis

    r = redis.Redis.from_url(url)
    try:
        keys = [k.decode() for k in r.scan_iter("*", count=1000)]
    finally:
        r.close()
    kinds: dict[str, int] = {}
    for k in keys:
        kind = "bud" if ":bud:" in k else k.split(":")[1]
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))


def _q(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def _main(args: argparse.Namespace) -> None:
    import tempfile

    import clauderoute as cr
    from clauderoute.fleet import FleetRouteState

    rproc, rurl = _start_redis()
    sproc, url = _start_server()
    tmp = Path(tempfile.mkdtemp(prefix="clauderoute-fleet-bench-"))
    try:
        clients = {
            "inproc": cr.AsyncClient.from_config(
                _config(tmp / "in.toml", url, None), tracing=False
            ),
            "fleet": cr.AsyncClient.from_config(_config(tmp / "fl.toml", url, rurl), tracing=False),
        }
        fleet = clients["fleet"].router.breaker.fleet
        state = clients["fleet"].router.signals.state
        assert isinstance(state, FleetRouteState) and set(state.budgets) == {"p0", "p1"}
        fleet.start()
        while not fleet.live:
            await asyncio.sleep(0.01)
        for c in clients.values():  # warm-up: connections, statistics, leases
            await _run(c, 200, args.concurrency)
        rows: dict[str, dict[str, list[float]]] = {
            k: {"cpu": [], "p50": [], "p99": [], "ops": []} for k in clients
        }
        for _ in range(args.reps):
            for name, c in clients.items():
                ops0 = fleet.ops
                cpu, lat = await _run(c, args.calls, args.concurrency)
                r = rows[name]
                r["cpu"].append(cpu * 1e6)
                r["p50"].append(_q(lat, 0.5) * 1e3)
                r["p99"].append(_q(lat, 0.99) * 1e3)
                r["ops"].append((fleet.ops - ops0) / args.calls if name != "inproc" else 0)
        print(
            f"concurrency {args.concurrency}, {args.calls} calls x {args.reps} reps, "
            f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(f"{'client':8} {'CPU us/call':>22} {'p50 ms':>18} {'p99 ms':>18} {'ops/call':>9}")
        for name, r in rows.items():
            cell = [
                f"{statistics.median(r[k]):7.1f} [{min(r[k]):.1f}-{max(r[k]):.1f}]"
                for k in ("cpu", "p50", "p99")
            ]
            print(
                f"{name:8} {cell[0]:>22} {cell[1]:>18} {cell[2]:>18} "
                f"{statistics.median(r['ops']):9.4f}"
            )
        for k, what in (("cpu", "CPU per call"), ("p50", "p50")):
            ratios = [f / i for f, i in zip(rows["fleet"][k], rows["inproc"][k], strict=True)]
            print(
                f"fleet/inproc {what}: median {statistics.median(ratios):.3f} "
                f"[{min(ratios):.3f}-{max(ratios):.3f}] over {len(ratios)} reps "
                f"(target <= 1.10)"
            )
        st = fleet.status()
        print(
            f"state {st['state']}, outages {st['outages']}, ops {st['ops']}; "
            f"in Redis: {_kinds(rurl)}"
        )
        for c in clients.values():
            await c.close()
    finally:
        assert sproc.stdin is not None
        sproc.stdin.close()
        sproc.wait()
        rproc.kill()
        rproc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--quick", action="store_true", help="a handful of calls (smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.calls, args.reps = 100, 1
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()

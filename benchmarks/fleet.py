"""Fleet state (issue #15): does ``[state]`` (Redis) cost the request path anything?

    python benchmarks/fleet.py [--calls 2000] [--reps 5] [--quick]

Two clients against one loopback server (``_server.py``, its own process) and one
``redis-server`` this script starts on a free loopback port:

* ``inproc``: ``AsyncClient`` with the default in-process breaker and latency statistics;
* ``fleet``: the same client with ``[state]``'s shared breaker and latency statistics
  (``clauderoute.fleet.fleet_breaker``, ``sync_ms`` 100), synced with Redis before timing;
* ``fleet+budget``: ``fleet``, each call also admitted and settled by a fleet-wide
  ``FleetBudget`` (rpm, input and output tpm; the router does not call budgets yet, so the
  benchmark does, around each call).

Both route over two providers with the latency policy (so the shared statistics are read on
every call). At concurrency 32, each repetition times ``--calls`` calls of each client in turn
(A/B interleaved); reported per client: CPU per call (``time.process_time`` of this process,
which includes the fleet's sync task), latency p50/p99, and Redis operations per call (the
fleet's op counter; pipelines and scripts count once). Medians over repetitions, with ranges.
The machine is shared: read the ranges before the medians.
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
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def _start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(HERE / "_server.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def _client(url: str, breaker: Any) -> Any:
    from clauderoute_anthropic import AnthropicProvider

    import clauderoute as cr
    from clauderoute.routing import LatencyAware

    providers = [AnthropicProvider(name=f"p{i}", base_url=url, api_key=API_KEY)
                 for i in range(2)]
    return cr.AsyncClient(providers=providers, policy=LatencyAware(seed=1), breaker=breaker,
                          tracing=False)


class _Limits:
    rpm, input_tpm, output_tpm = 1_000_000, 100_000_000, 100_000_000


async def _run(client: Any, calls: int, conc: int,
               budget: Any = None) -> tuple[float, list[float]]:
    sem = asyncio.Semaphore(conc)
    lat: list[float] = []

    async def one() -> None:
        async with sem:
            t0 = time.perf_counter()
            while budget is not None and (r := budget.admit(20)) is not None:
                await asyncio.sleep(r[0])  # "reserving": the lease is topped up next tick
            msg = await client.messages.create(model=MODEL, max_tokens=16,
                                               messages=[{"role": "user", "content": "hi"}])
            lat.append(time.perf_counter() - t0)
            assert msg.content[0].text.startswith("pong")
            if budget is not None:
                budget.settle(20, msg.usage.input_tokens, msg.usage.output_tokens)

    c0 = time.process_time()
    await asyncio.gather(*(one() for _ in range(calls)))
    return (time.process_time() - c0) / calls, lat


def _q(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def _main(args: argparse.Namespace) -> None:
    from clauderoute.fleet import FleetBudget, fleet_breaker, state_settings

    rproc, rurl = _start_redis()
    sproc, url = _start_server()
    try:
        settings = state_settings({"url": rurl, "sync_ms": 100}, env={})
        assert settings is not None
        shared = fleet_breaker(settings)
        clients = {"inproc": _client(url, None), "fleet": _client(url, shared)}
        # the same fleet client, each call also admitted by a fleet-wide rpm/tpm budget
        budget = FleetBudget(shared.fleet, "p0", _Limits())
        budgets = {"fleet+budget": budget}
        clients["fleet+budget"] = clients["fleet"]
        shared.fleet.start()
        while not shared.fleet.live:
            await asyncio.sleep(0.01)
        for c in clients.values():  # warm-up: connections, statistics
            await _run(c, 200, args.concurrency)
        rows: dict[str, dict[str, list[float]]] = {k: {"cpu": [], "p50": [], "p99": [],
                                                       "ops": []} for k in clients}
        for _ in range(args.reps):
            for name, c in clients.items():
                ops0 = shared.fleet.ops
                cpu, lat = await _run(c, args.calls, args.concurrency, budgets.get(name))
                r = rows[name]
                r["cpu"].append(cpu * 1e6)
                r["p50"].append(_q(lat, 0.5) * 1e3)
                r["p99"].append(_q(lat, 0.99) * 1e3)
                r["ops"].append((shared.fleet.ops - ops0) / args.calls if name != "inproc" else 0)
        print(f"concurrency {args.concurrency}, {args.calls} calls x {args.reps} reps, "
              f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'client':12} {'CPU us/call':>22} {'p50 ms':>18} {'p99 ms':>18} {'ops/call':>9}")
        for name, r in rows.items():
            cell = [f"{statistics.median(r[k]):7.1f} [{min(r[k]):.1f}-{max(r[k]):.1f}]"
                    for k in ("cpu", "p50", "p99")]
            print(f"{name:12} {cell[0]:>22} {cell[1]:>18} {cell[2]:>18} "
                  f"{statistics.median(r['ops']):9.4f}")
        ratio = statistics.median(rows["fleet"]["cpu"]) / statistics.median(rows["inproc"]["cpu"])
        print(f"fleet/inproc CPU per call (medians): {ratio:.3f} (target <= 1.10)")
        for c in {id(c): c for c in clients.values()}.values():
            await c.close()
    finally:
        assert sproc.stdin is not None
        sproc.stdin.close()
        sproc.wait()
        rproc.kill()
        rproc.wait()


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

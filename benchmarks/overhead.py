"""Client overhead of clauderoute against raw aiohttp (the floor) and the official SDK.

    python benchmarks/overhead.py [--quick] [--out results/overhead.json] [--profile NAME]

One loopback server (``_server.py``) runs in its own process; every client talks to it in turn,
in this process, whose CPU time (``time.process_time``: user + system, all threads) is the
figure: CPU per non-streaming call at concurrency 1 and 32, CPU per streamed event, wall latency
p50/p99, and the cold import time of each library in a fresh interpreter (child CPU time from
``getrusage(RUSAGE_CHILDREN)``, minus that of a bare interpreter). Clients are interleaved
within every repetition so that drift on a shared machine hits them alike; the median over
repetitions is reported with its min/max, and the ratios are taken between medians. Every answer
is checked (see ``_clients.py``). Timings live here, never in pass/fail tests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec
from _bedrock import BEDROCK_DRIVERS
from _clients import DRIVERS, Driver
from _report import bedrock_ratios, ratios_and_targets, render_table

HERE = Path(__file__).resolve().parent
# Streams: (short, long) deltas per regime; the marginal CPU per event is
# (CPU(long) - CPU(short)) / (events(long) - events(short)). See _server.py for the regimes.
FULL = {"warmup": 40, "reps": 9, "calls_c1": 200, "calls_c32": 640, "concurrency": 32,
        "streams": {"bulk": 10, "paced": 4}, "deltas": {"bulk": [200, 1000], "paced": [20, 100]},
        "import_reps": 9, "bedrock": {"deltas": [20, 200], "streams": 10}}
QUICK = {"warmup": 2, "reps": 1, "calls_c1": 4, "calls_c32": 32, "concurrency": 32,
         "streams": {"bulk": 2, "paced": 1}, "deltas": {"bulk": [20, 60], "paced": [3, 6]},
         "import_reps": 1, "bedrock": {"deltas": [3, 6], "streams": 1}}
REGIMES = {"bulk": "", "paced": "/paced"}  # URL prefix on the server
IMPORTS = {
    "python": "pass",
    "aiohttp+msgspec": "import aiohttp, msgspec",
    # The client, not the bare package: ``import clauderoute`` alone leaves aiohttp (and the
    # client) for first use, which a call cannot skip.
    "clauderoute": "from clauderoute import AsyncClient",
}
# Not in --quick runs: a child interpreter of ~0.4 s CPU that no quick-run check needs (the
# ratio and the table code it feeds run for the imports above).
IMPORTS_PROVIDER = {
    "clauderoute+anthropic provider": "from clauderoute import AsyncClient; "
                                      "import clauderoute_anthropic",
}
# Not in --quick runs (a smoke test of the harness): the SDK's cold import alone costs ~1.5-2 s of
# CPU, more than every other import of a quick run together.
IMPORTS_SDK = {"anthropic": "import anthropic"}
# Ready to send: a client built (clauderoute loads its tracing, OpenTelemetry API, here).
# Not in --quick runs.
IMPORTS_READY = {
    "clauderoute client built": "from clauderoute import AsyncClient; "
                                "from clauderoute_anthropic import AnthropicProvider; "
                                "AsyncClient(providers=[AnthropicProvider(api_key='k')])",
    "anthropic client built": "import anthropic; anthropic.AsyncAnthropic(api_key='k')",
}


class Server:
    """``_server.py`` (or another server script) in a child process; stops when its stdin
    closes."""

    def __init__(self, script: str = "_server.py") -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE / script)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=HERE)
        line = self.proc.stdout.readline().decode()  # type: ignore[union-attr]
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    async def stats(self) -> dict[str, int]:
        import aiohttp

        async with aiohttp.ClientSession() as s, s.get(self.url + "/stats") as r:
            return msgspec.json.decode(await r.read())  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# A full collection before each measurement starts it from a clean heap. Not in --quick runs
# (a smoke test, figures of one repetition): with the SDKs imported one costs ~0.14 s, and the 69
# of a quick run were half of its time.
_COLLECT = [True]


async def _timed(fn: Callable[[], Awaitable[None]], n: int,
                 concurrency: int) -> tuple[float, float, list[float]]:
    """Run ``fn`` ``n`` times on ``concurrency`` workers: (CPU s, wall s, latencies s)."""
    todo = iter(range(n))
    lat: list[float] = []

    async def worker() -> None:
        for _ in todo:
            t = time.perf_counter()
            await fn()
            lat.append(time.perf_counter() - t)

    if _COLLECT[0]:
        gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.process_time() - c0, time.perf_counter() - w0, lat


def _spread(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "reps": [round(v, 3) for v in values]}


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _lat(values: list[float]) -> dict[str, float]:
    return {"p50": _pct(values, .5) * 1e3, "p99": _pct(values, .99) * 1e3}


async def _streams(d: Driver, regime: str, cfg: dict[str, Any],
                   cpu: dict[str, list[float]], lat: list[float]) -> None:
    (short, long_), k = cfg["deltas"][regime], cfg["streams"][regime]
    c_short, _, _ = await _timed(partial(d.stream, short), k, 1)
    c_long, _, la = await _timed(partial(d.stream, long_), k, 1)
    lat += la
    cpu["ev"].append(c_long / (k * d.expect(long_)[1]) * 1e6)
    cpu["marginal"].append((c_long - c_short) / (k * (long_ - short)) * 1e6)
    cpu["call_short"].append(c_short / k * 1e6)
    cpu["call_long"].append(c_long / k * 1e6)


async def _run_clients(names: list[str], cfg: dict[str, Any], server: Server,
                       kinds: dict[str, type[Driver]] = DRIVERS,
                       regimes: dict[str, str] = REGIMES) -> dict[str, Any]:
    drivers = {(n, r): kinds[n](server.url + prefix) for n in names
               for r, prefix in regimes.items()}
    conc = cfg["concurrency"]
    cpu: dict[str, dict[str, list[float]]] = {n: {"c1": [], "c32": []} for n in names}
    scpu = {(n, r): {"ev": [], "marginal": [], "call_short": [], "call_long": []}
            for n in names for r in regimes}
    lat: dict[Any, list[float]] = {k: [] for k in [*names, *[(n, "c32") for n in names],
                                                   *scpu]}
    thr: dict[str, list[float]] = {n: [] for n in names}
    started: list[Driver] = []  # closed in the end; a start that raised leaves nothing to close
    try:
        for (n, r), d in drivers.items():
            await d.start()
            started.append(d)
            if r == "bulk":
                for _ in range(cfg["warmup"]):  # imports, pools, caches, code paths
                    await d.create()
                await _timed(d.create, conc * 2, conc)
            for size in cfg["deltas"][r]:
                await d.stream(size)
        for _rep in range(cfg["reps"]):
            for n in names:
                d = drivers[n, "bulk"]
                c, _, la = await _timed(d.create, cfg["calls_c1"], 1)
                cpu[n]["c1"].append(c / cfg["calls_c1"] * 1e6)
                lat[n] += la
                c, w, la = await _timed(d.create, cfg["calls_c32"], conc)
                cpu[n]["c32"].append(c / cfg["calls_c32"] * 1e6)
                thr[n].append(cfg["calls_c32"] / w)
                lat[n, "c32"] += la
                for r in regimes:
                    await _streams(drivers[n, r], r, cfg, scpu[n, r], lat[n, r])
    finally:
        for d in started:
            await d.close()
    out: dict[str, Any] = {}
    for n in names:
        out[n] = {
            "create_c1": {"cpu_us_per_call": _spread(cpu[n]["c1"]), "latency_ms": _lat(lat[n])},
            f"create_c{conc}": {"cpu_us_per_call": _spread(cpu[n]["c32"]),
                                "calls_per_s": statistics.median(thr[n]),
                                "latency_ms": _lat(lat[n, "c32"])},
            "checked": {k: sum(drivers[n, r].checked[k] for r in regimes)
                        for k in ("create", "stream")},
        }
        spans = [getattr(drivers[n, r], "spans", None) for r in regimes]
        if None not in spans:  # clauderoute-otel: spans the in-memory exporter received
            out[n]["spans_exported"] = sum(spans)
        for r in regimes:
            short, long_ = cfg["deltas"][r]
            d = drivers[n, r]
            out[n][f"stream_{r}"] = {
                "cpu_us_per_event": _spread(scpu[n, r]["ev"]),
                "cpu_us_per_event_marginal": _spread(scpu[n, r]["marginal"]),
                "cpu_us_per_stream": {"short": _spread(scpu[n, r]["call_short"]),
                                      "long": _spread(scpu[n, r]["call_long"])},
                "events_per_stream": [d.expect(short)[1], d.expect(long_)[1]],
                "latency_ms_long_stream": _lat(lat[n, r]),
            }
    return out


def _import_times(reps: int, quick: bool) -> dict[str, Any]:
    """Cold import in a fresh interpreter: child CPU and wall, minus a bare interpreter's."""
    statements = IMPORTS if quick else {**IMPORTS, **IMPORTS_PROVIDER, **IMPORTS_SDK,
                                        **IMPORTS_READY}
    cpu: dict[str, list[float]] = {k: [] for k in statements}
    wall: dict[str, list[float]] = {k: [] for k in statements}
    warm = 1 if reps > 1 else 0  # a first round that only warms the OS file cache
    for _ in range(reps + warm):
        for name, stmt in statements.items():
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            w0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", stmt], check=True, cwd=HERE)
            w = time.perf_counter() - w0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3)
            wall[name].append(w * 1e3)
    base_c = statistics.median(cpu["python"][warm:])
    base_w = statistics.median(wall["python"][warm:])
    out: dict[str, Any] = {"statements": statements}
    for name in statements:
        if name == "python":
            out[name] = {"cpu_ms": base_c, "wall_ms": base_w}
            continue
        out[name] = {"cpu_ms": _spread([max(0.0, v - base_c) for v in cpu[name][warm:]]),
                     "wall_ms": _spread([max(0.0, v - base_w) for v in wall[name][warm:]])}
    return out


def _commit() -> str:
    """The commit measured, ``+dirty`` when the library's files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "clauderoute", "providers"],
                               cwd=HERE.parent, check=True, capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("clauderoute", "aiohttp", "msgspec", "anthropic", "httpx", "httpx2",
                 "botocore", "opentelemetry-sdk"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


async def _profile(name: str, cfg: dict[str, Any], server: Server, out: Path) -> None:
    d = DRIVERS[name](server.url)
    await d.start()
    try:
        for _ in range(cfg["warmup"]):
            await d.create()
        for kind, fn, n, conc in (("create_c32", d.create, cfg["calls_c32"], 32),
                                  ("stream", partial(d.stream, cfg["deltas"]["bulk"][1]),
                                   cfg["streams"]["bulk"], 1)):
            prof = cProfile.Profile()
            prof.enable()
            await _timed(fn, n, conc)
            prof.disable()
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf).strip_dirs()
            stats.sort_stats("tottime").print_stats(30)
            path = out.parent / f"profile-{name}-{kind}.txt"
            path.write_text(buf.getvalue())
            print(f"profile of {name} {kind} ({n} calls): {path}")
    finally:
        await d.close()


async def _run_bedrock(cfg: dict[str, Any]) -> dict[str, Any]:
    """The Bedrock path against ``BedrockEmulator`` in its own process (bulk streams only)."""
    bcfg = dict(cfg, deltas={"bulk": cfg["bedrock"]["deltas"]},
                streams={"bulk": cfg["bedrock"]["streams"]})
    server = Server("_bedrock_server.py")
    try:
        clients = await _run_clients(list(BEDROCK_DRIVERS), bcfg, server, BEDROCK_DRIVERS,
                                     {"bulk": ""})
        served = await server.stats()
    finally:
        server.stop()
    return {"server": "benchmarks/_bedrock_server.py (clauderoute_bedrock.BedrockEmulator), "
                      "separate process, loopback", "clients": clients, "server_served": served}


async def _main(args: argparse.Namespace) -> int:
    cfg: dict[str, Any] = dict(QUICK if args.quick else FULL)
    _COLLECT[0] = not args.quick
    if args.reps:
        cfg["reps"] = args.reps
    out = out_path(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    server = Server()
    try:
        if args.profile:
            await _profile(args.profile, cfg, server, out)
            return 0
        clients = await _run_clients([] if args.only_bedrock else args.clients, cfg, server)
        served = await server.stats()
    finally:
        server.stop()
    bedrock = await _run_bedrock(cfg) if not args.no_bedrock else {}
    imports = (_import_times(cfg["import_reps"], args.quick)
               if not (args.no_imports or args.only_bedrock) else {})
    result: dict[str, Any] = {
        "meta": {"mode": "quick" if args.quick else "full", "config": cfg,
                 "only_bedrock": bool(args.only_bedrock),
                 "python": platform.python_version(),
                 "implementation": platform.python_implementation(),
                 "machine": platform.machine(), "system": platform.system(),
                 "cpus": os.cpu_count(), "versions": _versions(), "commit": _commit(),
                 "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "server": "benchmarks/_server.py, separate process, loopback"},
        "clients": clients,
        "server_served": served,
        "imports": imports,
        "bedrock": bedrock,
    }
    result.update(ratios_and_targets(clients, imports, cfg["concurrency"]))
    if bedrock:
        bedrock.update(bedrock_ratios(bedrock["clients"], cfg["concurrency"]))
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = render_table(result)
    out.with_suffix(".md").write_text(table)
    print(table)
    print(f"results: {out} and {out.with_suffix('.md')}")
    return 0


def out_path(args: argparse.Namespace) -> Path:
    """Where the results go: ``--out``, else the default file of the run's kind."""
    if args.out:
        return Path(args.out)
    name = "overhead-bedrock.json" if args.only_bedrock else "overhead.json"
    return HERE / "results" / name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv[1:]`` by default)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a handful of calls (smoke test)")
    ap.add_argument("--out", default=None,
                    help="results file (default results/overhead.json; with --only-bedrock "
                         "results/overhead-bedrock.json, so a full run's file is kept)")
    ap.add_argument("--reps", type=int, default=0, help="repetitions (default 9, quick 1)")
    ap.add_argument("--clients", nargs="+", default=list(DRIVERS), choices=list(DRIVERS))
    ap.add_argument("--no-imports", action="store_true", help="skip the import-time runs")
    ap.add_argument("--no-bedrock", action="store_true", help="skip the Bedrock-path runs")
    ap.add_argument("--only-bedrock", action="store_true",
                    help="only the Bedrock-path runs (no direct clients, no imports)")
    ap.add_argument("--profile", choices=list(DRIVERS),
                    help="cProfile this client instead (profile-*.txt next to --out)")
    return ap.parse_args(argv)


async def run(argv: list[str]) -> int:
    """The run ``argv`` asks for, in the running event loop (the smoke test runs it so, in a
    process that has imported the clients already)."""
    return await _main(parse_args(argv))


def main() -> int:
    return asyncio.run(_main(parse_args()))


if __name__ == "__main__":
    sys.exit(main())

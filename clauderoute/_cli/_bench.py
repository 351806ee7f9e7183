"""``clauderoute bench``: latency across platforms.

With no ``--config`` it starts every installed emulator (realistic latency, a few injected faults)
and measures the client and the routing against them: such numbers describe clauderoute, not the
models, and ``run.json`` says so. With ``--config`` the same harness measures real platforms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import random
import secrets
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._results import (
    LATENCY_FIELDS,
    SCHEMA_VERSION,
    aggregate,
    git_sha,
    group_key,
    host_facts,
    tool_versions,
    write_results,
)
from ._stats import describe

if TYPE_CHECKING:  # loaded by ``run``: ``--help`` needs none of it (aiohttp, the emulators)
    from .._client import AsyncClient
    from ._fleet import Fleet
    from ._load import LoadPoint

__all__ = ["add_parser", "run"]

DISPATCH_P99_FLAG_S = 0.05
EMULATOR_NOTE = ("measured against loopback emulators: the figures describe client overhead and "
                 "routing behaviour, not model speed")


def add_parser(sub: Any) -> None:
    """Register ``bench`` and its options."""
    p = sub.add_parser("bench", help="latency benchmark across platforms (emulators by default)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="benchmark the providers of this config file (real "
                   "platforms) instead of the emulators")
    p.add_argument("--mode", choices=["sequential", "concurrency", "rate", "sweep"],
                   default="concurrency", help="load mode (default: concurrency)")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight (closed loop)")
    p.add_argument("--rate", type=float, default=5.0, help="requests/s (open loop)")
    p.add_argument("--arrival", choices=["poisson", "constant"], default="poisson",
                   help="open-loop arrivals (default: poisson)")
    p.add_argument("--max-inflight", type=int, help="open loop: cap on requests in flight")
    p.add_argument("--sweep", default="1,2,4,8",
                   help="sweep: comma-separated load values (default: 1,2,4,8)")
    p.add_argument("--sweep-mode", choices=["concurrency", "rate"], default="concurrency",
                   help="what --sweep varies (default: concurrency)")
    p.add_argument("--requests", type=int, help="measured requests per load point "
                   "(default: 120, 24 with --quick)")
    p.add_argument("--duration", type=float, default=300.0,
                   help="stop dispatching after this many seconds per load point (default 300)")
    p.add_argument("--warmup", type=int, help="warm-up requests per load point, rounded up to "
                   "whole rounds over the providers (default: 2 x concurrency)")
    p.add_argument("--max-tokens", type=int, default=64, help="max_tokens of every request")
    p.add_argument("--model", default="claude-haiku-4-5", help="canonical model name")
    p.add_argument("--no-stream", action="store_true", help="non-streaming requests")
    p.add_argument("--detailed", action="store_true", help="record inter-chunk gaps (icl_s)")
    p.add_argument("--slo", action="append", default=[], metavar="FIELD=SECONDS",
                   help="a latency objective, e.g. ttft_s=0.5 (repeatable): reports attainment "
                   "and goodput")
    p.add_argument("--timeout", type=float, default=120.0, help="deadline per request, seconds")
    p.add_argument("--seed", type=int, default=0, help="seed for order, arrivals, faults")
    p.add_argument("--out", default="results", help="results directory (default: ./results)")
    p.add_argument("--run-id", help="name of the run's directory (default: UTC time)")
    p.add_argument("--no-faults", action="store_true", help="emulators: inject no faults")
    p.add_argument("--no-plot", action="store_true", help="skip latency.png")
    p.add_argument("--quick", action="store_true",
                   help="a few seconds: few requests, emulator latency scaled down")
    p.set_defaults(run=run)


def _bench_faults(seed: int) -> Any:
    from ..testing import Fault, FaultPlan

    stream = frozenset({"messages.stream"})
    pool = [Fault(status=529), Fault(status=429, retry_after=0.01),
            Fault(stream_error="overloaded_error", after_events=1, operations=stream)]

    def plan(position: int, kind: str) -> FaultPlan:
        return FaultPlan(seed=seed + position).random_faults(0.04, pool)
    return plan


def _points(args: argparse.Namespace) -> list[LoadPoint]:
    from ._load import LoadPoint

    if args.mode == "sweep":
        values = [float(v) for v in args.sweep.split(",") if v.strip()]
        return [LoadPoint(args.sweep_mode, v, args.arrival, args.max_inflight) for v in values]
    value = {"sequential": 1, "concurrency": args.concurrency, "rate": args.rate}[args.mode]
    return [LoadPoint(args.mode, float(value), args.arrival, args.max_inflight)]


async def _loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        samples.append(max(0.0, time.perf_counter() - t - 0.01))


async def _measure(args: argparse.Namespace, client: AsyncClient,
                   deployments: list[tuple[str, str]], target: str, console: Any,
                   progress_cls: Any, finished: list[dict[str, Any]]) -> dict[str, Any]:
    """Run every load point; ``finished`` gets each record as it completes (what an
    interrupted run still has)."""
    from ._load import Workload, plan_order, run_point

    work = Workload(model=args.model, max_tokens=args.max_tokens, stream=not args.no_stream,
                    detailed=args.detailed,
                    scenario="stream" if not args.no_stream else "non_stream")
    platform_of = dict(deployments)
    names = [d for d, _ in deployments]
    rng = random.Random(args.seed)
    records: list[dict[str, Any]] = []
    points_out: list[dict[str, Any]] = []
    lag: list[float] = []
    stop = asyncio.Event()
    lag_task = asyncio.create_task(_loop_lag(lag, stop))
    index = 0
    seen: set[str] = set()
    try:
        with progress_cls(console=console, transient=True) as progress:
            for point in _points(args):
                gc.collect()
                gc.freeze()  # what the run allocated so far is never scanned again
                per_round = len(names)
                warm = args.warmup if args.warmup is not None else 2 * int(point.value)
                warm_rounds = max(1, -(-warm // per_round))
                rounds = warm_rounds + max(1, -(-args.requests // per_round))
                order = plan_order(names, rounds, rng)
                n_warm = warm_rounds * per_round
                task = progress.add_task(f"{point.label}", total=len(order))

                def done(rec: dict[str, Any], point: LoadPoint = point, n_warm: int = n_warm,
                         first: int = index, task: Any = task) -> None:
                    rec.update(target=target, platform=platform_of[rec["deployment"]],
                               scenario=work.scenario, load_point=point.label,
                               warmup=rec["request_index"] - first < n_warm,
                               cold=rec["deployment"] not in seen)
                    seen.add(rec["deployment"])
                    rec["group"] = group_key(rec)
                    finished.append(rec)
                    progress.advance(task)

                facts = await run_point(client, work, point, order, first_index=index,
                                        t0=args.t0, seed=args.seed, duration_s=args.duration,
                                        on_done=done)
                index += len(order)
                recs = facts.pop("records")
                records += sorted(recs, key=lambda r: r["request_index"])
                measured = [r for r in recs if not r["warmup"]]
                delay = describe([r.get("dispatch_delay_s") for r in measured])
                flags = []
                planned, achieved = facts["planned_rate"], facts["achieved_rate"]
                if facts["target_rate"] and planned and (achieved or 0) < 0.95 * planned:
                    flags.append("achieved rate below 95 % of the planned arrivals")
                if (delay.get("p99") or 0) > DISPATCH_P99_FLAG_S:
                    flags.append(f"dispatch delay p99 above {DISPATCH_P99_FLAG_S} s")
                points_out.append({**facts, "dispatch_delay_s": delay, "flags": flags})
    finally:
        stop.set()
        await lag_task
    return {"records": records, "load_points": points_out, "event_loop_lag_s": describe(lag)}


def _config_block(args: argparse.Namespace, fleet: Fleet | None,
                  deployments: list[tuple[str, str]]) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "targets": ["clauderoute"], "platforms": sorted({p for _, p in deployments}),
        "deployments": [{"deployment": d, "platform": p} for d, p in deployments],
        "scenarios": ["stream" if not args.no_stream else "non_stream"],
        "load": {"mode": args.mode, "points": [p.label for p in _points(args)],
                 "arrival": args.arrival, "max_inflight": args.max_inflight},
        "requests_per_point": args.requests, "duration_s": args.duration,
        "warmup": args.warmup if args.warmup is not None else "2 x concurrency",
        "window": "requests after the warm-up rounds of each load point",
        "slos": args.slos or None, "model": args.model, "max_tokens": args.max_tokens,
        "temperature": 0,
        "request_deadline_s": args.timeout, "interleaving": "round robin, shuffled per round",
        "source": "emulators" if fleet else "config",
    }
    if fleet is not None:
        cfg["emulators"] = [{"platform": m.kind, "deployment": m.name,
                             "ttft_s": m.profile.ttft_s, "per_token_s": m.profile.per_token_s,
                             "jitter_s": m.profile.jitter_s,
                             "faults": None if args.no_faults else
                             "4 % random: 529, 429 (retry-after), in-stream overloaded_error"}
                            for m in fleet.members]
        cfg["note"] = EMULATOR_NOTE
    return cfg


async def _run(args: argparse.Namespace, console: Any) -> int:
    from rich.progress import Progress

    from .._client import AsyncClient
    from ._fleet import start_fleet
    from ._load import Recorder
    from ._output import bench_table

    args.t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    run_id = args.run_id or started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)
    fleet: Fleet | None = None
    recorder = Recorder()
    finished: list[dict[str, Any]] = []
    if args.config:
        client = AsyncClient.from_config(args.config, observers=[recorder], breaker=False,
                                         deadline=args.timeout)
    else:
        fleet = await start_fleet(seed=args.seed, scale=0.1 if args.quick else 1.0,
                                  faults=None if args.no_faults else _bench_faults(args.seed))
        if not fleet.members:
            console.print("[red]error:[/] no emulator could start: " + "; ".join(fleet.skipped))
            return 1
        client = AsyncClient(providers=fleet.providers, observers=[recorder], breaker=False,
                             deadline=args.timeout)
    deployments = [(p.name, p.platform) for p in client.providers]
    try:
        if fleet is not None:
            console.print("emulators: " + ", ".join(f"{m.kind} ({m.emulator.root})"
                                                    for m in fleet.members), soft_wrap=True)
            for s in fleet.skipped:
                console.print(f"[yellow]skipped[/] {s}")
        result = await _interruptible(_measure(args, client, deployments, "clauderoute",
                                               console, Progress, finished))
    finally:
        await client.close()
        if fleet is not None:
            await fleet.stop()
    partial = result is None
    if result is None:  # interrupted: keep every request that finished, drop those cut off
        kept = [r for r in finished if r.get("status") != "cancelled"]
        result = {"records": sorted(kept, key=lambda r: r["request_index"]), "load_points": [],
                  "event_loop_lag_s": describe([])}
    records = result["records"]
    run = {"schema_version": SCHEMA_VERSION, "run_id": run_id, "partial": partial,
           "started_utc": started.isoformat(), "ended_utc": dt.datetime.now(dt.UTC).isoformat(),
           "tool_versions": tool_versions(), "host": host_facts(), "git_sha": git_sha(),
           "seed": args.seed, "config": _config_block(args, fleet, deployments),
           "clock_source": "time.perf_counter (monotonic); times relative to run start",
           "percentile_method": "linear interpolation between order statistics (numpy default)",
           "ci_method": "exact binomial order-statistic CI (95 %); mean: Student t",
           "groups": aggregate(records, args.slos),
           "cold": [{k: r.get(k) for k in ("deployment", "platform", "status", "ttfb_s",
                                           "ttft_s", "e2e_s")} for r in records if r["cold"]],
           "load_points": result["load_points"], "event_loop_lag_s": result["event_loop_lag_s"]}
    out_dir = Path(args.out) / run_id
    write_results(out_dir, run, records)
    console.print(bench_table(run))
    for lp in run["load_points"]:
        for flag in lp["flags"]:
            console.print(f"[yellow]flag[/] {lp['load_point']}: {flag}")
    if not args.no_plot:
        from ._plot import plot_bench

        path = plot_bench(records, out_dir / "latency.png")
        console.print(f"plot: {path}" if path else
                      "plot skipped: matplotlib is not installed (pip install 'clauderoute[cli]')")
    console.print(f"results: {out_dir}/ (run.json, requests.jsonl, summary.csv)"
                  + (f"; [yellow]partial[/]: interrupted after {len(records)} requests"
                     if partial else ""))
    if fleet is not None:
        console.print(f"[dim]{EMULATOR_NOTE}[/]")
    measured_ok = sum(1 for r in records if not r["warmup"] and r["status"] == "ok")
    if partial:
        from . import EXIT_INTERRUPTED

        return EXIT_INTERRUPTED
    return 0 if measured_ok else 1


async def _interruptible(work: Any) -> dict[str, Any] | None:
    """``await work``; ``None`` if Ctrl-C or SIGTERM stopped it (the results so far are
    then written, marked partial, instead of lost)."""
    task = asyncio.ensure_future(work)
    stopped = False

    def stop() -> None:
        nonlocal stopped
        stopped = True
        task.cancel()

    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        # Windows (NotImplementedError), or ``main`` called from a thread other than the main one
        # (RuntimeError: only the main thread takes signals): no handler, Ctrl-C as before.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
    try:
        return await task  # type: ignore[no-any-return]
    except asyncio.CancelledError:
        if not stopped:
            raise
        return None
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)


def _parse_slos(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        field, _, value = item.partition("=")
        field = field.strip()
        if field not in LATENCY_FIELDS or LATENCY_FIELDS[field] != "s":
            raise ValueError(f"--slo {item!r}: the field must be one of "
                             + ", ".join(k for k, u in LATENCY_FIELDS.items() if u == "s"))
        try:
            out[field] = float(value)
        except ValueError:
            raise ValueError(f"--slo {item!r}: expected FIELD=SECONDS, e.g. ttft_s=0.5") from None
    return out


def run(args: argparse.Namespace, console: Any) -> int:
    """Run the benchmark; 0 when measured requests succeeded, 1 when none did."""
    if args.requests is None:
        args.requests = 24 if args.quick else 120
    if args.quick and args.max_tokens == 64:
        args.max_tokens = 24
    args.slos = _parse_slos(args.slo)
    for flag, value in (("--concurrency", args.concurrency), ("--requests", args.requests),
                        ("--rate", args.rate), ("--max-tokens", args.max_tokens),
                        ("--duration", args.duration), ("--timeout", args.timeout)):
        if not value > 0:  # also refuses NaN
            raise ValueError(f"{flag} must be positive, not {value}")
    return asyncio.run(_run(args, console))

"""``clauderoute demo``: every installed platform emulated on loopback, a failover route through
them with faults injected into the primary, and what happened: who served each call, the
failovers, and latency per platform. No configuration, no credentials, no network."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import TYPE_CHECKING, Any

from .. import _errors as E
from .._registry import EMULATORS, installed
from ._output import ms

if TYPE_CHECKING:  # loaded by ``run``: ``--help`` needs none of it (aiohttp, the emulators)
    from .._client import AsyncClient
    from ..types._params import MessageParam
    from ._fleet import Fleet

__all__ = ["add_parser", "run"]

MODEL = "claude-haiku-4-5"


def add_parser(sub: Any) -> None:
    """Register ``demo``."""
    p = sub.add_parser(
        "demo", help="route calls through emulated platforms with faults", description=__doc__
    )
    p.add_argument("--calls", type=int, help="calls through the failover route (default 8)")
    p.add_argument(
        "--per-platform",
        type=int,
        help="calls pinned to each platform for the latency table (default 5)",
    )
    p.add_argument("--quick", action="store_true", help="fewer calls, latency scaled down")
    p.add_argument("--plot", metavar="FILE.png", help="also plot latency per platform")
    p.add_argument("--seed", type=int, default=0, help="seed for jitter")
    p.add_argument(
        "--platforms",
        metavar="LIST",
        help="comma-separated platform ids to emulate (default: every installed emulator)",
    )
    p.set_defaults(run=run)


def _trail(route: Any) -> str:
    return " -> ".join(f"{a.provider}({a.error_type or a.error or 'ok'})" for a in route.attempts)


async def _call(
    client: AsyncClient, i: int, stream: bool, provider: str | None = None
) -> tuple[Any, float, float | None]:
    """One call: (route, end-to-end seconds, time to first text or None)."""
    prompt: list[MessageParam] = [
        {
            "role": "user",
            "content": f"demo call {i}: one interface "
            "to Claude on every cloud with failover latency routing and "
            "tracing",
        }
    ]
    t0 = time.perf_counter()
    first = None
    if stream:
        async with client.messages.stream(
            model=MODEL, max_tokens=24, messages=prompt, provider=provider
        ) as s:
            async for _ in s.text_stream:
                first = first or time.perf_counter() - t0
        return s.route, time.perf_counter() - t0, first
    msg = await client.messages.create(
        model=MODEL, max_tokens=24, messages=prompt, provider=provider
    )
    return msg.route, time.perf_counter() - t0, None


async def _failover(client: AsyncClient, calls: int, console: Any) -> tuple[int, int]:
    failovers = failed = 0
    for i in range(calls):
        kind = "stream" if i % 2 else "create"
        try:
            route, took, _ = await _call(client, i, stream=bool(i % 2))
        except E.ClauderouteError as exc:
            failed += 1
            console.print(f"#{i + 1} {kind:6} [red]failed[/] {type(exc).__name__}")
            continue
        moved = len(route.attempts) > 1
        failovers += moved
        kinds = {a.kind for a in route.attempts[1:]}
        mark = (
            ("[yellow]failover[/]" if "failover" in kinds else "[yellow]retry[/]   ")
            if moved
            else "        "
        )
        console.print(
            f"#{i + 1} {kind:6} served by {route.provider:10} {ms(took):>7} ms  "
            f"{mark} {_trail(route)}",
            soft_wrap=True,
        )
    return failovers, failed


async def _per_platform(client: AsyncClient, fleet: Fleet, n: int) -> dict[str, dict[str, Any]]:
    """``n`` streamed calls pinned to each platform, the platforms side by side, faults off."""
    for m in fleet.members:
        m.emulator.faults.clear()

    async def platform(name: str) -> tuple[str, list[tuple[float, float | None]], int]:
        out, failed = [], 0
        for i in range(n):
            try:
                _, took, first = await _call(client, 100 + i, stream=True, provider=name)
            except E.ClauderouteError:
                failed += 1
                continue
            out.append((took, first))
        return name, out, failed

    done = await asyncio.gather(*(platform(m.name) for m in fleet.members))
    return {
        name: {
            "e2e": [t for t, _ in xs],
            "ttft": [f for _, f in xs if f is not None],
            "failed": failed,
        }
        for name, xs, failed in done
    }


async def _run(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table

    from .._client import AsyncClient
    from ._fleet import demo_faults, lone_faults, start_fleet

    kinds = args.kinds
    # One platform (`pip install clauderoute` alone): nowhere to fail over to, so the faults
    # are ones its retries absorb, and the demo shows retries instead of failovers.
    alone = len(kinds) == 1
    fleet = await start_fleet(
        seed=args.seed,
        scale=0.1 if args.quick else 1.0,
        max_retries=2 if alone else 0,
        faults=lone_faults if alone else demo_faults,
        kinds=kinds,
    )
    if not fleet.members:
        console.print("[red]error:[/] no emulator could start: " + "; ".join(fleet.skipped))
        return 1
    order = " -> ".join(m.name for m in fleet.members)
    plural = "s" if len(fleet.members) > 1 else ""
    console.print(
        f"[bold]clauderoute demo[/]: {len(fleet.members)} platform{plural} emulated on "
        "loopback; "
        + (
            f"failover route {order}"
            if len(fleet.members) > 1
            else f"one platform, {order}, with retries"
        )
    )
    for why in fleet.skipped:
        console.print(f"[yellow]skipped[/] {why}")
    console.print(
        f"faults injected into {fleet.members[0].name}: "
        + (
            "529 overloaded, connection reset (each retried)"
            if alone
            else "529 overloaded, in-stream overloaded_error, connection reset"
        )
        + (f"; into {fleet.members[1].name}: one 503" if len(fleet.members) > 1 else "")
    )
    try:
        async with AsyncClient(providers=fleet.providers, breaker=False, timeout=30) as client:
            failovers, failed = await _failover(client, args.calls, console)
            stats = await _per_platform(client, fleet, args.per_platform)
    finally:
        await fleet.stop()
    table = Table(title=f"latency per platform ({args.per_platform} streamed calls each, ms)")
    for col in ("platform", "emulated TTFT", "per token", "TTFT p50", "E2E p50", "E2E max"):
        table.add_column(col, justify="left" if col == "platform" else "right")
    pinned_failed = 0
    for m in fleet.members:
        s = stats[m.name]
        pinned_failed += s["failed"]
        table.add_row(
            m.name + (f" ({s['failed']} failed)" if s["failed"] else ""),
            ms(m.profile.ttft_s),
            ms(m.profile.per_token_s),
            ms(statistics.median(s["ttft"]) if s["ttft"] else None),
            ms(statistics.median(s["e2e"]) if s["e2e"] else None),
            ms(max(s["e2e"]) if s["e2e"] else None),
        )
    console.print(table)
    console.print(
        f"{args.calls} routed calls: {failovers} retried or failed over, {failed} "
        "failed; a retry or failover before the first token is invisible to the caller"
    )
    if args.plot:
        from ._plot import plot_demo

        path = plot_demo(stats, args.plot)
        console.print(
            f"plot: {path}"
            if path
            else "plot skipped: matplotlib is not installed (pip install 'clauderoute[cli]')"
        )
    return 1 if failed or pinned_failed else 0


def run(args: argparse.Namespace, console: Any) -> int:
    """Run the demo; 1 if a routed call failed."""
    if args.calls is None:
        args.calls = 6 if args.quick else 8
    if args.per_platform is None:
        args.per_platform = 3 if args.quick else 5
    if args.calls < 1:
        raise ValueError("--calls must be positive")
    if args.per_platform < 1:
        raise ValueError("--per-platform must be positive")
    args.kinds = _kinds(args.platforms)
    return asyncio.run(_run(args, console))


def _kinds(arg: str | None) -> list[str]:
    """The platforms to emulate: ``--platforms``, else every installed emulator."""
    have = installed(EMULATORS)
    if arg is None:
        return have
    wanted = list(dict.fromkeys(k.strip() for k in arg.split(",") if k.strip()))
    for kind in wanted:
        if kind not in have:
            raise ValueError(
                f"--platforms: no emulator {kind!r} is installed (installed: "
                f"{', '.join(have) or 'none'})"
            )
    if not wanted:
        raise ValueError("--platforms: name at least one platform")
    return wanted

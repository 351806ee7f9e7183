"""Timed CPU per create at concurrency 32 (or per stream), as paired ratios against the first
client, with the clients' batches interleaved so that the host's drift hits both sides of each
pair alike.

    python benchmarks/paired.py bedrock-aiohttp bedrock-sigv4 [--pairs 40] [--calls 600]
    python benchmarks/paired.py aiohttp clauderoute
    python benchmarks/paired.py bedrock-aiohttp bedrock-sigv4 --deltas 200 --calls 10 -c 1

``overhead.py`` runs each client's whole repetition (creates at c=1 and c=32, then streams)
before the next client's, so seconds pass between the floor's c=32 figure and a client's; on
a VM whose speed moves by ~30 % within minutes, its per-repetition ratios scatter by ±15 %.
Here one batch of ``--calls`` creates at ``-c`` concurrency alternates with the next client's,
the order reversed every round, ``--pairs`` rounds: the median paired ratio and its quartiles
say how sure the figure is. With ``--deltas N`` a call is a stream of ``N`` text deltas
instead of a create (``overhead.py`` times its streams one at a time: ``-c 1``, and ``--calls``
10 is its count per size). Clients are those of ``instructions.py`` (the direct ones answer
from ``_server.py``, the ``bedrock-*`` ones from ``_bedrock_server.py``; all clients of one run
use one server, so they must be of one kind). Every answer is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

WARMUP = 300


async def run_pairs(
    names: list[str], url: str, pairs: int, calls: int, concurrency: int, deltas: int | None = None
) -> dict[str, Any]:
    """CPU µs per call of each batch of each client, and the paired ratios to the first: a call
    is a create, or with ``deltas`` a stream of that many text deltas."""
    from functools import partial

    from instructions import _driver
    from overhead import _timed  # CPU seconds of n calls on c workers, after a collection

    drivers = {name: _driver(name, url) for name in names}
    kind = "create" if deltas is None else "stream"
    warmup = WARMUP if deltas is None else 2  # (a stream is hundreds of events)
    calls_of = {
        n: d.create if deltas is None else partial(d.stream, deltas) for n, d in drivers.items()
    }
    started = []
    try:
        for d in drivers.values():
            await d.start()
            started.append(d)
        for name in names:
            await _timed(calls_of[name], warmup, concurrency)
        us: dict[str, list[float]] = {name: [] for name in names}
        for k in range(pairs):
            for name in names if k % 2 == 0 else names[::-1]:
                cpu, _, _ = await _timed(calls_of[name], calls, concurrency)
                us[name].append(cpu / calls * 1e6)
    finally:
        for d in started:
            await d.close()
    expected = warmup + pairs * calls
    for name, d in drivers.items():
        if d.checked[kind] != expected:
            raise SystemExit(f"{name}: {d.checked[kind]} of {expected} answers checked")
    base = names[0]
    out: dict[str, Any] = {
        "call": kind if deltas is None else f"stream of {deltas} deltas",
        "concurrency": concurrency,
        "calls": calls,
        "pairs": pairs,
        "cpu_us_per_call": us,
        "ratios": {},
    }
    for name in names[1:]:
        r = [a / b for a, b in zip(us[name], us[base], strict=True)]
        q = statistics.quantiles(r, n=4) if len(r) > 1 else [r[0]] * 3
        out["ratios"][f"{name} / {base}"] = {"median": statistics.median(r), "q1": q[0], "q3": q[2]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clients", nargs="+", help="the first is the base of the ratios")
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--calls", type=int, default=600, help="calls per batch")
    ap.add_argument("--deltas", type=int, help="time streams of this many deltas, not creates")
    ap.add_argument("-c", "--concurrency", type=int, default=32)
    ap.add_argument("--out", help="also write the figures as JSON here")
    a = ap.parse_args()
    if len(a.clients) < 2:
        ap.error("give a base client and at least one other")
    kinds = {n.startswith("bedrock-") for n in a.clients}
    if len(kinds) > 1:
        ap.error("bedrock-* clients and direct ones answer from different servers: run apart")
    from overhead import Server

    server = Server("_bedrock_server.py" if kinds == {True} else "_server.py")
    try:
        res = asyncio.run(
            run_pairs(a.clients, server.url, a.pairs, a.calls, a.concurrency, a.deltas)
        )
    finally:
        server.stop()
    base = a.clients[0]
    for name in a.clients:
        print(
            f"{name}: {statistics.median(res['cpu_us_per_call'][name]):.0f} µs CPU per {res['call']} "
            f"(median of {a.pairs} batches of {a.calls} at c={a.concurrency})"
        )
    for pair, r in res["ratios"].items():
        print(
            f"{pair}: {r['median']:.3f}× (quartiles {r['q1']:.3f}–{r['q3']:.3f}; "
            f"{base} is the base)"
        )
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()

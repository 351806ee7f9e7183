"""Timed CPU per create at concurrency 32, as paired ratios against the first client, with the
clients' batches interleaved so that the host's drift hits both sides of each pair alike.

    python benchmarks/paired.py bedrock-aiohttp bedrock-sigv4 [--pairs 40] [--calls 600]
    python benchmarks/paired.py aiohttp clauderoute

``overhead.py`` runs each client's whole repetition (creates at c=1 and c=32, then streams)
before the next client's, so seconds pass between the floor's c=32 figure and a client's; on
a VM whose speed moves by ~30 % within minutes, its per-repetition ratios scatter by ±15 %.
Here one batch of ``--calls`` creates at ``-c`` concurrency alternates with the next client's,
the order reversed every round, ``--pairs`` rounds: the median paired ratio and its quartiles
say how sure the figure is. Clients are those of ``instructions.py`` (the direct ones answer
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
    names: list[str], url: str, pairs: int, calls: int, concurrency: int
) -> dict[str, Any]:
    """CPU µs per create of each batch of each client, and the paired ratios to the first."""
    from instructions import _driver
    from overhead import _timed  # CPU seconds of n calls on c workers, after a collection

    drivers = {name: _driver(name, url) for name in names}
    started = []
    try:
        for d in drivers.values():
            await d.start()
            started.append(d)
            await _timed(d.create, WARMUP, concurrency)
        us: dict[str, list[float]] = {name: [] for name in names}
        for k in range(pairs):
            for name in names if k % 2 == 0 else names[::-1]:
                cpu, _, _ = await _timed(drivers[name].create, calls, concurrency)
                us[name].append(cpu / calls * 1e6)
    finally:
        for d in started:
            await d.close()
    expected = WARMUP + pairs * calls
    for name, d in drivers.items():
        if d.checked["create"] != expected:
            raise SystemExit(f"{name}: {d.checked['create']} of {expected} answers checked")
    base = names[0]
    out: dict[str, Any] = {
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
    ap.add_argument("--calls", type=int, default=600, help="creates per batch")
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
        res = asyncio.run(run_pairs(a.clients, server.url, a.pairs, a.calls, a.concurrency))
    finally:
        server.stop()
    base = a.clients[0]
    for name in a.clients:
        print(
            f"{name}: {statistics.median(res['cpu_us_per_call'][name]):.0f} µs CPU per create "
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

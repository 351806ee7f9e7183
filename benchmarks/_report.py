"""Ratios, targets and the human table of an overhead run (pure functions of the results)."""

from __future__ import annotations

import statistics
from typing import Any

FLOOR, OURS, ROUTED, SDK = "aiohttp", "clauderoute", "clauderoute-routed", "sdk"
NOTRACE, OTEL = "clauderoute-notrace", "clauderoute-otel"
IMPORT_FLOOR = "aiohttp+msgspec"
REGIMES = ("bulk", "paced")


def _metrics(conc: int) -> dict[str, tuple[str, str]]:
    out = {"create_c1": ("create_c1", "cpu_us_per_call"),
           f"create_c{conc}": (f"create_c{conc}", "cpu_us_per_call")}
    for r in REGIMES:
        out[f"{r}_event"] = (f"stream_{r}", "cpu_us_per_event")
        out[f"{r}_event_marginal"] = (f"stream_{r}", "cpu_us_per_event_marginal")
    return out


def _paired(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float, float]:
    """Median, min and max of the per-repetition ratios ``a/b``. The clients (or import
    statements) run interleaved within each repetition, so each pair shares the machine's state
    of that moment: steadier than a ratio of two medians when the machine is busy."""
    ratios = [x / y for x, y in zip(a["reps"], b["reps"], strict=True) if y > 0]
    if not ratios:
        return float("nan"), float("nan"), float("nan")
    return statistics.median(ratios), min(ratios), max(ratios)


def ratios_and_targets(clients: dict[str, Any], imports: dict[str, Any],
                       conc: int) -> dict[str, Any]:
    """``ratios`` (median of paired per-repetition ratios a/b), ``ratio_ranges`` (their min and
    max) and ``targets`` (the issues' figures, met or not, on the median)."""
    ratios: dict[str, dict[str, float]] = {}
    ranges: dict[str, dict[str, list[float]]] = {}
    pairs = [(OURS, FLOOR), (SDK, FLOOR), (OURS, SDK), (NOTRACE, FLOOR), (OURS, NOTRACE),
             (OTEL, FLOOR), (OTEL, NOTRACE), (OTEL, OURS), (ROUTED, FLOOR), (ROUTED, OURS)]
    for a, b in pairs:
        if a in clients and b in clients:
            key = f"{a} / {b}"
            ratios[key], ranges[key] = {}, {}
            for k, (s, f) in _metrics(conc).items():
                med, lo, hi = _paired(clients[a][s][f], clients[b][s][f])
                ratios[key][k], ranges[key][k] = med, [lo, hi]
    if imports:
        with_provider = "clauderoute+anthropic provider"
        for a, b in (("clauderoute", IMPORT_FLOOR), (with_provider, IMPORT_FLOOR),
                     ("clauderoute", "anthropic"), ("anthropic", IMPORT_FLOOR),
                     ("clauderoute client built", "anthropic client built")):
            if a not in imports or b not in imports:
                continue
            key = f"import {a} / {b}"
            ratios[key], ranges[key] = {}, {}
            for unit in ("cpu_ms", "wall_ms"):
                med, lo, hi = _paired(imports[a][unit], imports[b][unit])
                ratios[key][unit], ranges[key][unit] = med, [lo, hi]
    targets = []

    def target(issue: str, what: str, key: str, field: str, limit: float) -> None:
        if key in ratios:
            value = ratios[key][field]
            targets.append({"issue": issue, "what": what, "ratio": round(value, 3),
                            "target": limit, "met": value <= limit})

    target("#2", f"clauderoute CPU per call at concurrency {conc} vs aiohttp floor",
           f"{OURS} / {FLOOR}", f"create_c{conc}", 1.3)
    target("#2", "clauderoute CPU per stream event, paced (one event per read), marginal",
           f"{OURS} / {FLOOR}", "paced_event_marginal", 1.5)
    target("#2", "clauderoute CPU per stream event, bulk (parsing only), marginal",
           f"{OURS} / {FLOOR}", "bulk_event_marginal", 1.5)
    target("#2", "cold `from clauderoute import AsyncClient` CPU vs `import aiohttp, msgspec`",
           f"import clauderoute / {IMPORT_FLOOR}", "cpu_ms", 1.3)
    target("#5", "4-provider failover route CPU per call vs direct (concurrency 1)",
           f"{ROUTED} / {OURS}", "create_c1", 1.1)
    target("#5", f"4-provider failover route CPU per call vs direct (concurrency {conc})",
           f"{ROUTED} / {OURS}", f"create_c{conc}", 1.1)
    return {"ratios": ratios, "ratio_ranges": ranges, "targets": targets}


BEDROCK_FLOOR, BEDROCK_SIGV4, BEDROCK_SDK = "bedrock-aiohttp", "bedrock-sigv4", "bedrock-sdk"


def _bedrock_metrics(conc: int) -> dict[str, tuple[str, ...]]:
    return {"create_c1": ("create_c1", "cpu_us_per_call"),
            f"create_c{conc}": (f"create_c{conc}", "cpu_us_per_call"),
            "stream_short": ("stream_bulk", "cpu_us_per_stream", "short"),
            "stream_long": ("stream_bulk", "cpu_us_per_stream", "long"),
            "event": ("stream_bulk", "cpu_us_per_event"),
            "event_marginal": ("stream_bulk", "cpu_us_per_event_marginal")}


def _get(r: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        r = r[key]
    return r


def bedrock_ratios(clients: dict[str, Any], conc: int) -> dict[str, Any]:
    """The Bedrock clients against the Bedrock floor (paired per repetition), and issue #3's
    target (≤2× the floor) on the SigV4 path, per create and per streamed call."""
    ratios: dict[str, dict[str, float]] = {}
    ranges: dict[str, dict[str, list[float]]] = {}
    pairs = [(n, BEDROCK_FLOOR) for n in clients if n != BEDROCK_FLOOR]
    pairs.append((BEDROCK_SIGV4, BEDROCK_SDK))
    for a, b in pairs:
        if a in clients and b in clients:
            key = f"{a} / {b}"
            ratios[key], ranges[key] = {}, {}
            for k, path in _bedrock_metrics(conc).items():
                med, lo, hi = _paired(_get(clients[a], path), _get(clients[b], path))
                ratios[key][k], ranges[key][k] = med, [lo, hi]
    targets = []
    key = f"{BEDROCK_SIGV4} / {BEDROCK_FLOOR}"
    for field, what in (("create_c1", "create, concurrency 1"),
                        (f"create_c{conc}", f"create, concurrency {conc}"),
                        ("stream_short", "short streamed call"),
                        ("stream_long", "long streamed call")):
        if key in ratios:
            value = ratios[key][field]
            targets.append({"issue": "#3", "what": f"Bedrock SigV4 CPU per {what} vs floor",
                            "ratio": round(value, 3), "target": 2.0, "met": value <= 2.0})
    # issue #16: the Bedrock hot path as fast as the direct one
    for field, what, limit in ((f"create_c{conc}", f"create, concurrency {conc}", 1.5),
                               ("stream_long", "long streamed call", 2.0)):
        if key in ratios:
            value = ratios[key][field]
            targets.append({"issue": "#16", "what": f"Bedrock SigV4 CPU per {what} vs floor",
                            "ratio": round(value, 3), "target": limit, "met": value <= limit})
    return {"ratios": ratios, "ratio_ranges": ranges, "targets": targets}


def _render_bedrock(bedrock: dict[str, Any], cfg: dict[str, Any]) -> list[str]:
    conc, (short, long_) = cfg["concurrency"], cfg["bedrock"]["deltas"]
    lines = ["", (f"Bedrock path ({bedrock['server']}); streams of {short} and {long_} text "
                  "deltas (+8 events), written in one piece:"), "",
             (f"| client | CPU µs/call c=1 | CPU µs/call c={conc} | CPU µs/stream ({short}) "
              f"| CPU µs/stream ({long_}) | µs/event | marginal | p50/p99 ms c=1 |"),
             "|---|---|---|---|---|---|---|---|"]
    metrics = _bedrock_metrics(conc)
    for name, r in bedrock["clients"].items():
        cells = " | ".join(_cell(_get(r, p), 1 if p[-1].startswith("cpu_us_per_event") else 0)
                           for p in metrics.values())
        lat = r["create_c1"]["latency_ms"]
        lines.append(f"| {name} | {cells} | {lat['p50']:.2f} / {lat['p99']:.2f} |")
    lines += ["", "| Bedrock ratio (median of per-repetition ratios) | "
              + " | ".join(k.replace("_", " ") for k in metrics) + " |",
              "|---" * (len(metrics) + 1) + "|"]
    for key, r in bedrock["ratios"].items():
        lines.append(f"| {key} | " + " | ".join(f"{r[k]:.2f}×" for k in metrics) + " |")
    return lines


def _cell(stat: dict[str, Any], digits: int = 0) -> str:
    return f"{stat['median']:.{digits}f} ({stat['min']:.{digits}f}–{stat['max']:.{digits}f})"


def render_table(result: dict[str, Any]) -> str:
    """Markdown tables: per client, ratios, imports, targets."""
    meta, clients = result["meta"], result["clients"]
    cfg = meta["config"]
    conc = cfg["concurrency"]
    c32 = f"create_c{conc}"
    lines = [f"# clauderoute overhead ({meta['mode']} run, {meta['date']})", "",
             (f"Python {meta['python']} on {meta['system']} {meta['machine']}, "
              f"{meta['cpus']} CPUs; commit {meta.get('commit', '?')}; "
              + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v != "absent")),
             "",
             ("CPU µs are client-process CPU (user+sys) per unit: median (min–max) over "
              f"{cfg['reps']} repetitions. Streams: bulk {cfg['deltas']['bulk']} and paced "
              f"{cfg['deltas']['paced']} text deltas; 'µs/event' is the long stream's CPU over "
              "its events, 'marginal' is (long − short) / (difference in events)."), ""]
    if clients:  # none in an --only-bedrock run
        lines += [(f"| client | CPU µs/call c=1 | CPU µs/call c={conc} | bulk µs/event "
                   f"| bulk marginal | paced µs/event | paced marginal | p50/p99 ms c=1 "
                   f"| p50/p99 ms c={conc} | calls/s c={conc} |"),
                  "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in clients.items():
        l1, l32 = r["create_c1"]["latency_ms"], r[c32]["latency_ms"]
        streams = " | ".join(_cell(r[f"stream_{g}"][f], 1) for g in REGIMES
                             for f in ("cpu_us_per_event", "cpu_us_per_event_marginal"))
        lines.append(f"| {name} | {_cell(r['create_c1']['cpu_us_per_call'])} "
                     f"| {_cell(r[c32]['cpu_us_per_call'])} | {streams} "
                     f"| {l1['p50']:.2f} / {l1['p99']:.2f} | {l32['p50']:.2f} / {l32['p99']:.2f} "
                     f"| {r[c32]['calls_per_s']:.0f} |")
    keys = list(_metrics(conc))
    if clients:
        lines += ["", "| ratio (median of per-repetition ratios) | "
                  + " | ".join(k.replace("_", " ") for k in keys) + " |",
                  "|---" * (len(keys) + 1) + "|"]
    for key, r in result["ratios"].items():
        if not key.startswith("import "):
            lines.append(f"| {key} | " + " | ".join(f"{r[k]:.2f}×" for k in keys) + " |")
    imports = result["imports"]
    if imports:
        lines += ["", "| cold import (minus bare interpreter) | CPU ms | wall ms |",
                  "|---|---|---|"]
        for name, stmt in imports["statements"].items():
            if name != "python":
                i = imports[name]
                lines.append(f"| {name}: `{stmt}` | {_cell(i['cpu_ms'])} "
                             f"| {_cell(i['wall_ms'])} |")
        lines.append(f"| bare interpreter (subtracted) | {imports['python']['cpu_ms']:.0f} "
                     f"| {imports['python']['wall_ms']:.0f} |")
        lines += ["", "| import ratio | CPU | wall |", "|---|---|---|"]
        for key, r in result["ratios"].items():
            if key.startswith("import "):
                lines.append(f"| {key[7:]} | {r['cpu_ms']:.2f}× | {r['wall_ms']:.2f}× |")
    bedrock = result.get("bedrock")
    if bedrock:
        lines += _render_bedrock(bedrock, cfg)
    lines += ["", "| issue | target | ratio | limit | met |", "|---|---|---|---|---|"]
    for t in [*result["targets"], *(bedrock or {}).get("targets", [])]:
        lines.append(f"| {t['issue']} | {t['what']} | {t['ratio']:.2f}× | ≤{t['target']}× "
                     f"| {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"

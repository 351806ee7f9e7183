"""Benchmark results: groups and aggregates, and the files of a run directory.

``requests.jsonl`` is the source of truth; every aggregate in ``run.json`` and ``summary.csv`` is
recomputed from its lines: the measured requests of a group are those with ``warmup`` false, and
latency statistics use the measured requests whose ``status`` is ``ok``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform as pyplatform
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._stats import describe

__all__ = ["LATENCY_FIELDS", "SCHEMA_VERSION", "aggregate", "group_key", "tool_versions",
           "write_results"]

SCHEMA_VERSION = 1

#: Per-request fields summarized per group, with their units.
LATENCY_FIELDS: dict[str, str] = {
    "dispatch_delay_s": "s", "ttfb_s": "s", "ttfc_s": "s", "ttft_s": "s", "ttft_text_s": "s",
    "e2e_s": "s", "scheduled_latency_s": "s", "decode_s": "s", "tpot_s": "s",
    "user_tps": "token/s", "e2e_tps": "token/s",
}

SUMMARY_COLUMNS = ["group", "metric", "unit", "n", "mean", "mean_ci_lo", "mean_ci_hi", "p50",
                   "p90", "p95", "p99", "p999", "max", "p99_ci_lo", "p99_ci_hi"]


def group_key(rec: dict[str, Any]) -> str:
    """``target/platform/deployment/scenario/load_point``."""
    return "/".join(str(rec[k]) for k in ("target", "platform", "deployment", "scenario",
                                          "load_point"))


def _peak_concurrency(recs: list[dict[str, Any]]) -> int:
    edges = []
    for r in recs:
        if r.get("sent_at") is not None and r.get("e2e_s") is not None:
            edges += [(r["sent_at"], 1), (r["sent_at"] + r["e2e_s"], -1)]
    peak = cur = 0
    for _, d in sorted(edges, key=lambda e: (e[0], e[1])):
        cur += d
        peak = max(peak, cur)
    return peak


def _slo(recs: list[dict[str, Any]], slos: dict[str, float], window: float) -> dict[str, Any]:
    """SLO attainment per objective and combined, and goodput; errors never conform."""
    def meets(r: dict[str, Any], field: str) -> bool:
        v = r.get(field)
        return r["status"] == "ok" and v is not None and v <= slos[field]

    n = len(recs)
    good = [r for r in recs if all(meets(r, f) for f in slos)]
    return {"objectives": dict(slos),
            "attainment": {f: sum(meets(r, f) for r in recs) / n for f in slos},
            "combined_attainment": len(good) / n,
            "goodput_rps": len(good) / window if window else None}


def _mean_cost(recs: list[dict[str, Any]]) -> float | None:
    costs = [r["cost_usd"] for r in recs if r.get("cost_usd") is not None]
    return sum(costs) / len(costs) if costs else None


def aggregate(records: Iterable[dict[str, Any]],
              slos: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """One aggregate per group, in order of first appearance; ``slos`` maps a latency
    field to its objective in seconds (``{"ttft_s": 0.5}``)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if not r.get("warmup"):
            groups.setdefault(r["group"], []).append(r)
    out = []
    for key, recs in groups.items():
        ok = [r for r in recs if r["status"] == "ok"]
        begins = [r["sent_at"] for r in recs if r.get("sent_at") is not None]
        ends = [r["sent_at"] + r["e2e_s"] for r in recs if r.get("e2e_s") is not None]
        window = (max(ends) - min(begins)) if begins and ends else 0.0
        out_tokens = sum(r.get("output_tokens") or 0 for r in ok)
        all_tokens = out_tokens + sum(r.get("input_tokens") or 0 for r in ok)
        per_second: Counter[int] = Counter()
        for r in ok:
            per_second[math.floor(r["sent_at"] + r["e2e_s"])] += r.get("output_tokens") or 0
        first = recs[0]
        out.append({
            "group": key, "target": first["target"], "platform": first["platform"],
            "deployment": first["deployment"], "scenario": first["scenario"],
            "load_point": first["load_point"],
            "started": len(recs), "completed": len(ok),
            "failed": sum(r["status"] in ("error", "timeout") for r in recs),
            "failed_by_error_type": dict(Counter(r["error.type"] for r in recs
                                                 if r["status"] in ("error", "timeout"))),
            "cancelled": sum(r["status"] == "cancelled" for r in recs),
            "incomplete_at_window_end": sum(r.get("e2e_s") is None for r in recs),
            "retried_or_failed_over": sum((r.get("attempts") or 0) > 1 for r in recs),
            "window_s": window,
            "request_throughput_rps": len(ok) / window if window else None,
            "output_token_throughput_tps": out_tokens / window if window else None,
            "total_token_throughput_tps": all_tokens / window if window else None,
            "peak_output_tps_1s": max(per_second.values(), default=0),
            "peak_concurrency": _peak_concurrency(recs),
            "latency": {f: describe([r.get(f) for r in ok]) for f in LATENCY_FIELDS},
            # What the answers cost (catalog prices; None when the model has none).
            "cost_usd_per_request": _mean_cost(ok),
            "slo": _slo(recs, slos, window) if slos else None,
        })
    return out


def tool_versions() -> dict[str, str | None]:
    """Versions of clauderoute, Python and the libraries that shape the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": pyplatform.python_version()}
    for dist in ("clauderoute", "aiohttp", "msgspec", "anthropic", "opentelemetry-api",
                 "opentelemetry-sdk"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def host_facts() -> dict[str, Any]:
    """OS, CPU count and machine kind."""
    return {"os": f"{pyplatform.system()} {pyplatform.release()}", "cpu_count": os.cpu_count(),
            "machine": pyplatform.machine(), "python_implementation":
            pyplatform.python_implementation()}


def git_sha() -> str | None:
    """The commit of the clauderoute source tree, when it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _row(group: str, metric: str, unit: str, d: dict[str, Any]) -> list[Any]:
    mean_ci = d.get("mean_ci") or [None, None]
    p99_ci = d.get("p99_ci") or [None, None]
    return [group, metric, unit, d["n"], d.get("mean"), mean_ci[0], mean_ci[1], d.get("p50"),
            d.get("p90"), d.get("p95"), d.get("p99"), d.get("p999"), d.get("max"), p99_ci[0],
            p99_ci[1]]


def write_results(out_dir: Path, run: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Write ``run.json``, ``requests.jsonl`` and ``summary.csv`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "requests.jsonl").open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    with (out_dir / "summary.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(SUMMARY_COLUMNS)
        for g in run["groups"]:
            for metric, unit in LATENCY_FIELDS.items():
                w.writerow(_row(g["group"], metric, unit, g["latency"][metric]))
    (out_dir / "run.json").write_text(json.dumps(run, indent=2, sort_keys=False) + "\n",
                                      encoding="utf-8")



"""Console tables (milliseconds on screen, seconds in files)."""

from __future__ import annotations

from typing import Any

__all__ = ["bench_table", "ms"]


def ms(seconds: float | None) -> str:
    """``123.4`` (milliseconds), or ``-`` when unknown."""
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def bench_table(run: dict[str, Any]) -> Any:
    """The per-group summary of a benchmark run."""
    from rich.table import Table

    multi = len({g["load_point"] for g in run["groups"]}) > 1
    table = Table(title=f"clauderoute bench {run['run_id']} (latency in ms)")
    table.add_column("deployment", no_wrap=True)
    if multi:
        table.add_column("load", no_wrap=True)
    for col in ("ok/n", "errors", "retry", "TTFT p50", "TTFT p99", "E2E p50", "E2E p99",
                "TPOT p50", "tok/s", "req/s", "$/req"):
        table.add_column(col, justify="right")
    slo = bool(run["config"].get("slos"))
    if slo:
        table.add_column("SLO", justify="right")
    points = list(dict.fromkeys(g["load_point"] for g in run["groups"]))
    names = [d["deployment"] for d in run["config"]["deployments"]]
    for g in sorted(run["groups"], key=lambda g: (points.index(g["load_point"]),
                                                  names.index(g["deployment"]))):
        lat = g["latency"]
        errors = ", ".join(f"{k} x{v}" for k, v in sorted(g["failed_by_error_type"].items()))
        rps = g["request_throughput_rps"]
        tps = g["output_token_throughput_tps"]
        name = g["deployment"]
        if g["platform"] != name:
            name += f" ({g['platform']})"
        row = [name] + ([g["load_point"]] if multi else [])
        row += [f"{g['completed']}/{g['started']}", errors or "0",
                str(g["retried_or_failed_over"]), ms(lat["ttft_s"].get("p50")),
                ms(lat["ttft_s"].get("p99")), ms(lat["e2e_s"].get("p50")),
                ms(lat["e2e_s"].get("p99")), ms(lat["tpot_s"].get("p50")),
                "-" if tps is None else f"{tps:.0f}", "-" if rps is None else f"{rps:.2f}",
                "-" if g.get("cost_usd_per_request") is None
                else f"{g['cost_usd_per_request']:.6f}"]
        if slo:
            row.append(f"{g['slo']['combined_attainment']:.0%}")
        table.add_row(*row)
    return table

"""Plots through matplotlib (the ``cli`` extra), imported only here, with the Agg backend."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["plot_bench"]


def _series(records: Iterable[dict[str, Any]], field: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in records:
        if not r.get("warmup") and r["status"] == "ok" and r.get(field) is not None:
            label = r["deployment"] + ("" if r.get("_single_point") else f" {r['load_point']}")
            out.setdefault(label, []).append(r[field] * 1000)
    return out


def plot_bench(records: list[dict[str, Any]], path: Path) -> Path | None:
    """TTFT and end-to-end CDFs per deployment and E2E over time; ``None`` without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    single = len({r["load_point"] for r in records}) == 1
    recs = [dict(r, _single_point=single) for r in records]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for ax, field, title in ((axes[0], "ttft_s", "Time to first token"),
                             (axes[1], "e2e_s", "End-to-end latency")):
        for label, xs in sorted(_series(recs, field).items()):
            xs.sort()
            ax.step(xs, [(i + 1) / len(xs) for i in range(len(xs))], where="post", label=label)
        ax.set(title=f"{title} (CDF)", xlabel="ms", ylabel="fraction of requests")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    ax = axes[2]
    by: dict[str, tuple[list[float], list[float]]] = {}
    for r in recs:
        if r["status"] == "ok" and r.get("e2e_s") is not None and not r.get("warmup"):
            xs, ys = by.setdefault(r["deployment"], ([], []))
            xs.append(r["sent_at"])
            ys.append(r["e2e_s"] * 1000)
    for label, (xs, ys) in sorted(by.items()):
        ax.plot(xs, ys, ".", label=label, alpha=0.8)
    failed = [r for r in recs if r["status"] != "ok" and r.get("sent_at") is not None]
    if failed:
        ax.plot([r["sent_at"] for r in failed], [(r.get("e2e_s") or 0) * 1000 for r in failed],
                "x", color="red", label="failed")
    ax.set(title="End-to-end latency over time", xlabel="s since start", ylabel="ms")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_demo(stats: dict[str, dict[str, list[float]]], path: str | Path) -> Path | None:
    """Median TTFT and end-to-end latency per platform, as bars; ``None`` without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import statistics

    import matplotlib.pyplot as plt

    names = list(stats)
    ttft = [statistics.median(stats[n]["ttft"]) * 1000 if stats[n]["ttft"] else 0 for n in names]
    e2e = [statistics.median(stats[n]["e2e"]) * 1000 if stats[n]["e2e"] else 0 for n in names]
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], ttft, width=0.4, label="TTFT p50")
    ax.bar([x + 0.2 for x in xs], e2e, width=0.4, label="E2E p50")
    ax.set_xticks(list(xs), names)
    ax.set(ylabel="ms", title="clauderoute demo: latency per platform (emulated)")
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out

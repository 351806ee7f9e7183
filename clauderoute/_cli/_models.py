"""``clauderoute models``: the model catalog, canonical names and each platform's id."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_parser", "run"]

# Column order for the platforms we know; any other installed platform follows.
_ORDER = ["anthropic", "bedrock", "vertex", "foundry"]


def add_parser(sub: Any) -> None:
    """Register ``models``."""
    p = sub.add_parser("models", help="the model catalog: canonical names and platform ids",
                       description=__doc__)
    p.add_argument("--platform", action="append", metavar="ID",
                   help="show only this platform (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run)


def _platforms() -> list[str]:
    from .._catalog import table
    from .._registry import PROVIDERS, installed

    listed = {p for _, ids in table() for p in ids}
    found = listed | set(installed(PROVIDERS))
    return [p for p in _ORDER if p in found] + sorted(found - set(_ORDER))


def run(args: argparse.Namespace, console: Any) -> int:
    """Print the catalog; 2 for a platform nobody knows."""
    from rich.table import Table

    from .._catalog import model_facts, table

    platforms = _platforms()
    if args.platform:
        unknown = [p for p in args.platform if p not in platforms]
        if unknown:
            raise ValueError(f"--platform: unknown platform {', '.join(unknown)} "
                             f"(known: {', '.join(platforms)})")
        platforms = args.platform
    rows = table(platforms)
    if args.json:
        console.print_json(json.dumps({name: ids for name, ids in rows}))
        return 0
    cells: list[list[str]] = []
    profile = False
    for name, ids in rows:
        facts = model_facts(name) or {}
        row = [name]
        for p in platforms:
            cell = ids.get(p, "-")
            if facts.get(f"{p}_profile"):
                cell, profile = cell + " *", True
            row.append(cell)
        cells.append(row)
    header = ["model", *platforms]
    widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(header))]
    if sum(widths) + 3 * len(widths) + 1 <= console.width:  # one row per model
        out = Table(title="Claude models by platform")
        for col in header:
            out.add_column(col, no_wrap=True)
        for row in cells:
            out.add_row(*row)
    else:  # too narrow for a column per platform: one row per (model, platform), ids whole
        out = Table(title="Claude models by platform")
        for col in ("model", "platform", "id"):
            out.add_column(col, no_wrap=True)
        for row in cells:
            for i, p in enumerate(platforms, 1):
                out.add_row(row[0] if i == 1 else "", p, row[i], end_section=i == len(platforms))
    console.print(out)
    if profile:
        console.print("* on demand through a cross-region inference profile: the provider adds "
                      "its region's prefix (us., eu., apac., jp., global.)", soft_wrap=True)
    if "foundry" in platforms:
        console.print("foundry: the deployment name; by convention the canonical name "
                      "(override with models = {...} in the config)", soft_wrap=True)
    return 0

"""``clauderoute models``: the model catalog, canonical names and each platform's id, and where
each entry came from; ``--sync`` asks the configured platforms what they serve and writes the
overlay the catalog then loads."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]

# Column order for the platforms we know; any other installed platform follows.
_ORDER = ["anthropic", "aws", "google-cloud", "bedrock", "vertex", "foundry"]


def add_parser(sub: Any) -> None:
    """Register ``models``."""
    p = sub.add_parser("models", help="the model catalog: canonical names and platform ids",
                       description=__doc__)
    p.add_argument("--platform", action="append", metavar="ID",
                   help="show only this platform (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--config", metavar="FILE",
                   help="the configuration whose providers to sync, and whose `models` "
                        "overrides to show (default: as `clauderoute check` finds it)")
    p.add_argument("--sync", action="store_true",
                   help="ask each configured platform which models it serves and write the "
                        "catalog overlay (GET /v1/models; Bedrock's ListFoundationModels)")
    p.add_argument("--output", metavar="FILE",
                   help="where --sync writes (default: the user cache file the catalog reads)")
    p.set_defaults(run=run)


def _platforms() -> list[str]:
    from .._catalog import platform_facts, table
    from .._registry import PROVIDERS, installed

    listed = {p for _, ids in table() for p in ids}
    found = listed | set(installed(PROVIDERS))
    found |= {p for p in _ORDER if platform_facts(p)}
    return [p for p in _ORDER if p in found] + sorted(found - set(_ORDER))


def _origin(name: str) -> str:
    """Where an entry came from: shipped, the synced cache, or another overlay file."""
    from .._catalog import SHIPPED, origins, overlay_path

    labels = []
    for o in origins(name):
        if o == SHIPPED:
            labels.append("shipped")
        elif Path(o) == overlay_path():
            labels.append("synced")
        else:
            labels.append(Path(o).name)
    return "+".join(labels)


def _config_overrides(path: str | None) -> dict[str, list[str]]:
    """``{model: ["provider (platform)", ...]}`` for every ``models`` override in the config."""
    from .._config import client_settings, find_config

    if path is None and find_config() is None:
        return {}
    out: dict[str, list[str]] = {}
    for p in client_settings(path)["providers"]:
        for model in p.models:
            out.setdefault(model, []).append(f"config:{p.name}")
    return out


def run(args: argparse.Namespace, console: Any) -> int:
    """Print the catalog (or sync it first); 2 for a platform nobody knows."""
    if args.sync:
        code = _sync(args, console)
        if code:
            return code
    platforms = _platforms()
    if args.platform:
        unknown = [p for p in args.platform if p not in platforms]
        if unknown:
            raise ValueError(f"--platform: unknown platform {', '.join(unknown)} "
                             f"(known: {', '.join(platforms)})")
        platforms = args.platform
    return _print(args, console, platforms, _config_overrides(args.config))


def _print(args: argparse.Namespace, console: Any, platforms: list[str],
           overrides: dict[str, list[str]]) -> int:
    from rich.table import Table

    from .._catalog import model_facts, table

    rows = table(platforms)
    if args.json:
        console.print_json(json.dumps({name: {**ids, "from": _origin(name)}
                                       for name, ids in rows}))
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
        row.append("+".join([_origin(name), *overrides.get(name, [])]))
        cells.append(row)
    header = ["model", *platforms, "from"]
    widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(header))]
    out = Table(title="Claude models by platform")
    if sum(widths) + 3 * len(widths) + 1 <= console.width:  # one row per model
        for col in header:
            out.add_column(col, no_wrap=True)
        for row in cells:
            out.add_row(*row)
    else:  # too narrow for a column per platform: one row per (model, platform), ids whole
        for col in ("model", "platform", "id"):
            out.add_column(col, no_wrap=True)
        for row in cells:
            for i, p in enumerate([*platforms, "from"], 1):
                out.add_row(row[0] if i == 1 else "", p, row[i], end_section=i == len(row) - 1)
    console.print(out)
    if profile:
        console.print("* on demand through a cross-region inference profile: the provider adds "
                      "its region's prefix (us., eu., apac., jp., global.)", soft_wrap=True)
    if "foundry" in platforms:
        console.print("foundry: the deployment name; by convention the canonical name "
                      "(override with models = {...} in the config)", soft_wrap=True)
    console.print("from: shipped (this release), synced (clauderoute models --sync), another "
                  "overlay file (CLAUDEROUTE_CATALOG), config:<provider> (its models = {...})",
                  soft_wrap=True)
    return 0


def _sync(args: argparse.Namespace, console: Any) -> int:
    """Run the sync and report per provider; 1 if a provider could not be asked."""
    from .._catalog import overlay_path, reload
    from .._catalog._sync import overlay_entries, write_overlay

    listings = asyncio.run(_listings(args.config))
    entries, sources = overlay_entries(listings)
    path = Path(args.output) if args.output else overlay_path()
    header = ("Written by `clauderoute models --sync`: models the configured platforms serve "
              "that the shipped catalog lacks or states differently.\nRewritten by each sync; "
              "the catalog reads it (see [sources] for where each key came from).")
    write_overlay(path, entries, sources, header)
    reload()
    failed = 0
    for found in listings:
        if found.models is None:
            failed += found.via != "none"
            console.print(f"{found.provider} ({found.platform}): skipped, {found.error}",
                          soft_wrap=True)
        else:
            console.print(f"{found.provider} ({found.platform}): {len(found.models)} models "
                          f"via {found.via}", soft_wrap=True)
    console.print(f"wrote {len(entries)} entries to {path}", soft_wrap=True)
    return 1 if failed else 0


async def _listings(config: str | None) -> list[Any]:
    from .._catalog._sync import listing
    from .._client import AsyncClient

    async with AsyncClient.from_config(config, tracing=False) as client:
        return [await listing(client, p) for p in client.providers]

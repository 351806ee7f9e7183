"""``clauderoute check``: validate a configuration, resolve each provider's credentials (its
``auth.refresh()``: the whole AWS chain, a Google key file, an Entra token) and, with ``--ping``,
make one cheap call per provider (``count_tokens`` where offered).

Exit codes: 0 all fine; 2 any configuration error (the file, a provider's settings, credentials
that cannot be had); 1 only pings failed."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from .. import _config as C
from .._config_source import Source
from .._errors import ClauderouteError, ConfigurationError, CredentialsError
from .._provider import COUNT_TOKENS, Provider
from .._registry import provider_class
from ..types._params import MessageParam

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``check``."""
    p = sub.add_parser("check", help="validate a config file and test each provider",
                       description=__doc__)
    p.add_argument("--config", help="the config file (default: $CLAUDEROUTE_CONFIG, then "
                   "./clauderoute.toml, else the environment alone)")
    p.add_argument("--ping", action="store_true", help="make one cheap call per provider")
    p.add_argument("--model", default="claude-haiku-4-5", help="model for --ping")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per credential resolution and per ping")
    p.set_defaults(run=run)


class _Row:
    def __init__(self, name: str, kind: str, routed: bool) -> None:
        self.name, self.kind, self.routed = name, kind, routed
        self.provider: Provider | None = None
        self.credentials = ""
        self.ping = "-"
        self.ok = True
        self.misconfigured = False  # settings or credentials: exit code 2


def _rows(file: Any) -> tuple[str, list[_Row]]:
    """Parse the file (whole-file errors raise) and build each provider on its own."""
    if file is None:
        import os

        kind = os.environ.get(C.PROVIDER_ENV) or C.DEFAULT_KIND
        row = _Row(kind, kind, True)
        _build(row, lambda: provider_class(kind)())
        return "environment (no config file)", [row]
    text, raw = C._load(file)
    source = Source(str(file), text)
    top = {k: v for k, v in raw.items() if k != "providers"}
    cfg = source.convert(C._expand(top, (), source), C.FileConfig, ())
    tables = raw.get("providers", {})
    if not isinstance(tables, dict):
        raise source.error(("providers",), "expected a table of providers")
    routed = list(tables) if cfg.route.providers is None else cfg.route.providers
    for i, name in enumerate(routed):
        if name not in tables:
            raise source.error(("route", "providers", i), f"names provider {name!r}, which is "
                               f"not defined (defined: {', '.join(tables) or 'none'})")
    with source.at(("route", "policy")):
        C.make_policy(cfg.route.policy, cfg.route)
    if cfg.route.hedge_after is not None:
        C.check_hedge_after(cfg.route.hedge_after, source)
    rows = []
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise source.error(("providers", name), "expected a table")
        kind = table.get("kind", "?")  # missing: _build below reports it for this row
        row = _Row(name, str(kind), name in routed)

        def build(name: str = name, table: dict[str, Any] = table) -> Provider:
            expanded = C._expand(table, ("providers", name), source)
            return C._build(name, expanded, source, None)
        _build(row, build)
        rows.append(row)
    return str(file), rows


def _build(row: _Row, make: Any) -> None:
    try:
        row.provider = make()
    except ConfigurationError as exc:
        row.ok, row.misconfigured, row.credentials = False, True, str(exc)


async def _resolve(rows: list[_Row], timeout: float) -> None:
    """Resolve every built provider's credentials as a call would, each within ``timeout``."""
    for r in rows:
        if r.provider is None:
            continue
        auth = r.provider.auth
        try:
            async with asyncio.timeout(timeout):
                await auth.refresh()
        except (CredentialsError, ConfigurationError) as exc:
            r.ok, r.misconfigured = False, True
            r.credentials = f"{type(exc).__name__}: {exc}"
        except TimeoutError:
            r.ok, r.misconfigured = False, True
            r.credentials = f"CredentialsError: not resolved within {timeout:g}s"
        except ClauderouteError as exc:  # a platform answer during the refresh
            r.ok, r.credentials = False, f"{type(exc).__name__}: {exc}"
        else:
            r.credentials = f"resolved ({type(auth).__name__}, {auth.kind})"


async def _ping(rows: list[_Row], model: str, timeout: float) -> None:
    from .._client import AsyncClient

    built = [r for r in rows if r.provider is not None]
    if not built:
        return
    client = AsyncClient(providers=[r.provider for r in built if r.provider], breaker=False,
                         timeout=timeout, deadline=timeout)
    messages: list[MessageParam] = [{"role": "user", "content": "ping"}]
    try:
        for r in built:
            assert r.provider is not None
            t = time.perf_counter()
            try:
                if COUNT_TOKENS in r.provider.capabilities.operations:
                    n = await client.messages.count_tokens(provider=r.name, model=model,
                                                           messages=messages)
                    what = f"count_tokens: {n.input_tokens} tokens"
                else:
                    await client.messages.create(provider=r.name, model=model, max_tokens=1,
                                                 messages=messages)
                    what = "messages.create"
                r.ping = f"ok, {(time.perf_counter() - t) * 1000:.0f} ms ({what})"
            except ClauderouteError as exc:
                r.ok = False
                r.ping = f"{type(exc).__name__}: {exc}"
    finally:
        await client.close()


def run(args: argparse.Namespace, console: Any) -> int:
    """Check; 0 when every provider is fine, 2 for a configuration error (the file, a
    provider's settings or credentials), 1 when only a ping failed."""
    from rich.markup import escape
    from rich.table import Table

    if not 0 < args.timeout < float("inf"):  # also refuses NaN
        raise ValueError(f"--timeout must be positive, not {args.timeout}")
    where, rows = _rows(C.find_config(args.config))
    asyncio.run(_resolve(rows, args.timeout))
    if args.ping:
        asyncio.run(_ping([r for r in rows if r.ok], args.model, args.timeout))
    table = Table(title=f"clauderoute check: {where}")
    for col in ("provider", "kind", "in route", "credentials", "ping", "status"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.name, r.kind, "yes" if r.routed else "no", escape(r.credentials),
                      escape(r.ping) if args.ping else "not run (--ping)",
                      "[green]ok[/]" if r.ok else "[red]FAILED[/]")
    console.print(table)
    failed = [r.name for r in rows if not r.ok]
    if failed:
        console.print(f"[red]{len(failed)} of {len(rows)} provider(s) failing:[/] "
                      + escape(", ".join(failed)))
        from . import EXIT_FAILED, EXIT_USAGE

        return EXIT_USAGE if any(r.misconfigured for r in rows) else EXIT_FAILED
    console.print(f"all {len(rows)} provider(s) ok")
    return 0

"""``clauderoute serve``: the Claude-API-compatible gateway (``clauderoute.gateway``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``serve``."""
    p = sub.add_parser(
        "serve",
        help="run a Claude-API-compatible gateway on the router",
        description="Serve the Claude API (POST /v1/messages, count_tokens, "
        "GET /v1/models) on the configured route; point ANTHROPIC_BASE_URL "
        "at it. Access log: one JSON line per request on stdout.",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: $CLAUDEROUTE_CONFIG, then ./clauderoute.toml)",
    )
    p.add_argument(
        "--host",
        help="address to listen on (default: [gateway] host, else 127.0.0.1; another address "
        "needs [gateway] api_keys)",
    )
    p.add_argument(
        "--port", type=int, help="port (default: [gateway] port, else 8080; 0: any free)"
    )
    p.add_argument(
        "--workers",
        type=int,
        help="worker processes on one port (SO_REUSEPORT), supervised and restarted on crash "
        "(default: [gateway] workers, else 1)",
    )
    p.add_argument("--worker-slot", type=int, help=argparse.SUPPRESS)
    p.set_defaults(run=run, console=False)  # plain lines on stderr, the access log on stdout


def run(args: argparse.Namespace, console: Any) -> int:
    """Serve until SIGTERM/SIGINT; 0 after a clean drain. (``console`` is None: a worker
    loads no rich.)"""
    from ..gateway import check_listen, listen_on, load_settings, serve, supervise

    given = {"host": args.host, "port": args.port, "workers": args.workers}
    for name in ("workers", "port"):  # the flags first: the file is read below
        _check(name, given[name])
    settings = load_settings(args.config)
    listen = listen_on(settings, given)
    host, port, workers = listen["host"], listen["port"], listen["workers"]
    out = sys.stdout.buffer  # the access log: one JSON line per request
    flags = frozenset(n for n, v in given.items() if v is not None)
    if args.worker_slot is not None:  # a supervised worker: the supervisor reports changes
        label = f" worker {args.worker_slot}"
        return asyncio.run(
            serve(
                args.config,
                host,
                port,
                reuse_port=True,
                label=label,
                workers=workers,
                given=frozenset(given),
                access_stream=out,
            )
        )
    if workers > 1:
        check_listen(host, settings)  # refuse before starting workers
        argv = [sys.executable, "-m", "clauderoute._cli", "serve", "--host", host]
        if args.config:
            argv += ["--config", args.config]
        return asyncio.run(supervise(argv, workers, host, port, config=args.config, given=flags))
    return asyncio.run(
        serve(args.config, host, port, workers=workers, given=flags, access_stream=out)
    )


def _check(name: str, value: int | None) -> None:
    if value is None:
        return
    if name == "workers" and value < 1:
        raise ValueError(f"--workers: must be at least 1, not {value}")
    if name == "port" and not 0 <= value <= 65535:
        raise ValueError(f"--port: must be 0-65535, not {value}")

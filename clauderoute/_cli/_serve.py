"""``clauderoute serve``: the Claude-API-compatible gateway (``clauderoute.gateway``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
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
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; another address needs [gateway] api_keys)",
    )
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes on one port "
        "(SO_REUSEPORT), supervised and restarted on crash (default 1)",
    )
    p.add_argument("--worker-slot", type=int, help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Any) -> int:
    """Serve until SIGTERM/SIGINT; 0 after a clean drain."""
    from ..gateway import check_listen, load_settings, serve, supervise

    if args.workers < 1:
        raise ValueError(f"--workers: must be at least 1, not {args.workers}")
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port: must be 0-65535, not {args.port}")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("clauderoute.gateway.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    if args.workers > 1 and args.worker_slot is None:
        check_listen(args.host, load_settings(args.config))  # refuse before starting workers
        argv = [sys.executable, "-m", "clauderoute._cli", "serve", "--host", args.host]
        if args.config:
            argv += ["--config", args.config]
        return asyncio.run(supervise(argv, args.workers, args.host, args.port))
    label = f" worker {args.worker_slot}" if args.worker_slot else ""
    return asyncio.run(
        serve(
            args.config, args.host, args.port, reuse_port=args.worker_slot is not None, label=label
        )
    )

"""``clauderoute emulate``: every installed platform emulator on fixed loopback ports, and a ready
``clauderoute.toml`` plus the environment variables (the emulators' credentials) that reach
them. Runs until Ctrl-C or SIGTERM, then stops the emulators and exits 0.

What it prints on stdout, in this order (lines starting with ``#`` are comments)::

    # clauderoute emulate: 6 emulators on 127.0.0.1; Ctrl-C or SIGTERM stops them
    # environment (emulator credentials, valid on these emulators only):
    export ANTHROPIC_API_KEY=test-anthropic-key
    ...
    # clauderoute.toml:
    [providers.anthropic]
    kind = "anthropic"
    base_url = "http://127.0.0.1:8780"
    api_key = "${ANTHROPIC_API_KEY}"
    ...
    [route]
    policy = "failover"
    providers = ["anthropic", ...]
    # ready

The credentials are fixed test values, the same on every run, so a test suite or a shell
script can hard-code them; the TOML names them as ``${VAR}`` so the same file works with real
credentials in the environment (and the real hosts without ``base_url``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._registry import EMULATORS, emulator_class, installed

__all__ = ["DEFAULT_PORT", "ENVIRONMENT", "PLATFORMS", "add_parser", "run"]

DEFAULT_PORT = 8780
#: The emulators' credentials, as the environment variables the printed config reads.
ENVIRONMENT = {
    "ANTHROPIC_API_KEY": "test-anthropic-key",
    "AWS_ACCESS_KEY_ID": "AKIAEMULATOREXAMPLE7",
    "AWS_SECRET_ACCESS_KEY": "emulatorSecretKey/EXAMPLE+0123456789abcdef",
    "GOOGLE_OAUTH_ACCESS_TOKEN": "test-google-token",
    "ANTHROPIC_FOUNDRY_API_KEY": "test-foundry-key",
}
WORKSPACE = "wrkspc_01EmulatorWorkspace"
PROJECT = "test-project"


@dataclass(frozen=True)
class Platform:
    """How ``emulate`` runs one platform: its port offset, the emulator's settings and the
    provider table that reaches it (``${VAR}`` for credentials)."""

    offset: int
    emulator: Callable[[type], dict[str, Any]]
    table: dict[str, str]
    env: tuple[str, ...]


def _aws_keys(cls: type) -> dict[str, Any]:
    # Bedrock and Claude Platform on AWS accept the same key pair: one AWS_* pair serves both.
    key = sys.modules[cls.__module__].AwsKey
    return {ENVIRONMENT["AWS_ACCESS_KEY_ID"]: key(ENVIRONMENT["AWS_SECRET_ACCESS_KEY"])}


_AWS_TABLE = {"access_key": "${AWS_ACCESS_KEY_ID}", "secret_key": "${AWS_SECRET_ACCESS_KEY}"}
_AWS_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
_GOOGLE = ("GOOGLE_OAUTH_ACCESS_TOKEN",)

#: The platforms ``emulate`` knows, in port order (``--port`` + offset); an emulator of another
#: platform, installed later, is reported as not served.
PLATFORMS: dict[str, Platform] = {
    "anthropic": Platform(0, lambda _: {"api_key": ENVIRONMENT["ANTHROPIC_API_KEY"]},
                          {"api_key": "${ANTHROPIC_API_KEY}"}, ("ANTHROPIC_API_KEY",)),
    "bedrock": Platform(1, lambda cls: {"keys": _aws_keys(cls), "region": "us-east-1"},
                        {"region": "us-east-1", **_AWS_TABLE}, _AWS_ENV),
    "vertex": Platform(2, lambda _: {"project": PROJECT,
                                     "tokens": [ENVIRONMENT["GOOGLE_OAUTH_ACCESS_TOKEN"]]},
                       {"project": PROJECT, "region": "us-east5",
                        "access_token": "${GOOGLE_OAUTH_ACCESS_TOKEN}"}, _GOOGLE),
    "foundry": Platform(3, lambda _: {"api_key": ENVIRONMENT["ANTHROPIC_FOUNDRY_API_KEY"]},
                        {"api_key": "${ANTHROPIC_FOUNDRY_API_KEY}"},
                        ("ANTHROPIC_FOUNDRY_API_KEY",)),
    "aws": Platform(4, lambda cls: {"keys": _aws_keys(cls), "region": "us-west-2",
                                    "workspaces": [WORKSPACE]},
                    {"region": "us-west-2", "workspace_id": WORKSPACE, **_AWS_TABLE}, _AWS_ENV),
    # The emulator's url is the gateway's workspace root: the provider needs only a token.
    "google-cloud": Platform(5, lambda _: {
        "project": PROJECT, "tokens": [ENVIRONMENT["GOOGLE_OAUTH_ACCESS_TOKEN"]]},
        {"access_token": "${GOOGLE_OAUTH_ACCESS_TOKEN}"}, _GOOGLE),
}


def add_parser(sub: Any) -> None:
    """Register ``emulate``."""
    p = sub.add_parser("emulate", help="serve every installed platform emulator on loopback "
                       "and print a config that uses them", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--platforms", metavar="LIST", help="comma-separated platform ids to serve "
                   "(default: every installed emulator)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="first port; each platform "
                   f"has a fixed offset from it: {', '.join(f'{k} +{v.offset}' for k, v in PLATFORMS.items())} "
                   f"(default {DEFAULT_PORT}; 0: any free ports)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on "
                   "(default 127.0.0.1)")
    p.add_argument("--strict", action="store_true", help="refuse a model the platform does "
                   "not serve, as that platform refuses it (catches typos in model names)")
    p.add_argument("--write-config", metavar="FILE", help="also write the TOML to FILE")
    p.set_defaults(run=run)


def _chosen(arg: str | None) -> tuple[list[str], list[str]]:
    """The platforms to serve, and installed emulators ``emulate`` has no settings for."""
    have = installed(EMULATORS)
    unknown = [k for k in have if k not in PLATFORMS]
    if arg is None:
        return [k for k in PLATFORMS if k in have], unknown
    wanted = [k.strip() for k in arg.split(",") if k.strip()]
    for kind in wanted:
        if kind not in PLATFORMS:
            raise ValueError(f"--platforms: unknown platform {kind!r} (known: "
                             f"{', '.join(PLATFORMS)})")
        if kind not in have:
            raise ValueError(f"--platforms: {kind!r} is not installed (pip install "
                             f"clauderoute-{kind})")
    if not wanted:
        raise ValueError("--platforms: name at least one platform")
    return list(dict.fromkeys(wanted)), []


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(urls: dict[str, str]) -> tuple[list[str], list[str]]:
    """The environment lines and the TOML lines for emulators at ``urls`` (kind → url)."""
    names = list(dict.fromkeys(v for k in urls for v in PLATFORMS[k].env))
    env = [f"export {n}={ENVIRONMENT[n]}" for n in names]
    toml: list[str] = []
    for kind, url in urls.items():
        toml += [f"[providers.{kind}]", f"kind = {_toml(kind)}", f"base_url = {_toml(url)}"]
        toml += [f"{k} = {_toml(v)}" for k, v in PLATFORMS[kind].table.items()] + [""]
    toml += ["[route]", 'policy = "failover"',
             "providers = [" + ", ".join(_toml(k) for k in urls) + "]"]
    return env, toml


async def _serve(args: argparse.Namespace, kinds: list[str], unknown: list[str]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still interrupts
            loop.add_signal_handler(sig, stop.set)
    running: list[Any] = []
    try:
        for kind in kinds:
            cls = emulator_class(kind)
            port = args.port + PLATFORMS[kind].offset if args.port else 0
            emu = cls(host=args.host, port=port, strict=args.strict,
                      **PLATFORMS[kind].emulator(cls))
            try:
                await emu.start()
            except OSError as exc:
                raise ValueError(f"--port: {kind} cannot listen on {args.host}:{port} "
                                 f"({exc.strerror or exc})") from exc
            running.append(emu)
        env, toml = render({k: e.url for k, e in zip(kinds, running, strict=True)})
        if args.write_config:
            Path(args.write_config).write_text("\n".join(toml) + "\n", encoding="utf-8")
        mode = " (strict: unknown models are refused)" if args.strict else ""
        head = (f"# clauderoute emulate: {len(running)} emulators on {args.host}{mode}; "
                "Ctrl-C or SIGTERM stops them")
        lines = [head,
                 *(f"# not served: {k} (emulate has no settings for it)" for k in unknown),
                 "# environment (emulator credentials, valid on these emulators only):", *env,
                 "# clauderoute.toml:", *toml, "# ready"]
        print("\n".join(lines), flush=True)
        await stop.wait()
    finally:
        for emu in running:
            await emu.stop()
    return 0


def run(args: argparse.Namespace, console: Any) -> int:
    """Serve until interrupted; 0 after a clean stop."""
    if not 0 <= args.port <= 65535 - len(PLATFORMS):
        raise ValueError(f"--port must be between 0 and {65535 - len(PLATFORMS)}")
    kinds, unknown = _chosen(args.platforms)
    if not kinds:
        raise ValueError("--platforms: no platform emulator is installed")
    return asyncio.run(_serve(args, kinds, unknown))

"""Running the gateway: one worker process, or a supervisor of several on one port.

A worker listens (with ``SO_REUSEPORT`` when there are several, so the kernel spreads
connections), and on SIGTERM stops accepting, lets the requests in flight — streams included —
finish for ``drain_timeout_s``, then exits 0. SIGHUP reloads the configuration: new requests
use the new providers and keys, requests in flight finish on the old ones.

The supervisor starts ``--workers N`` worker processes, restarts one that exits unasked, and
passes SIGTERM and SIGHUP on to every worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, Any, BinaryIO

from .._errors import ClauderouteError, ConfigurationError
from ._settings import GatewaySettings, is_loopback, load_settings
from ._watch import guarded

if TYPE_CHECKING:  # loaded by ``serve``: a supervisor never serves, nor needs aiohttp
    from .._client import AsyncClient
    from ._app import Gateway

__all__ = ["LISTEN_DEFAULTS", "check_listen", "listen_on", "listen_socket", "serve", "supervise"]

log = logging.getLogger("clauderoute.gateway")

#: ``host``, ``port`` and ``workers`` when neither the command line nor ``[gateway]`` sets them.
LISTEN_DEFAULTS: dict[str, Any] = {"host": "127.0.0.1", "port": 8080, "workers": 1}
_ALL = frozenset(LISTEN_DEFAULTS)
#: aiohttp's own keep-alive timer is fixed when the server is made; the guard's idle timer
#: (``idle_timeout_s``, which a reload changes) closes idle connections long before this.
_AIOHTTP_KEEPALIVE_S = 86400.0


def listen_on(settings: GatewaySettings, given: dict[str, Any]) -> dict[str, Any]:
    """``host``, ``port`` and ``workers``: the command line's (``given``, ``None`` where not
    given), else ``[gateway]``'s, else ``LISTEN_DEFAULTS``."""
    out = {}
    for name, default in LISTEN_DEFAULTS.items():
        value = given.get(name)
        if value is None:
            value = getattr(settings, name)
        out[name] = default if value is None else value
    return out


def _say(text: str) -> None:
    """One line to stderr in one write: the workers share the supervisor's stderr, and
    ``print`` writes the text and its newline separately, so two workers' lines interleaved."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _kept(settings: GatewaySettings, running: dict[str, Any], given: frozenset[str]) -> None:
    """Report each of ``host``, ``port``, ``workers`` that the reloaded file changes: they
    need a restart, so the running value is kept (a command-line flag overrides the file)."""
    new = listen_on(settings, {})
    for name in sorted(_ALL - given):
        if new[name] != running[name]:
            _say(
                f"clauderoute serve: warning: gateway.{name} changed to {new[name]!r}, which "
                f"a reload cannot apply; keeping {running[name]!r} until a restart"
            )


def check_listen(host: str, settings: GatewaySettings) -> None:
    """Refuse to listen beyond this machine without client keys.

    Raises:
        ConfigurationError: ``host`` is not loopback and ``gateway.api_keys`` is empty.
    """
    if not settings.api_keys and not is_loopback(host):
        raise ConfigurationError(
            f"gateway.api_keys: refusing to listen on {host!r} (not loopback) without client "
            "keys; set api_keys in [gateway] or listen on 127.0.0.1"
        )


def listen_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A bound, listening, non-blocking socket (``SO_REUSEPORT`` when ``reuse_port``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _load(config: str | None) -> tuple[AsyncClient, GatewaySettings]:
    from .._client import AsyncClient

    settings = load_settings(config)
    return AsyncClient.from_config(config), settings


async def serve(
    config: str | None,
    host: str,
    port: int,
    *,
    reuse_port: bool = False,
    label: str = "",
    workers: int = 1,
    given: frozenset[str] = _ALL,
    access_stream: BinaryIO | None = None,
) -> int:
    """Run one worker until SIGTERM or SIGINT; returns the exit code (0 after a drain).

    ``access_stream`` takes the access log (else the ``clauderoute.gateway.access`` logger).
    ``given`` names the listen settings set on the command line: a reload that changes one of
    the others in the file is reported (and the running value kept).

    .. versionadded:: 0.3
    """
    from aiohttp import web

    from ._app import Gateway

    client, settings = _load(config)
    check_listen(host, settings)
    gw = Gateway(client, settings, access_stream=access_stream)
    # lingering_time=0: a body the gateway refused (too large, no key) is never read on.
    runner = web.AppRunner(
        gw.app(),
        access_log=None,
        handle_signals=False,
        handler_cancellation=True,
        lingering_time=0,
        shutdown_timeout=1.0,
        keepalive_timeout=_AIOHTTP_KEEPALIVE_S,
    )
    await runner.setup()
    assert runner.server is not None  # set by setup()
    loop = asyncio.get_running_loop()
    sock = listen_socket(host, port, reuse_port=reuse_port)
    server = await loop.create_server(guarded(runner.server, gw), sock=sock)
    bound = sock.getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloading: set[asyncio.Task[None]] = set()

    def on_hup() -> None:
        running = {"host": host, "port": port, "workers": workers}
        task = loop.create_task(_reload(gw, config, running, given))
        reloading.add(task)
        task.add_done_callback(reloading.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    _say(f"clauderoute serve{label}: pid {os.getpid()} listening on http://{host}:{bound}")
    await stop.wait()
    server.close()  # no new connections; keep-alive ones get 529 + close while draining
    gw.draining = True
    end = time.monotonic() + gw.settings.drain_timeout_s
    while gw.in_flight and time.monotonic() < end:
        await asyncio.sleep(0.05)
    left = gw.in_flight
    _ignore_stop_signals(loop)
    await runner.cleanup()
    await gw.client.close()
    _say(
        f"clauderoute serve{label}: pid {os.getpid()} drained "
        f"({left} request(s) cut at the grace limit)"
    )
    return 0


async def _reload(
    gw: Gateway, config: str | None, running: dict[str, Any], given: frozenset[str]
) -> None:
    """Serve new requests on the file as it is now; an invalid file is refused (reported) and
    the running configuration keeps serving."""
    from .._client import AsyncClient

    try:
        settings = load_settings(config)
        check_listen(running["host"], settings)
        client = AsyncClient.from_config(config)
    except (ClauderouteError, OSError, ValueError) as exc:  # keep serving with what works
        _say(
            f"clauderoute serve: pid {os.getpid()} reload refused, keeping the old "
            f"configuration: {exc}"
        )
        return
    _kept(settings, running, given)
    gw.replace(client, settings)
    _say(f"clauderoute serve: pid {os.getpid()} reloaded its configuration")


async def supervise(
    argv: list[str],
    workers: int,
    host: str,
    port: int,
    *,
    config: str | None = None,
    given: frozenset[str] = _ALL,
) -> int:
    """Run ``workers`` worker processes (``argv`` plus ``--port``) and keep them running; on
    SIGHUP, report a changed ``host``, ``port`` or ``workers`` (kept until a restart) and pass
    the signal on.

    .. versionadded:: 0.3
    """
    running = {"host": host, "port": port, "workers": workers}
    # Hold the port (bound, not listening, SO_REUSEPORT) so that port 0 resolves once and every
    # worker joins the same group; only listening sockets take connections.
    holder = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, port))
    port = holder.getsockname()[1]
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    procs: dict[int, Any] = {}

    async def start(slot: int) -> None:
        procs[slot] = await asyncio.create_subprocess_exec(
            *argv, "--port", str(port), "--worker-slot", str(slot)
        )
        _say(f"clauderoute serve: worker {slot} started (pid {procs[slot].pid})")

    def forward(sig: int) -> None:
        if sig == signal.SIGHUP:
            try:
                _kept(load_settings(config), running, given)
            except (ClauderouteError, OSError, ValueError):
                pass  # each worker refuses the file and says why
        else:
            stopping.set()
        for p in procs.values():
            if p.returncode is None:
                p.send_signal(sig)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, forward, sig)

    async def keep(slot: int) -> None:
        while True:
            await start(slot)
            started = time.monotonic()
            code = await procs[slot].wait()
            if stopping.is_set():
                return
            _say(
                f"clauderoute serve: worker {slot} (pid {procs[slot].pid}) exited with "
                f"{code}; restarting"
            )
            if time.monotonic() - started < 1.0:
                await asyncio.sleep(1.0)  # a worker that dies at once: do not spin

    try:
        await asyncio.gather(*(keep(i) for i in range(1, workers + 1)))
    finally:
        _ignore_stop_signals(loop)
        holder.close()
    return 0


def _ignore_stop_signals(loop: asyncio.AbstractEventLoop) -> None:
    """Once drained, a repeated SIGTERM/SIGINT (a supervisor insisting, a second Ctrl-C) must
    not turn the clean exit into death by signal (exit -15): the loop's handlers go and the
    signals are ignored, so closing the loop does not restore their default action for the
    process's last moments."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
        signal.signal(sig, signal.SIG_IGN)

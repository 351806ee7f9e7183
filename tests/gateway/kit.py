"""A gateway in the test's event loop, fronting emulators on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from clauderoute import AsyncClient, Provider
from clauderoute.gateway import Gateway, GatewayKey, GatewaySettings
from clauderoute.gateway._watch import guarded

KEY = "gw-test-key-0123456789abcdef"


@dataclass
class Running:
    gateway: Gateway
    url: str
    port: int
    runner: web.AppRunner
    server: asyncio.AbstractServer


@asynccontextmanager
async def gateway(providers: Sequence[Provider], *, keys: Sequence[str | GatewayKey] = (KEY,),
                  client_kw: dict[str, Any] | None = None,
                  **settings: Any) -> AsyncIterator[Running]:
    client = AsyncClient(providers=list(providers), **(client_kw or {}))
    gw = Gateway(client, GatewaySettings(api_keys=list(keys), **settings))
    runner = web.AppRunner(gw.app(), access_log=None, handle_signals=False,
                           handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    server = await asyncio.get_running_loop().create_server(
        guarded(runner.server, gw.settings.header_timeout_s, gw.guards), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield Running(gw, f"http://127.0.0.1:{port}", port, runner, server)
    finally:
        server.close()
        await runner.cleanup()
        await gw.client.close()

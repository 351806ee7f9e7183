"""A gateway in the test's event loop, fronting emulators (or a hostile server) on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from clauderoute import AsyncClient, Provider
from clauderoute._cli._fleet import Fleet, start_fleet
from clauderoute.gateway import Gateway, GatewayKey, GatewaySettings
from clauderoute.gateway._watch import guarded
from clauderoute.testing import FaultPlan

KEY = "gw-test-key-0123456789abcdef"
MODEL = "claude-haiku-4-5"


@dataclass
class Running:
    gateway: Gateway
    url: str
    port: int


@asynccontextmanager
async def run_gateway(
    providers: Sequence[Provider],
    *,
    keys: Sequence[str | GatewayKey] = (KEY,),
    client_kw: dict[str, Any] | None = None,
    gateway_kw: dict[str, Any] | None = None,
    **settings: Any,
) -> AsyncIterator[Running]:
    """Start a gateway on an ephemeral loopback port; stop it (and its client) on exit."""
    client = AsyncClient(providers=list(providers), **(client_kw or {}))
    gw = Gateway(client, GatewaySettings(api_keys=list(keys), **settings), **(gateway_kw or {}))
    runner = web.AppRunner(
        gw.app(),
        access_log=None,
        handle_signals=False,
        handler_cancellation=True,
        lingering_time=0,
        shutdown_timeout=0.5,
    )
    await runner.setup()
    assert runner.server is not None
    server = await asyncio.get_running_loop().create_server(
        guarded(runner.server, gw), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield Running(gw, f"http://127.0.0.1:{port}", port)
    finally:
        server.close()
        await runner.cleanup()
        await gw.client.close()


FleetMaker = Callable[..., Any]


@pytest.fixture
async def fleet_of() -> AsyncIterator[Callable[..., Any]]:
    """``await fleet_of(kinds=[...], faults=...)``: emulators on loopback, stopped after."""
    fleets: list[Fleet] = []

    async def make(
        kinds: list[str] | None = None,
        faults: Callable[[int, str], FaultPlan] | None = None,
        max_retries: int = 0,
    ) -> Fleet:
        fleet = await start_fleet(scale=0.0, kinds=kinds, faults=faults, max_retries=max_retries)
        assert not fleet.skipped, fleet.skipped
        fleets.append(fleet)
        return fleet

    yield make
    for f in fleets:
        await f.stop()


async def until(check: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    """Wait (polling the event loop) until ``check()`` holds; fail naming ``what`` if it never
    does. The limit only bounds a broken test: nothing passes or fails on timing."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not check():
        if loop.time() > end:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.005)


class Kit:
    """What the gateway tests share (conftest helpers are not importable under
    ``--import-mode=importlib``, so they come as this fixture)."""

    KEY = KEY
    MODEL = MODEL
    run_gateway = staticmethod(run_gateway)
    until = staticmethod(until)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit

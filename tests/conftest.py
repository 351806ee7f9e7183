"""Fixtures shared by the routing tests under ``tests/``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from clauderoute_anthropic import AnthropicEmulator


@pytest.fixture
async def emus(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, AnthropicEmulator]]:
    """Claude API emulators named by the test module's ``NAMES`` (default ``a`` and ``b``),
    each accepting the module's ``KEY``; stopped after the test."""
    names = getattr(request.module, "NAMES", ("a", "b"))
    servers = {n: AnthropicEmulator(api_key=request.module.KEY) for n in names}
    for s in servers.values():
        await s.start()
    try:
        yield servers
    finally:
        for s in servers.values():
            await s.stop()

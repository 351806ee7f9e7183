"""The engine hands on an answer's headers with their names lower-cased, the last value of a
repeated name kept, for a whole answer (``send``) and a streamed one (``open``) alike, whatever
the case and order the server wrote them in."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from clauderoute._engine import Engine
from clauderoute._provider import HttpRequest

# header names as a server may spell them: mixed case, some repeated in another case
_NAMES = st.sampled_from(["X-Trace", "x-trace", "X-TRACE", "Request-Id", "ALLCAPS", "a", "Z-9"])
_VALUES = st.text(alphabet="abcXYZ0129;=,-", max_size=12)  # (HTTP trims spaces)


async def _answer(request: web.Request) -> web.Response:
    pairs = json.loads(await request.read())
    return web.Response(body=b"{}", headers=CIMultiDict([(n, v) for n, v in pairs]))


async def _headers_seen(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    app = web.Application()
    app.router.add_post("/", _answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    engine = Engine()
    try:
        request = HttpRequest("POST", f"http://127.0.0.1:{port}/", {}, json.dumps(pairs).encode())
        whole = await engine.send(request, timeout=10.0)
        stream = await engine.open(request, timeout=10.0, read_timeout=10.0)
        stream.release()
        return dict(whole.headers), dict(stream.headers)
    finally:
        await engine.close()
        await runner.cleanup()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=8))
def test_names_are_lower_cased_and_the_last_repeat_wins(pairs: list[tuple[str, str]]) -> None:
    whole, streamed = asyncio.run(_headers_seen(pairs))
    expected: dict[str, str] = {}
    for name, value in pairs:  # what a lookup by lower-cased name must find
        expected[name.lower()] = value
    for got in (whole, streamed):
        assert all(k == k.lower() for k in got)
        assert {k: got[k] for k in expected} == expected
        assert got["content-length"] == "2"  # the server's own headers are there too

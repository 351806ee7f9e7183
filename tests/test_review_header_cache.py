"""The engine's memory of header sets that passed its check keeps the ones still in use: a set
that passes again becomes the latest, so the next new sets push out older ones before it (a
client whose Claude API calls are interleaved with signed calls, whose headers differ every
time, keeps its own set remembered)."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web

import clauderoute as cr
from clauderoute._engine import Engine, _check_headers
from clauderoute._provider import HttpRequest


def test_a_set_that_passes_again_becomes_the_latest() -> None:
    passed: list[dict[str, str]] = []
    first = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    _check_headers(first, passed)
    _check_headers({"authorization": "signed 1"}, passed)
    _check_headers(dict(first), passed)  # an equal set, passed from memory
    assert passed[0] == first
    for n in range(2, 5):  # three new sets: the one in use is not among those dropped
        _check_headers({"authorization": f"signed {n}"}, passed)
    assert first in passed
    assert len(passed) == 4
    assert {"authorization": "signed 1"} not in passed  # the oldest unused one went first


async def test_engine_keeps_the_set_in_use_between_signed_requests() -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    engine = Engine()
    url = f"http://127.0.0.1:{port}/"
    direct = {"x-api-key": "k", "content-type": "application/json"}
    try:
        for n in range(6):
            await engine.send(HttpRequest("POST", url, dict(direct), b"{}"), timeout=30)
            signed = {"authorization": f"AWS4-HMAC-SHA256 {n}", "x-amz-date": f"2026120{n}"}
            response = await engine.send(HttpRequest("POST", url, signed, b"{}"), timeout=30)
            assert response.status == 200
            assert direct in engine._passed  # remembered all along
        with pytest.raises(cr.InvalidRequest):  # a bad set is still refused, remembered or not
            await engine.send(
                HttpRequest("POST", url, {"x-api-key": "k\r\nx: y"}, b"{}"), timeout=30
            )
    finally:
        await engine.close()
        await runner.cleanup()

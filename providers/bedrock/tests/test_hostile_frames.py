"""The Bedrock event-stream decoder over a real socket, against a hostile server: a prelude
claiming an absurd length is refused on its 12 bytes (the connection dropped, the rest never
waited for), a frame whose CRC is wrong is refused after the good frames before it were
delivered, and a stream cut inside a frame is refused at its end — typed errors, no hang."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from clauderoute_bedrock import BedrockProvider
from clauderoute_bedrock._frames import encode_frame

import clauderoute as cr
from clauderoute.testing import Hostile, HostileServer, no_backoff

EVENTSTREAM = {"content-type": "application/vnd.amazon.eventstream"}
CHUNK = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
START = {"type": "message_start", "message": {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
    "stop_reason": None, "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 0}}}
# Content has begun after these (before it, a failed attempt is retried or failed over as a
# whole, and its events are not shown): the events the caller sees before the error.
OPENING = [START, {"type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}},
           {"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": "hello"}}]
SEEN = ["message_start", "content_block_start", "content_block_delta"]


def chunk(event: dict[str, Any]) -> bytes:
    raw = base64.b64encode(msgspec.json.encode(event)).decode()
    return encode_frame(CHUNK, msgspec.json.encode({"bytes": raw}))


def absurd_prelude() -> bytes:
    head = struct.pack("!II", 2**32 - 1, 0)
    return head + struct.pack("!I", zlib.crc32(head))


@pytest.fixture
async def served() -> AsyncIterator[list[HostileServer]]:
    servers: list[HostileServer] = []
    yield servers
    for s in servers:
        await s.stop()


async def stream_from(servers: list[HostileServer], answer: Hostile) -> tuple[list[str], Any]:
    server = HostileServer(answer)
    servers.append(server)
    await server.start()
    provider = BedrockProvider(name="b", base_url=server.url, api_key="k", max_retries=0)
    seen: list[str] = []
    async with cr.AsyncClient(providers=[provider], tracing=False) as client:
        with no_backoff(), pytest.raises(cr.APIError) as caught:
            async with client.messages.stream(
                    model="claude-haiku-4-5", max_tokens=8,
                    messages=[{"role": "user", "content": "hi"}]) as stream:
                async for event in stream:
                    seen.append(event.type)
    return seen, caught.value


async def test_an_absurd_length_is_refused_on_the_prelude(served: list[HostileServer]) -> None:
    # 12 bytes claiming a 4 GiB frame, then filler dripped for minutes: the client must not
    # wait for (or buffer) the frame; it drops the connection at once.
    body = absurd_prelude() + b"x" * 100_000
    seen, error = await stream_from(served, Hostile(mode="drip_body", body=body,
                                                   headers=EVENTSTREAM, drip_s=0.002))
    assert isinstance(error, cr.MalformedResponse) and "impossible lengths" in str(error)
    assert seen == []
    await served[0].wait_disconnects(1)
    assert served[0].bytes_sent < len(body)


async def test_a_bad_crc_after_good_frames(served: list[HostileServer]) -> None:
    bad = bytearray(chunk({"type": "ping"}))
    bad[-5] ^= 0xFF  # inside the payload: the message CRC no longer matches
    body = b"".join(map(chunk, OPENING)) + bytes(bad)  # one write: one read, most likely
    seen, error = await stream_from(served, Hostile(body=body, headers=EVENTSTREAM))
    assert "message CRC mismatch" in str(error)
    assert seen[:3] == SEEN


async def test_a_stream_cut_inside_a_frame(served: list[HostileServer]) -> None:
    body = b"".join(map(chunk, OPENING)) + chunk({"type": "ping"})[:30]
    seen, error = await stream_from(served, Hostile(body=body, headers=EVENTSTREAM))
    assert "inside a frame" in str(error)
    assert seen[:3] == SEEN

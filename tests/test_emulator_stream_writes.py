"""An emulator's stream goes out in as few writes as its pauses allow: the events ready together
leave in one write (one HTTP chunk), and a pause (the model's latency) or a stream fault splits
them, what comes before it sent first. Read over a raw socket, chunk by chunk."""

from __future__ import annotations

import asyncio
import json

from clauderoute_anthropic import AnthropicEmulator

from clauderoute.testing import Fault, FaultPlan, LatencyProfile

KEY = "stream-writes-key"
BODY = json.dumps(
    {
        "model": "claude-haiku-4-5",
        "max_tokens": 16,
        "stream": True,
        "messages": [{"role": "user", "content": "one two three four"}],
    }
).encode()


async def _open(emu: AnthropicEmulator) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(emu.host, emu.port)
    writer.write(
        b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"anthropic-version: 2023-06-01\r\nx-api-key: %s\r\ncontent-length: %d\r\n\r\n%s"
        % (KEY.encode(), len(BODY), BODY)
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 200") and b"chunked" in head.lower()
    return reader, writer


async def _chunk(reader: asyncio.StreamReader) -> bytes:
    """The next HTTP chunk (b"" for the last one)."""
    size = int((await asyncio.wait_for(reader.readuntil(b"\r\n"), 10)).strip(), 16)
    data = await asyncio.wait_for(reader.readexactly(size + 2), 10)
    return data[:-2]


async def _chunks(reader: asyncio.StreamReader) -> list[list[str]]:
    """Every chunk of the stream, as the event types it holds."""
    out = []
    while chunk := await _chunk(reader):
        out.append([line[7:] for line in chunk.decode().split("\n") if line.startswith("event: ")])
    return out


async def test_a_stream_without_pauses_is_one_write() -> None:
    async with AnthropicEmulator(api_key=KEY) as emu:
        reader, writer = await _open(emu)
        chunks = await _chunks(reader)
        writer.close()
    assert len(chunks) == 1
    assert chunks[0][0] == "message_start" and chunks[0][-1] == "message_stop"
    assert chunks[0].count("content_block_delta") >= 2


async def test_each_pause_splits_the_stream() -> None:
    """With a per-token pause, each later delta starts a write: the first carries the
    stream's opening and first delta, the last the closing events."""
    latency = LatencyProfile(per_token_s=0.001)
    async with AnthropicEmulator(api_key=KEY, latency=latency) as emu:
        reader, writer = await _open(emu)
        chunks = await _chunks(reader)
        writer.close()
    deltas = sum(c.count("content_block_delta") for c in chunks)
    assert deltas >= 2 and len(chunks) == deltas
    assert chunks[0] == ["message_start", "content_block_start", "content_block_delta"]
    assert all(c[0] == "content_block_delta" for c in chunks[1:])
    assert chunks[-1][-1] == "message_stop"


async def test_the_events_before_a_stall_arrive_before_it() -> None:
    """A stall after two events: those two arrive (in one write) while the stream is stalled;
    the emulator's stop then ends the stalled handler."""
    plan = FaultPlan().add(Fault(stall_s=60.0, after_events=2))
    async with AnthropicEmulator(api_key=KEY, faults=plan) as emu:
        reader, writer = await _open(emu)
        first = await _chunk(reader)
        assert [ln for ln in first.decode().split("\n") if ln.startswith("event: ")] == [
            "event: message_start",
            "event: content_block_start",
        ]
        assert emu.open_streams == 1
        writer.close()

"""The event-stream decoder (pure): the same events for any split of the bytes, exception frames
as typed error events, and a typed MalformedResponse — never a hang — for corrupt or cut
frames. Frames are written by the emulator's encoder and checked against botocore's parser."""

from __future__ import annotations

import base64
import zlib
from typing import Any

import msgspec
import pytest
from clauderoute_bedrock import BedrockEmulator
from clauderoute_bedrock._eventstream import EventStreamDecoder
from clauderoute_bedrock._frames import encode_frame
from hypothesis import given
from hypothesis import strategies as st

from clauderoute._errors import MalformedResponse
from clauderoute.testing import default_reply, message_events, split_at
from clauderoute.types._stream import ErrorEvent, StreamEvent

EMU = BedrockEmulator()
PARAMS = {"max_tokens": 64,
          "messages": [{"role": "user", "content": "[[tool]] use a tool please"}],
          "tools": [{"name": "t", "input_schema": {"type": "object"}}],
          "thinking": {"type": "enabled", "budget_tokens": 1024}}
EVENTS = message_events(default_reply(PARAMS, "m", "msg_bdrk_1"))
STREAM = b"".join(EMU.frame(e) for e in EVENTS)


def _decode(chunks: list[bytes]) -> list[StreamEvent]:
    decoder = EventStreamDecoder("bedrock")
    out = [ev for c in chunks for ev in decoder.feed(c)]
    out += decoder.end()
    return out


WHOLE = _decode([STREAM])


def test_whole_stream_decodes_to_the_claude_events() -> None:
    """Every chunk frame unwraps to its Claude event; message_stop keeps the invocation
    metrics Bedrock attaches."""
    assert [e.type for e in WHOLE] == [e["type"] for e in EVENTS]
    assert WHOLE[-1].type == "message_stop"
    metrics = getattr(WHOLE[-1], "metrics", None)
    assert metrics is not None and set(metrics) == {
        "inputTokenCount", "outputTokenCount", "invocationLatency", "firstByteLatency"}


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    """Bytes cut anywhere (inside preludes, headers, payloads, CRCs) give the same events."""
    assert _decode(split_at(STREAM, cuts)) == WHOLE


@given(st.integers(min_value=1, max_value=len(STREAM) - 1),
       st.lists(st.integers(min_value=0), max_size=8))
def test_truncated_stream_raises_at_end(stop: int, cuts: list[int]) -> None:
    """A stream cut inside a frame raises MalformedResponse (at end(), or earlier)."""
    frames_end = {sum(len(EMU.frame(e)) for e in EVENTS[:i]) for i in range(len(EVENTS) + 1)}
    data = STREAM[:stop]
    decoder = EventStreamDecoder("bedrock")
    if stop in frames_end:
        for chunk in split_at(data, cuts):
            decoder.feed(chunk)
        assert decoder.end() == []
        return
    with pytest.raises(MalformedResponse):
        for chunk in split_at(data, cuts):
            decoder.feed(chunk)
        decoder.end()


@given(st.integers(min_value=0, max_value=len(STREAM) - 1), st.integers(1, 255),
       st.lists(st.integers(min_value=0), max_size=6))
def test_any_flipped_byte_is_a_typed_error(pos: int, xor: int, cuts: list[int]) -> None:
    """One corrupted byte anywhere is caught by a CRC (or a length check): MalformedResponse,
    after at most the whole input — the decoder never waits forever."""
    data = bytearray(STREAM)
    data[pos] ^= xor
    with pytest.raises(MalformedResponse):
        _decode(split_at(bytes(data), cuts))


@given(st.binary(max_size=200))
def test_garbage_never_hangs(data: bytes) -> None:
    """Arbitrary bytes either decode to nothing yet (then end() raises) or raise at once."""
    with pytest.raises(MalformedResponse):
        _decode([data] if data else [b"\x00"])


def test_crafted_lengths_with_a_valid_prelude_crc() -> None:
    """A prelude whose CRC is right but whose lengths are impossible is refused at once."""
    for total, headers in ((0, 0), (15, 0), (40, 30)):
        prelude = total.to_bytes(4, "big") + headers.to_bytes(4, "big")
        prelude += zlib.crc32(prelude).to_bytes(4, "big")
        with pytest.raises(MalformedResponse, match="impossible lengths"):
            EventStreamDecoder().feed(prelude + b"\x00" * 8)


def _raw_frame(raw_headers: bytes, payload: bytes) -> bytes:
    total = 16 + len(raw_headers) + len(payload)
    prelude = total.to_bytes(4, "big") + len(raw_headers).to_bytes(4, "big")
    prelude += zlib.crc32(prelude).to_bytes(4, "big")
    message = prelude + raw_headers + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


@pytest.mark.parametrize("raw_headers", [
    b"\x04name\x63\x00\x01x",  # header type 99 does not exist
    b"\x04name\x07\x00\x02\xff\xfe",  # a string header that is not UTF-8
    b"\x04name\x07\x00\x09ab",  # a value longer than the headers
])
def test_bad_insides_with_valid_crcs(raw_headers: bytes) -> None:
    """Frames with right CRCs but impossible headers raise MalformedResponse, not botocore's
    or struct's own exceptions."""
    with pytest.raises(MalformedResponse):
        _decode([_raw_frame(raw_headers, b"{}")])


def _exception(name: str, body: dict[str, Any]) -> bytes:
    return encode_frame({":exception-type": name, ":content-type": "application/json",
                         ":message-type": "exception"}, msgspec.json.encode(body))


@pytest.mark.parametrize("name", ["throttlingException", "modelStreamErrorException",
                                  "internalServerException", "serviceUnavailableException",
                                  "validationException", "modelTimeoutException"])
def test_exception_frames_become_error_events(name: str) -> None:
    """Each exception frame of the ResponseStream shape becomes an error event naming it."""
    (ev,) = _decode([_exception(name, {"message": "boom"})])
    assert isinstance(ev, ErrorEvent)
    assert (ev.error.type, ev.error.message) == (name, "boom")


def test_model_stream_error_carries_the_models_error() -> None:
    """modelStreamErrorException with the model's status and Claude error body surfaces the
    Claude type (overloaded_error) and status; a non-JSON original keeps the Bedrock name."""
    original = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    (ev,) = _decode([_exception("modelStreamErrorException", {
        "message": "m", "originalStatusCode": 529,
        "originalMessage": msgspec.json.encode(original).decode()})])
    assert isinstance(ev, ErrorEvent)
    assert (ev.error.type, ev.error.message, getattr(ev.error, "original_status", None)) == (
        "overloaded_error", "Overloaded", 529)
    (ev,) = _decode([_exception("modelStreamErrorException", {
        "message": "m", "originalStatusCode": 500, "originalMessage": "plain text"})])
    assert isinstance(ev, ErrorEvent) and ev.error.type == "modelStreamErrorException"


def test_unknown_event_types_are_skipped_bad_chunks_are_not() -> None:
    """An event frame of another type is skipped; a chunk that is not base64 JSON raises."""
    other = encode_frame({":event-type": "metadata", ":message-type": "event"}, b"{}")
    assert _decode([other]) == []
    bad = encode_frame({":event-type": "chunk", ":message-type": "event"},
                       b'{"bytes": "%%%not-base64"}')
    with pytest.raises(MalformedResponse, match="undecodable chunk"):
        _decode([bad])
    not_json = encode_frame({":event-type": "chunk", ":message-type": "event"},
                            msgspec.json.encode({"bytes": base64.b64encode(b"{x").decode()}))
    with pytest.raises(MalformedResponse):
        _decode([not_json])


def test_our_frames_parse_with_botocore() -> None:
    """The emulator's encoder writes what botocore's own parser reads (CRCs included)."""
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(STREAM)
    messages = list(buffer)
    assert len(messages) == len(EVENTS)
    assert messages[0].headers[":event-type"] == "chunk"

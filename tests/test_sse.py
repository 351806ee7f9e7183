"""The SSE decoder gives the same events for every way the byte stream can be cut."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clauderoute import MalformedResponse
from clauderoute._sse import SSEDecoder, SSEEventDecoder
from clauderoute.testing import default_reply, message_events, split_at
from tests.examples import examples

_enc = msgspec.json.Encoder()


def _wire(events: list[dict], newline: bytes = b"\n") -> bytes:
    out = b""
    for ev in events:
        out += b"event: " + ev["type"].encode() + newline
        out += b"data: " + _enc.encode(ev) + newline + newline
    return out


MSG = default_reply(
    {"messages": [{"role": "user", "content": "héllo wörld, ünïcode ✓ ok"}], "max_tokens": 50},
    "m",
    "msg_1",
)
EVENTS = message_events(MSG)
EVERY_BYTE = list(range(len(_wire(EVENTS, b"\r\n")) + 1))  # cuts before every byte, any ending


@settings(max_examples=examples(150))
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
    newline=st.sampled_from([b"\n", b"\r\n", b"\r"]),
)
# Always, whatever the count: the stream cut before every byte (so inside every line, every
# UTF-8 character and every CRLF pair), with each line ending.
@example(cuts=EVERY_BYTE, newline=b"\n")
@example(cuts=EVERY_BYTE, newline=b"\r\n")
@example(cuts=EVERY_BYTE, newline=b"\r")
def test_any_split_gives_the_same_events(cuts: list[int], newline: bytes) -> None:
    """Chunk boundaries anywhere (inside lines, UTF-8 characters, CRLF pairs) change nothing."""
    data = _wire(EVENTS, newline)
    dec = SSEEventDecoder()
    got = []
    for piece in split_at(data, cuts):
        got.extend(dec.feed(piece))
    dec.end()
    assert [e.type for e in got] == [e["type"] for e in EVENTS]
    text = "".join(e.delta.text for e in got if e.type == "content_block_delta")
    assert text == MSG["content"][0]["text"]


@given(
    payload=st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
            max_size=30,
        ),
        min_size=1,
        max_size=5,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=10),
)
def test_multiline_data_and_comments(payload: list[str], cuts: list[int]) -> None:
    """data: lines join with newlines; comments and unknown fields are ignored."""
    raw = b": keep-alive\nretry: 100\nevent: x\n"
    raw += b"".join(b"data: " + p.encode() + b"\n" for p in payload) + b"\n"
    dec = SSEDecoder()
    out = []
    for piece in split_at(raw, cuts):
        out.extend(dec.feed(piece))
    assert out == [("x", "\n".join(payload).encode())]


def test_one_space_after_colon_is_dropped() -> None:
    """Only a single leading space is stripped from a field value."""
    dec = SSEDecoder()
    assert dec.feed(b"data:  two\n\ndata:none\n\n") == [("message", b" two"), ("message", b"none")]


def test_truncated_event_is_malformed() -> None:
    """A stream that stops in the middle of an event raises MalformedResponse at the end."""
    dec = SSEEventDecoder()
    dec.feed(_wire(EVENTS)[:-30])
    with pytest.raises(MalformedResponse):
        dec.end()


def test_undecodable_data_is_malformed() -> None:
    """Bad JSON in a data line raises MalformedResponse, never a raw decode error."""
    dec = SSEEventDecoder("p")
    with pytest.raises(MalformedResponse, match=r"\[p\]"):
        dec.feed(b"event: content_block_delta\ndata: {nope\n\n")

"""Decoding answers keeps everything: unknown fields, block types, delta and event types."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from clauderoute._shaping import encode_body
from clauderoute.types import (
    ContentBlockDeltaEvent,
    TextBlock,
    UnknownBlock,
    UnknownDelta,
    UnknownEvent,
)
from clauderoute.types._messages import decode_message
from clauderoute.types._stream import decode_event

_enc = msgspec.json.Encoder()
KNOWN = {"text", "tool_use", "server_tool_use", "web_search_tool_result", "thinking",
         "redacted_thinking"}
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                           lambda c: st.lists(c, max_size=3)
                           | st.dictionaries(names, c, max_size=3), max_leaves=8)


@given(extra=st.dictionaries(names.filter(lambda n: n not in {
           "id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage",
           "container"}), json_values, max_size=4),
       kind=names.filter(lambda n: n not in KNOWN),
       block_extra=st.dictionaries(names.filter(lambda n: n != "type"), json_values,
                                   max_size=4))
def test_unknown_fields_and_blocks_round_trip(extra: dict[str, Any], kind: str,
                                              block_extra: dict[str, Any]) -> None:
    """Unknown top-level fields stay reachable and unknown blocks re-encode unchanged."""
    unknown = {"type": kind, **block_extra}
    body = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": "hi", "future": 1}, unknown],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 2, "new_counter": 3}, **extra}
    msg = decode_message(_enc.encode(body))
    assert isinstance(msg.content[0], TextBlock) and msg.content[0].text == "hi"
    assert isinstance(msg.content[1], UnknownBlock) and msg.content[1].data == unknown
    assert msg.extra == extra
    again = msgspec.json.decode(encode_body({"content": msg.content}))
    assert again["content"][1] == unknown


@given(kind=names.filter(lambda n: n not in {
           "message_start", "content_block_start", "content_block_delta", "content_block_stop",
           "message_delta", "message_stop", "ping", "error"}),
       data=st.dictionaries(names.filter(lambda n: n != "type"), json_values, max_size=4))
def test_unknown_events_are_kept(kind: str, data: dict[str, Any]) -> None:
    """An event type we do not know decodes to UnknownEvent holding all of it."""
    ev = decode_event(_enc.encode({"type": kind, **data}))
    assert isinstance(ev, UnknownEvent) and ev.data == {"type": kind, **data}


def test_unknown_delta_is_kept() -> None:
    """A new delta type inside content_block_delta arrives as UnknownDelta."""
    ev = decode_event(b'{"type":"content_block_delta","index":2,'
                      b'"delta":{"type":"hologram_delta","frames":[1]}}')
    assert isinstance(ev, ContentBlockDeltaEvent) and ev.index == 2
    assert isinstance(ev.delta, UnknownDelta) and ev.delta.data["frames"] == [1]


def test_usage_total_includes_cache() -> None:
    """total_input_tokens adds cache reads and writes (the GenAI semconv sum)."""
    msg = decode_message(b'{"id":"m","content":[],"usage":{"input_tokens":10,'
                         b'"output_tokens":1,"cache_read_input_tokens":5,'
                         b'"cache_creation_input_tokens":7}}')
    assert msg.usage.total_input_tokens == 22

"""``MessageAccumulator.add`` appends text deltas inline; this checks it against ``_delta``.

Random event sequences — in order or not (deltas before their block, a second message_start,
out-of-range indexes, every delta kind, unknown deltas) — go to the accumulator and to one whose
every delta takes the general ``_delta``; both must raise alike and end with the same message.
"""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clauderoute._accumulate import MessageAccumulator
from clauderoute.types._stream import ContentBlockDeltaEvent, StreamEvent, decode_event
from tests.examples import examples


class _General(MessageAccumulator):
    def add(self, event: StreamEvent) -> None:
        if isinstance(event, ContentBlockDeltaEvent):
            self._delta(event)
        else:
            super().add(event)


_enc = msgspec.json.Encoder()
_MSG = {
    "id": "m",
    "type": "message",
    "role": "assistant",
    "model": "x",
    "content": [],
    "stop_reason": None,
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}
_BLOCKS = [
    {"type": "text", "text": "a"},
    {"type": "thinking", "thinking": "t", "signature": ""},
    {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
    {"type": "mystery", "x": 1},
]
_DELTAS = [
    {"type": "text_delta", "text": "x"},
    {"type": "text_delta", "text": ""},
    {"type": "thinking_delta", "thinking": "th"},
    {"type": "input_json_delta", "partial_json": '{"a": '},
    {"type": "input_json_delta", "partial_json": "1}"},
    {"type": "signature_delta", "signature": "sig"},
    {"type": "citations_delta", "citation": {"type": "char_location", "cited_text": "c"}},
    {"type": "future_delta", "v": 2},
]
_index = st.integers(min_value=-1, max_value=3)
_event = st.one_of(
    st.just({"type": "message_start", "message": _MSG}),
    st.builds(
        lambda i, b: {"type": "content_block_start", "index": i, "content_block": b},
        st.integers(min_value=0, max_value=3),
        st.sampled_from(_BLOCKS),
    ),
    st.builds(
        lambda i, d: {"type": "content_block_delta", "index": i, "delta": d},
        _index,
        st.sampled_from(_DELTAS),
    ),
    st.builds(
        lambda i, d: {"type": "content_block_delta", "index": i, "delta": d},
        _index,
        st.sampled_from(_DELTAS[:1]),
    ),
    st.builds(lambda i: {"type": "content_block_stop", "index": i}, _index),
    st.just(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 5},
        }
    ),
    st.just({"type": "message_stop"}),
)


def _state(acc: MessageAccumulator) -> Any:
    msg = acc.message
    if msg is None:
        return None
    return repr(msg), {k: list(v) for k, v in acc._parts.items()}, acc.stopped


def _start(i: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": i, "content_block": block}


def _deltas(i: int) -> list[dict[str, Any]]:
    return [{"type": "content_block_delta", "index": i, "delta": d} for d in _DELTAS]


_STOP = {"type": "message_stop"}
_END = {
    "type": "message_delta",
    "delta": {"stop_reason": "end_turn"},
    "usage": {"output_tokens": 5},
}


@settings(max_examples=examples(200))
@given(events=st.lists(_event, max_size=25), in_order=st.booleans())
# Always, whatever the count: every delta kind into every block kind, deltas before any message
# and before their block, out-of-range indexes, a second message_start, and deltas after the stop.
@example(
    events=[
        *_deltas(0),
        {"type": "message_start", "message": _MSG},
        *_deltas(1),
        *(e for i, b in enumerate(_BLOCKS) for e in (_start(i, b), *_deltas(i))),
        *_deltas(-1),
        *_deltas(4),
        {"type": "content_block_stop", "index": 0},
        *_deltas(0),
        {"type": "message_start", "message": _MSG},
        *_deltas(2),
        _END,
        _STOP,
        *_deltas(3),
    ],
    in_order=False,
)
@example(
    events=[e for i, b in enumerate(_BLOCKS[1:], 1) for e in (_start(i, b), *_deltas(i))]
    + [_END, _STOP],
    in_order=True,
)
def test_inline_text_delta_matches_general_path(
    events: list[dict[str, Any]], in_order: bool
) -> None:
    if in_order:  # mostly a well-formed stream: start, block, then whatever was drawn
        events = [
            {"type": "message_start", "message": _MSG},
            {"type": "content_block_start", "index": 0, "content_block": _BLOCKS[0]},
            *events,
        ]
    fast, general = MessageAccumulator(), _General()
    for raw in events:
        data = _enc.encode(raw)
        outcomes = []
        for acc in (fast, general):
            try:
                acc.add(decode_event(data))  # a fresh event each: blocks are mutable
                outcomes.append(None)
            except Exception as exc:  # noqa: BLE001 - compared, not swallowed
                outcomes.append((type(exc), str(exc)))
        assert outcomes[0] == outcomes[1]
        assert _state(fast) == _state(general)
    snaps = []
    for acc in (fast, general):
        try:
            snaps.append(repr(acc.snapshot()))
        except Exception as exc:  # noqa: BLE001 - compared, not swallowed
            snaps.append(repr(exc))
    assert snaps[0] == snaps[1]

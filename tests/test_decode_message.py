"""decode_message's one-pass path (every block of a known type) against the block-by-block path
it falls back on: the same Message, blocks, extra fields and errors for any body, including
unknown, malformed, reordered and duplicated keys, and truncated JSON."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clauderoute.types import Message
from clauderoute.types._content import UnknownBlock, decode_blocks
from clauderoute.types._messages import _wire_message, decode_message
from tests.examples import examples

TAGS = [
    "text",
    "tool_use",
    "server_tool_use",
    "web_search_tool_result",
    "thinking",
    "redacted_thinking",
    "container_upload",
    "Text",
    "",
]
KEYS = [
    "type",
    "text",
    "citations",
    "id",
    "name",
    "input",
    "tool_use_id",
    "content",
    "thinking",
    "signature",
    "data",
    "cache_control",
    "zz",
]
RARE = st.sampled_from([False] * 9 + [True])  # about one draw in ten


def block_by_block(body: bytes) -> Message:
    """The general path alone (what decode_message did for every body before)."""
    w = _wire_message.decode(body)
    msg = Message(
        id=w.id,
        type=w.type,
        role=w.role,
        model=w.model,
        content=decode_blocks(w.content),
        stop_reason=w.stop_reason,
        stop_sequence=w.stop_sequence,
        usage=w.usage,
        container=w.container,
    )
    msg.__dict__["_raw"] = bytes(body)
    return msg


scalars = (
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(TAGS) | st.text(max_size=4)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=6,
)


def obj(pairs: list[tuple[str, Any]]) -> str:
    """A JSON object written pair by pair: keys may repeat and come in any order."""
    return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"


VALID = {
    "text": {
        "text": st.text(max_size=5),
        "citations": st.none()
        | st.lists(st.dictionaries(st.sampled_from(KEYS), scalars, max_size=2), max_size=2),
    },
    "tool_use": {"id": st.text(max_size=3), "name": st.text(max_size=3), "input": values},
    "server_tool_use": {"id": st.text(max_size=3), "name": st.text(max_size=3), "input": values},
    "web_search_tool_result": {"tool_use_id": st.text(max_size=3), "content": values},
    "thinking": {"thinking": st.text(max_size=3), "signature": st.text(max_size=3)},
    "redacted_thinking": {"data": st.text(max_size=3)},
}


# Strategies built once: a strategy made inside a draw is a new object each time, whose
# properties hypothesis works out anew (most of this test's cost, none of what it checks).
_KIND = st.sampled_from(["valid"] * 12 + ["pairs", "scalar"])
_TAG = st.sampled_from(sorted(VALID))
_KEEP = st.integers(0, 5)
_EXTRA_PAIRS = st.lists(st.tuples(st.sampled_from(["zz", "cache_control"]), values), max_size=2)
_ANY_PAIRS = st.lists(st.tuples(st.sampled_from(KEYS), values), max_size=5)
_ID = st.just("msg_1")
_USAGE = st.sampled_from(
    [
        {},
        {"input_tokens": 3, "output_tokens": 4},
        {"output_tokens": 1},
        {},
        {},
        {"input_tokens": "x"},
    ]
)
_ROLE = st.sampled_from(["assistant"] * 5 + [3])


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(_KIND)
    if kind == "scalar":
        return json.dumps(draw(scalars))
    if kind == "valid":
        tag = draw(_TAG)
        pairs = [(k, draw(v)) for k, v in VALID[tag].items() if draw(_KEEP)]
        pairs.insert(draw(st.integers(0, len(pairs))), ("type", tag))
        pairs += draw(_EXTRA_PAIRS)
        return obj(pairs)
    return obj(draw(_ANY_PAIRS))


_BLOCKS = st.lists(block(), max_size=4)


@st.composite
def body(draw: st.DrawFn) -> bytes:
    pairs: list[tuple[str, str]] = [
        ("id", json.dumps(draw(values if draw(RARE) else _ID))),
        ("content", "[" + ",".join(draw(_BLOCKS)) + "]"),
        ("usage", json.dumps(draw(_USAGE))),
    ]
    optional = [
        ("model", json.dumps("claude-x")),
        ("stop_reason", json.dumps("end_turn")),
        ("role", json.dumps(draw(_ROLE))),
        ("extra_field", json.dumps(draw(values))),
        ("type", json.dumps("message")),
    ]
    pairs += [p for p in optional if draw(st.booleans())]
    pairs = draw(st.permutations(pairs))
    if draw(RARE):
        pairs = pairs[1:]  # no id
    text = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in pairs) + "}"
    if draw(RARE):
        text = text[: draw(st.integers(0, len(text)))]  # truncated
    return text.encode()


def outcome(fn: Any, data: bytes) -> Any:
    try:
        msg = fn(data)
    except msgspec.DecodeError as exc:
        return ("error", type(exc), str(exc))
    blocks = [
        (type(b), b.data if isinstance(b, UnknownBlock) else msgspec.structs.asdict(b))
        for b in msg.content
    ]
    fields = {f: getattr(msg, f) for f in msg.__struct_fields__ if f != "content"}
    return ("ok", fields, blocks, msg.extra, msg.text, type(msg))


@settings(max_examples=examples(200), deadline=None)
@given(body())
# Always, whatever the count: an unknown block type, reordered and duplicated keys (in the body
# and in blocks), blocks lacking fields or with no type or a wrong one, blocks that are not
# objects, an extra field, and JSON cut inside a block.
@example(
    b'{"id":"m","content":[{"type":"container_upload","file_id":"f"},{"type":"text",'
    b'"text":"a"}],"usage":{}}'
)
@example(
    b'{"content":[{"text":"a","type":"text","text":"b","zz":1},{"input":{},"name":"n",'
    b'"id":"i","type":"tool_use","id":"j"}],"usage":{"input_tokens":3,'
    b'"output_tokens":4},"id":"m","id":"n","role":"assistant","type":"message"}'
)
@example(b'{"id":"m","content":[{"type":""},{"type":"Text"},{"zz":1},{"type":"text"}],"usage":{}}')
@example(b'{"id":"m","content":[{"type":"text","text":"a"},[],null,1],"usage":{}}')
@example(b'{"content":[],"usage":{},"id":"m","extra_field":{"zz":[1,2]},"stop_reason":"end_turn"}')
@example(b'{"id":"m","content":[{"type":"text","text":"a"},{"type":"thin')
def test_one_pass_matches_block_by_block(data: bytes) -> None:
    assert outcome(decode_message, data) == outcome(block_by_block, data)


def test_unknown_block_falls_back_and_is_kept() -> None:
    data = (
        b'{"id":"m","content":[{"type":"text","text":"a"},'
        b'{"type":"container_upload","file_id":"f"}],"usage":{}}'
    )
    msg = decode_message(data)
    assert [b.type for b in msg.content] == ["text", "container_upload"]
    assert msg.content[1] == UnknownBlock(
        type="container_upload", data={"type": "container_upload", "file_id": "f"}
    )

"""``add_message_extra``, the provider API's way to put what a platform said about an answer
outside its body into ``Message.extra``: mappings merged in order, a function called once, on
the first read, and the answer's own unknown fields kept first."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from clauderoute_anthropic import AnthropicProvider

from clauderoute.provider import Message, add_message_extra

WIRE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-haiku-4-5",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
    "x_new_field": {"kept": True},
}


def _message() -> Message:
    return AnthropicProvider(api_key="k").decode_message(msgspec.json.encode(WIRE))


def test_a_mapping_is_added_beside_the_unknown_fields() -> None:
    msg = _message()
    add_message_extra(msg, {"metrics": {"latency": 12}})
    assert msg.extra == {"x_new_field": {"kept": True}, "metrics": {"latency": 12}}


def test_the_mapping_given_is_copied_not_kept() -> None:
    msg = _message()
    given: dict[str, Any] = {"a": 1}
    add_message_extra(msg, given)
    given["a"] = 2
    add_message_extra(msg, {"b": 3})
    assert given == {"a": 2}
    assert msg.extra["a"] == 1 and msg.extra["b"] == 3


def test_a_function_is_called_on_the_first_read_only() -> None:
    msg = _message()
    calls: list[int] = []

    def make() -> dict[str, Any]:
        calls.append(1)
        return {"metrics": {"n": len(calls)}}

    add_message_extra(msg, make)
    assert calls == []  # nothing made until somebody reads it
    first = msg.extra
    assert first["metrics"] == {"n": 1}
    assert msg.extra["metrics"] is first["metrics"]  # made once, then kept
    assert calls == [1]


@pytest.mark.parametrize("lazy_first", [True, False])
@pytest.mark.parametrize("lazy_then", [True, False])
def test_later_additions_win_whatever_their_kind(lazy_first: bool, lazy_then: bool) -> None:
    msg = _message()
    first = {"k": "first", "only_first": 1}
    then = {"k": "then", "only_then": 2}
    add_message_extra(msg, (lambda: first) if lazy_first else first)
    add_message_extra(msg, (lambda: then) if lazy_then else then)
    assert msg.extra == {"x_new_field": {"kept": True}, "k": "then", "only_first": 1,
                         "only_then": 2}  # fmt: skip


def test_a_platform_fact_may_replace_an_unknown_field_of_the_same_name() -> None:
    msg = _message()
    add_message_extra(msg, lambda: {"x_new_field": "from headers"})
    assert msg.extra == {"x_new_field": "from headers"}


def test_without_additions_extra_is_the_unknown_fields_alone() -> None:
    assert _message().extra == {"x_new_field": {"kept": True}}

"""Invalid requests fail before the network with an error that names the field."""

from __future__ import annotations

from typing import Any

import pytest

from clauderoute import InvalidRequest
from clauderoute._validate import validate_count_tokens, validate_create

OK: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(("change", "field"), [
    ({"max_tokens": "10"}, "max_tokens"),
    ({"max_tokens": -1}, "max_tokens"),
    ({"model": ""}, "model"),
    ({"temperature": 1.5}, "temperature"),
    ({"top_k": -1}, "top_k"),
    ({"stop_sequences": "END"}, "stop_sequences"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": [{"type": "text"}]}]},
     "messages[0].content[0].text"),
    ({"messages": [{"role": "user", "content": [{"text": "no type"}]}]},
     "messages[0].content[0].type"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "data": 1}]}]},
     "messages[0].content[0].source"),
    ({"messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": 3}]}]}]},
     "messages[0].content[0].content[0].text"),
    ({"system": [{"type": "text", "text": 5}]}, "system[0].text"),
    ({"tools": [{"description": "no name"}]}, "tools[0].name"),
    ({"stream": "yes"}, "stream"),
])
def test_invalid_field_is_named(change: dict[str, Any], field: str) -> None:
    """Each wrong field is reported by its dotted path."""
    with pytest.raises(InvalidRequest) as info:
        validate_create({**OK, **change})
    assert info.value.field == field
    assert field in str(info.value)


def test_missing_max_tokens_named() -> None:
    """A missing required field is named too."""
    params = dict(OK)
    del params["max_tokens"]
    with pytest.raises(InvalidRequest) as info:
        validate_create(params)
    assert info.value.field == "max_tokens"


def test_unknown_fields_and_blocks_pass() -> None:
    """Fields and block types we do not know are not rejected (the API grows monthly)."""
    validate_create({**OK, "brand_new_option": {"x": 1}, "messages": [
        {"role": "user", "content": [{"type": "hologram", "frames": 3},
                                     {"type": "text", "text": "hi", "cache_control": {
                                         "type": "ephemeral"}}]}]})


def test_count_tokens_does_not_need_max_tokens() -> None:
    """count_tokens takes no max_tokens but still checks messages."""
    validate_count_tokens({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    with pytest.raises(InvalidRequest) as info:
        validate_count_tokens({"model": "m", "messages": "x"})
    assert info.value.field == "messages"

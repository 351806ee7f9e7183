"""Validation of request params before anything is sent.

Params stay the plain dict the caller wrote (so unknown fields pass through untouched, as the
API grows monthly); validation only *checks* the fields we know, with msgspec structs built once.
A failure raises ``InvalidRequest`` whose ``field`` is the dotted path of the culprit.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from ._errors import InvalidRequest

__all__ = ["check_seconds", "validate_count_tokens", "validate_create"]

_Pos = Annotated[int, msgspec.Meta(ge=1)]
_Unit = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]


class _Message(msgspec.Struct):
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class _Common(msgspec.Struct, kw_only=True):
    model: Annotated[str, msgspec.Meta(min_length=1)]
    messages: list[_Message]
    system: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None


class _Create(_Common, kw_only=True):
    max_tokens: _Pos
    temperature: _Unit | None = None
    top_p: _Unit | None = None
    top_k: Annotated[int, msgspec.Meta(ge=0)] | None = None
    stop_sequences: list[str] | None = None
    metadata: dict[str, Any] | None = None
    service_tier: str | None = None
    stream: bool | None = None


# Content blocks a request may hold, by type; unknown types pass through unchecked.
class _Text(msgspec.Struct):
    text: str


class _Source(msgspec.Struct):
    source: dict[str, Any]


class _ToolUse(msgspec.Struct):
    id: str
    name: str
    input: Any


class _ToolResult(msgspec.Struct):
    tool_use_id: str
    content: str | list[dict[str, Any]] | None = None
    is_error: bool | None = None


class _Thinking(msgspec.Struct):
    thinking: str
    signature: str


class _Redacted(msgspec.Struct):
    data: str


class _SearchResult(msgspec.Struct):
    source: str
    title: str
    content: list[dict[str, Any]]


_BLOCKS: dict[str, type[msgspec.Struct]] = {
    "text": _Text,
    "image": _Source,
    "document": _Source,
    "tool_use": _ToolUse,
    "server_tool_use": _ToolUse,
    "tool_result": _ToolResult,
    "thinking": _Thinking,
    "redacted_thinking": _Redacted,
    "search_result": _SearchResult,
}

_AT = re.compile(r" - at `\$(.*)`$")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def _path(prefix: str, exc: msgspec.ValidationError) -> tuple[str, str]:
    """Turn msgspec's ``... - at `$.a[0].b``` into (``prefix.a[0].b``, message)."""
    text = str(exc)
    where = ""
    m = _AT.search(text)
    if m:
        where, text = m.group(1), text[: m.start()]
    miss = _MISSING.match(text)
    if miss:
        where += "." + miss.group(1)
    field = (prefix + where).lstrip(".") or prefix
    return field, text


def _check(obj: Any, typ: type, prefix: str) -> Any:
    try:
        return msgspec.convert(obj, typ)
    except msgspec.ValidationError as exc:
        field, text = _path(prefix, exc)
        raise InvalidRequest(text, field=field) from None


def _check_blocks(blocks: list[dict[str, Any]], prefix: str) -> None:
    for i, block in enumerate(blocks):
        where = f"{prefix}[{i}]"
        kind = block.get("type")
        if not isinstance(kind, str):
            raise InvalidRequest("content block needs a string `type`", field=where + ".type")
        typ = _BLOCKS.get(kind)
        if typ is not None:
            _check(block, typ, where)
        if kind == "tool_result" and isinstance(block.get("content"), list):
            _check_blocks(block["content"], where + ".content")


def _check_messages(params: dict[str, Any], checked: _Common) -> None:
    if not checked.messages:
        raise InvalidRequest("at least one message is required", field="messages")
    for i, m in enumerate(checked.messages):
        if isinstance(m.content, list):
            _check_blocks(m.content, f"messages[{i}].content")
    if isinstance(checked.system, list):
        _check_blocks(checked.system, "system")
    for i, tool in enumerate(checked.tools or ()):
        if "name" not in tool:
            raise InvalidRequest("tool needs a `name`", field=f"tools[{i}].name")
    if params.get("stream") is not None and not isinstance(params["stream"], bool):
        raise InvalidRequest("must be a boolean", field="stream")


def _as_dict(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise InvalidRequest(f"params must be a mapping, not {type(params).__name__}")
    return params


def validate_create(params: dict[str, Any]) -> None:
    """Check the known fields of a ``messages.create``/``stream`` request.

    Raises:
        InvalidRequest: naming the first wrong field.
    """
    checked = _check(_as_dict(params), _Create, "")
    _check_messages(params, checked)


def validate_count_tokens(params: dict[str, Any]) -> None:
    """Check the known fields of a ``count_tokens`` request.

    Raises:
        InvalidRequest: naming the first wrong field.
    """
    checked = _check(_as_dict(params), _Common, "")
    _check_messages(params, checked)


def check_seconds(value: Any, field: str) -> None:
    """A time limit is ``None`` (no limit) or a positive number of seconds: zero, negative,
    NaN or a non-number raises ``InvalidRequest`` naming ``field``, before any network call."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                              or not value > 0):
        raise InvalidRequest(f"must be a positive number of seconds or None, not {value!r}",
                             field=field)

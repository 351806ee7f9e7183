"""Validation of request params before anything is sent.

Params stay the plain dict the caller wrote (so unknown fields pass through untouched, as the
API grows monthly); validation only *checks* the fields we know, with msgspec structs built once.
A failure raises ``InvalidRequest`` whose ``field`` is the dotted path of the culprit.

``validate_create``/``validate_count_tokens`` check what every API version requires (the
2023-06-01 rules). ``check_route`` then checks the call against the providers that may serve it
(``_route_rules``): the stricter rules of API version 2026-10-21 where a provider sends it, and
the model's retirement on each provider's platform.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal

import msgspec

from ._errors import InvalidRequest
from .types._content import UnknownBlock

__all__ = ["STRICT_VERSION", "check_seconds", "strict_version", "validate_count_tokens",
           "validate_create", "validate_strict"]

# max_tokens may be 0: "Set to 0 to populate the prompt cache without generating a response"
# (the official SDK's MessageCreateParams, 1.13 and 2.17 alike).
_Tokens = Annotated[int, msgspec.Meta(ge=0)]
_Unit = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
_UNSET = msgspec.UNSET


class _Message(msgspec.Struct):
    # "system": a mid-conversation system message (beta mid-conversation-system-2026-04-07,
    # which Claude Code sends); the platform judges whether it takes the beta.
    role: Literal["user", "assistant", "system"]
    content: str | list[Any]  # dicts, or an answer's blocks passed back (see _as_dicts)
    source: Any = msgspec.UNSET  # (not a message field: seen so that ``plain`` can tell)


class _Common(msgspec.Struct, kw_only=True):
    model: Annotated[str, msgspec.Meta(min_length=1)]
    messages: list[_Message]
    system: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None


class _Create(_Common, kw_only=True):
    max_tokens: _Tokens
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


def _as_dicts(blocks: list[Any], prefix: str) -> list[dict[str, Any]] | None:
    """An answer's content blocks (``{"role": "assistant", "content": message.content}``, as
    SDK code writes a tool loop) as the dicts they were on the wire; ``None`` if all are
    dicts already."""
    if all(type(b) is dict for b in blocks):
        return None
    out = []
    for i, block in enumerate(blocks):
        if isinstance(block, dict):
            out.append(block)
        elif isinstance(block, UnknownBlock):
            out.append(block.data)
        elif isinstance(block, msgspec.Struct):
            wire = msgspec.to_builtins(block)  # omits defaults the wire needs (input: {})
            for f in block.__struct_fields__:
                if f not in wire and (value := getattr(block, f)) is not None:
                    wire[f] = msgspec.to_builtins(value)
            out.append(wire)
        else:
            raise InvalidRequest(f"a content block must be an object, not "
                                 f"{type(block).__name__}", field=f"{prefix}[{i}]")
    return out


def _check_messages(params: dict[str, Any], checked: _Common) -> bool:
    """Whether every message is plain: its content a string, no ``source`` beside it."""
    if not checked.messages:
        raise InvalidRequest("at least one message is required", field="messages")
    text_only = True
    for i, m in enumerate(checked.messages):
        if m.source is not _UNSET:
            text_only = False
        if isinstance(m.content, list):
            text_only = False
            where = f"messages[{i}].content"
            plain = _as_dicts(m.content, where)
            if plain is not None:  # sent as dicts; the caller's own list is left alone
                messages = params["messages"] = list(params["messages"])
                messages[i] = {**messages[i], "content": plain}
            _check_blocks(plain or m.content, where)
    if isinstance(checked.system, list):
        _check_blocks(checked.system, "system")
    if checked.tools:
        for i, tool in enumerate(checked.tools):
            if "name" not in tool:
                raise InvalidRequest("tool needs a `name`", field=f"tools[{i}].name")
    if params.get("stream") is not None and not isinstance(params["stream"], bool):
        raise InvalidRequest("must be a boolean", field="stream")
    return text_only


def _as_dict(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise InvalidRequest(f"params must be a mapping, not {type(params).__name__}")
    return params


def validate_create(params: dict[str, Any]) -> bool:
    """Check the known fields of a ``messages.create``/``stream`` request; ``True`` when every
    message is plain text (``needs_of(params, plain=True)`` then has no messages to read).

    Raises:
        InvalidRequest: naming the first wrong field.
    """
    if not isinstance(params, dict):
        _as_dict(params)  # raises
    try:  # (``_check``, inlined: this runs on every create)
        checked = msgspec.convert(params, _Create)
    except msgspec.ValidationError as exc:
        field, text = _path("", exc)
        raise InvalidRequest(text, field=field) from None
    return _check_messages(params, checked)


def validate_count_tokens(params: dict[str, Any]) -> None:
    """Check the known fields of a ``count_tokens`` request.

    Raises:
        InvalidRequest: naming the first wrong field.
    """
    checked = _check(_as_dict(params), _Common, "")
    _check_messages(params, checked)


# --- API version 2026-10-21 -----------------------------------------------------------------
# platform.claude.com/docs/en/api/versioning and .../api/migration-2026-10-21: for Messages,
# token counting and batch requests sent with 2026-10-21, (1) temperature, top_p and top_k are
# removed (400 if sent, at any value), (2) a document block placed directly in an assistant
# message is a 400, (3) a text block with a non-empty ``citations`` array in a user message,
# directly or inside a search_result block, is a 400. The SDK's MessageCreateParams has no
# sampling parameters (from 1.13 on, so it cannot tell the versions apart); the rules come from
# the docs.

#: The first API version with the stricter rules.
STRICT_VERSION = "2026-10-21"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SAMPLING = ("temperature", "top_p", "top_k")


@functools.cache
def strict_version(version: str) -> bool:
    """Whether a version string (a header date, or a body version such as Bedrock's
    ``bedrock-2023-05-31``) carries a date at or after 2026-10-21."""
    m = _DATE.search(version)
    return m is not None and m.group() >= STRICT_VERSION


def _cited(block: Any) -> bool:
    return type(block) is dict and block.get("type") == "text" and bool(block.get("citations"))


def _strict_blocks(role: Any, blocks: list[Any], where: str, why: str) -> None:
    for j, block in enumerate(blocks):
        if type(block) is not dict:
            continue
        kind = block.get("type")
        if role == "assistant" and kind == "document":
            raise InvalidRequest("a document block cannot be placed directly in an assistant "
                                 f"message {why}; send it in a user message",
                                 field=f"{where}[{j}]")
        if role != "user":
            continue
        if _cited(block):
            raise InvalidRequest(f"text blocks in user messages cannot carry citations {why}",
                                 field=f"{where}[{j}].citations")
        inner = block.get("content") if kind == "search_result" else None
        for k, sub in enumerate(inner if isinstance(inner, list) else ()):
            if _cited(sub):
                raise InvalidRequest("text blocks in user messages cannot carry citations "
                                     f"{why}", field=f"{where}[{j}].content[{k}].citations")


def validate_strict(params: dict[str, Any], why: str) -> None:
    """Check the 2026-10-21 rules; ``why`` ends each message (which version, which provider).

    Raises:
        InvalidRequest: naming the first field that version refuses.
    """
    for key in _SAMPLING:
        if key in params:
            raise InvalidRequest(f"{key} was removed in API version {STRICT_VERSION} {why}; "
                                 "leave it out (or route to a provider on 2023-06-01)",
                                 field=key)
    for i, m in enumerate(params.get("messages") or ()):
        content = m.get("content") if type(m) is dict else None
        if isinstance(content, list):
            _strict_blocks(m.get("role"), content, f"messages[{i}].content", why)


def check_seconds(value: Any, field: str) -> None:
    """A time limit is ``None`` (no limit) or a positive number of seconds: zero, negative,
    NaN or a non-number raises ``InvalidRequest`` naming ``field``, before any network call."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(
            f"must be a number of seconds or None, not {type(value).__name__} (for separate "
            "connect and read limits, give the client connect_timeout= and timeout=)",
            field=field)
    if not value > 0:
        raise InvalidRequest(f"must be a positive number of seconds or None, not {value!r}",
                             field=field)

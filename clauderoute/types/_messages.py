"""The answer side of the Messages API: ``Message``, ``Usage``, token counts, route info."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import msgspec

from ._content import (
    ContentBlock,
    RedactedThinkingBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    UnknownBlock,
    WebSearchToolResultBlock,
    decode_blocks,
)

__all__ = [
    "AttemptInfo",
    "Dumpable",
    "Message",
    "MessageTokensCount",
    "RouteInfo",
    "Usage",
    "add_message_extra",
    "decode_message",
]


_as_dict = msgspec.json.Decoder(dict[str, Any])
_T = TypeVar("_T")


class Dumpable:
    """``model_dump()``, ``to_dict()`` and ``to_json()`` as the official SDK's models have them:
    the object as the wire JSON (the keys the platform sent, unknown ones included when the raw
    answer was kept; clauderoute's own attributes such as ``route`` never appear)."""

    __slots__ = ()

    def model_dump(self, *, mode: Literal["python", "json"] = "python",
                   exclude_none: bool = False) -> dict[str, Any]:
        """The object as a dict of JSON values (``mode`` is accepted for the SDK's sake: both
        modes give JSON values here)."""
        sent = msgspec.to_builtins(self, enc_hook=_unknown_block)
        wire = self._wire_keys()
        out: dict[str, Any] = {}
        for f in self.__struct_fields__:  # type: ignore[attr-defined]
            if f in sent or f in wire:
                v = getattr(self, f)
                out[f] = (v.model_dump() if isinstance(v, Dumpable) else sent[f] if f in sent
                          else msgspec.to_builtins(v, enc_hook=_unknown_block))
        raw = getattr(self, "__dict__", {}).get("_raw")
        if raw is not None:  # what the platform sent and this version does not model
            out = _merge(_as_dict.decode(raw), out)
        if exclude_none:
            out = {k: v for k, v in out.items() if v is not None}
        return out

    def to_dict(self, *, mode: Literal["python", "json"] = "python",
                exclude_none: bool = False) -> dict[str, Any]:
        """The same as ``model_dump()`` (the SDK's spelling)."""
        return self.model_dump(mode=mode, exclude_none=exclude_none)

    def to_json(self, *, indent: int | None = 2, exclude_none: bool = False) -> str:
        """The object as JSON text, indented by ``indent`` spaces (compact with ``None``)."""
        data = msgspec.json.encode(self.model_dump(exclude_none=exclude_none))
        return (msgspec.json.format(data, indent=indent) if indent is not None else data).decode()

    def model_dump_json(self, *, indent: int | None = None, exclude_none: bool = False) -> str:
        """The object as compact JSON text (pydantic's spelling, compact by default)."""
        return self.to_json(indent=indent, exclude_none=exclude_none)

    def _wire_keys(self) -> tuple[str, ...]:
        # Fields the platform always sends, even at their default (which the struct omits).
        return ()


def _unknown_block(obj: Any) -> Any:
    if isinstance(obj, UnknownBlock):
        return obj.data
    raise NotImplementedError(f"cannot dump {type(obj).__name__}")


def _merge(raw: Any, now: Any) -> Any:
    """``now`` (the object as it is), keeping what ``raw`` (the object as it arrived) has and
    ``now`` does not model: unknown keys, nulls the struct omits. A list that changed length
    (a streamed message's content) is taken from ``now``."""
    if isinstance(raw, dict) and isinstance(now, dict):
        out = {k: _merge(v, now[k]) if k in now else v for k, v in raw.items()}
        out.update((k, v) for k, v in now.items() if k not in raw)
        return out
    if isinstance(raw, list) and isinstance(now, list) and len(raw) == len(now):
        return [_merge(r, n) for r, n in zip(raw, now, strict=True)]
    return now


class NotEncoded(Generic[_T]):
    """A declared attribute of a Struct that is not one of its fields: never encoded, dumped or
    compared, ``None`` until set (the Struct must have ``dict=True``).

    A non-data descriptor (no ``__set__`` at run time): once set, the value lives in the
    instance's ``__dict__`` and is read and written there without a Python call."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> NotEncoded[_T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> _T | None: ...
    def __get__(self, obj: object | None, owner: type) -> NotEncoded[_T] | _T | None:
        return self if obj is None else None  # (reached only while the instance has none)

    if TYPE_CHECKING:  # what the type checkers see of the assignment

        def __set__(self, obj: object, value: _T | None) -> None: ...


class Usage(Dumpable, msgspec.Struct, kw_only=True, omit_defaults=True):
    """Token usage as the platform billed it.

    ``input_tokens`` excludes cached tokens, as on the wire; ``total_input_tokens`` adds them.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    #: Cache writes split by lifetime (``ephemeral_5m_input_tokens``,
    #: ``ephemeral_1h_input_tokens``), as the Claude API sends them.
    cache_creation: dict[str, Any] | None = None
    server_tool_use: dict[str, Any] | None = None
    service_tier: str | None = None

    def _wire_keys(self) -> tuple[str, ...]:
        return ("input_tokens", "output_tokens")

    @property
    def total_input_tokens(self) -> int:
        """Input tokens including cache reads and writes (the GenAI semconv sum)."""
        return (
            self.input_tokens
            + (self.cache_creation_input_tokens or 0)
            + (self.cache_read_input_tokens or 0)
        )


class AttemptInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt of a routed call, as seen by the caller (also the hooks' frozen data).

    Attributes:
        number: 1-based attempt number.
        provider: configured provider name (the deployment label).
        platform: platform id of that provider (``anthropic``, ``bedrock``…).
        model: model id as sent to the platform.
        kind: ``initial``, ``retry``, ``failover`` or ``hedge``.
        reason: why this attempt happened (the previous attempt's error category).
        duration_s: wall time of the attempt.
        error: error class name, or ``None`` when it succeeded.
        error_type: the platform's own error code, when it gave one.
        status: HTTP status, when a response arrived.
        backoff_s: sleep before this attempt.
        ttft_s: time to first content event (streams).
        cost_usd: what the answer cost (the attempt that succeeded, when its model is priced).

    .. versionchanged:: 0.2 ``cost_usd``.
    """

    number: int
    provider: str
    platform: str
    model: str
    kind: str = "initial"
    reason: str | None = None
    duration_s: float = 0.0
    error: str | None = None
    error_type: str | None = None
    status: int | None = None
    backoff_s: float = 0.0
    ttft_s: float | None = None
    cost_usd: float | None = None


class RouteInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Who served a call, every attempt it took, and the providers skipped with the reason
    (``"name (platform): reason"``: a missing capability, ``circuit_open``, ``rate_limited: …``
    or ``budget: …``), and what the answer cost in USD (``None``: the model has no price).

    .. versionchanged:: 0.2 ``cost_usd``; capacity and budget skips."""

    provider: str
    platform: str
    attempts: tuple[AttemptInfo, ...] = ()
    skipped: tuple[str, ...] = ()
    cost_usd: float | None = None
    #: Model fallbacks taken, each with the request changes it needed (``_fallback.py``).
    fallbacks: tuple[str, ...] = ()


class Message(Dumpable, msgspec.Struct, kw_only=True, omit_defaults=True, dict=True):
    """A complete answer from Claude.

    Unknown top-level fields are not lost: the exact JSON the platform sent is kept, ``extra``
    returns the fields this version does not model and ``model_dump()``/``to_json()`` give the
    answer as the platform sent it. ``route`` says which provider served the call and how; it
    is not part of the wire format: never encoded, dumped, or compared.
    """

    id: str
    type: str = "message"
    role: str = "assistant"
    model: str = ""
    content: list[ContentBlock] = msgspec.field(default_factory=list)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    container: dict[str, Any] | None = None

    #: Which provider served this message, with every attempt (``None`` if not routed).
    route = NotEncoded["RouteInfo"]()

    def _wire_keys(self) -> tuple[str, ...]:
        return ("id", "type", "role", "model", "content", "stop_reason", "stop_sequence",
                "usage")

    @property
    def extra(self) -> dict[str, Any]:
        """Top-level fields the platform sent that this version does not model, and what it
        sent about the answer outside its body (e.g. Bedrock's
        ``amazon-bedrock-invocationMetrics``, from headers or the stream's last event)."""
        raw = self.__dict__.get("_raw")
        out: dict[str, Any] = {}
        if raw is not None:
            full = _as_dict.decode(raw)
            out = {k: v for k, v in full.items() if k not in self.__struct_fields__}
        kept = self.__dict__.get("_extra")
        if callable(kept):  # facts added as a function (``add_message_extra``): made once
            kept = self.__dict__["_extra"] = kept()
        if kept:
            out.update(kept)
        return out

    @property
    def text(self) -> str:
        """All text blocks joined (a convenience; the SDK users write ``content[0].text``)."""
        return "".join(getattr(b, "text", "") for b in self.content if b.type == "text")


class _WireMessage(msgspec.Struct, kw_only=True):
    id: str
    type: str = "message"
    role: str = "assistant"
    model: str = ""
    content: list[msgspec.Raw] = msgspec.field(default_factory=list)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    container: dict[str, Any] | None = None


class _KnownMessage(msgspec.Struct, kw_only=True):
    # The same message when every block is of a known type: one pass, blocks decoded in place
    # through the tagged union (a block-by-block peek and decode otherwise).
    id: str
    type: str = "message"
    role: str = "assistant"
    model: str = ""
    content: list[TextBlock | ToolUseBlock | ServerToolUseBlock | WebSearchToolResultBlock
                  | ThinkingBlock | RedactedThinkingBlock] = msgspec.field(default_factory=list)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    container: dict[str, Any] | None = None


class MessageTokensCount(Dumpable, msgspec.Struct, kw_only=True):
    """The answer of ``count_tokens``."""

    input_tokens: int


_wire_message = msgspec.json.Decoder(_WireMessage)
_known_message = msgspec.json.Decoder(_KnownMessage)


def decode_message(body: bytes | msgspec.Raw) -> Message:
    """Decode a Message JSON object, keeping unknown blocks and the raw bytes."""
    w: _KnownMessage | _WireMessage
    try:
        w = _known_message.decode(body)
        content: list[Any] = w.content
    except msgspec.DecodeError:  # a block of an unknown type, or an error: the general path
        w = _wire_message.decode(body)  # (which raises the error, if any, as it always did)
        content = decode_blocks(w.content)
    msg = Message(
        id=w.id,
        type=w.type,
        role=w.role,
        model=w.model,
        content=content,
        stop_reason=w.stop_reason,
        stop_sequence=w.stop_sequence,
        usage=w.usage,
        container=w.container,
    )
    vars(msg)["_raw"] = body if type(body) is bytes else bytes(body)  # (bytes(): a lookup more)
    return msg


def add_message_extra(
    message: Message, extra: Mapping[str, Any] | Callable[[], Mapping[str, Any]]
) -> None:
    """Add what a platform said about ``message`` outside its body (headers, a stream's last
    event) to what ``message.extra`` returns.

    ``extra`` is a mapping, or a function returning one, called on the first read of ``extra``
    and kept (for facts that cost something to make and few callers read). Keys added later win
    over earlier ones; the answer's own unknown fields come first.

    .. versionadded:: 0.3
    """
    kept = message.__dict__.get("_extra")
    if kept is None:
        message.__dict__["_extra"] = extra if callable(extra) else dict(extra)
    elif not callable(kept) and not callable(extra):
        kept.update(extra)
    else:
        message.__dict__["_extra"] = functools.partial(_both, kept, extra)


def _both(first: Any, then: Any) -> dict[str, Any]:
    out = dict(first() if callable(first) else first)
    out.update(then() if callable(then) else then)
    return out


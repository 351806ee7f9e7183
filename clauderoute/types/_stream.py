"""Stream events of the Messages API, decoded from one event's JSON.

Every platform ends up here: the Claude API, Vertex and Foundry send these objects as SSE
``data:`` lines, Bedrock wraps each one base64-encoded in an AWS event-stream frame. Unknown event
types become ``UnknownEvent`` and unknown delta types ``UnknownDelta``: kept, never rejected.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from ._content import ContentBlock, UnknownBlock, decode_block
from ._messages import Message, Usage, decode_message

__all__ = [
    "CitationsDelta",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "ErrorEvent",
    "InputJSONDelta",
    "MessageDelta",
    "MessageDeltaEvent",
    "MessageStartEvent",
    "MessageStopEvent",
    "PingEvent",
    "SignatureDelta",
    "StreamEvent",
    "TextDelta",
    "ThinkingDelta",
    "UnknownDelta",
    "UnknownEvent",
    "decode_event",
]


# The structs of the per-token events (deltas of strings, block stops, pings) are not tracked by
# the cyclic garbage collector (``gc=False``): they hold strings, ints or a delta, so they join
# no cycle (unless code stores an event inside its own ``UnknownDelta.data``), and a long stream
# allocates two per token, which would otherwise keep triggering collections.
class _D(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type"):
    pass


class TextDelta(_D, tag="text_delta", gc=False):
    """More text for a text block."""

    type: ClassVar[str] = "text_delta"
    text: str


class InputJSONDelta(_D, tag="input_json_delta", gc=False):
    """More of a tool call's input, as a fragment of JSON text."""

    type: ClassVar[str] = "input_json_delta"
    partial_json: str


class ThinkingDelta(_D, tag="thinking_delta", gc=False):
    """More extended thinking."""

    type: ClassVar[str] = "thinking_delta"
    thinking: str


class SignatureDelta(_D, tag="signature_delta", gc=False):
    """The signature that closes a thinking block."""

    type: ClassVar[str] = "signature_delta"
    signature: str


class CitationsDelta(_D, tag="citations_delta"):
    """One citation added to the current text block."""

    type: ClassVar[str] = "citations_delta"
    citation: dict[str, Any]


class UnknownDelta:
    """A delta type this version does not know, kept whole (``data`` is the decoded object)."""

    __slots__ = ("data", "type")

    def __init__(self, *, type: str, data: dict[str, Any]) -> None:
        self.type = type
        self.data = data

    def __repr__(self) -> str:
        return f"UnknownDelta(type={self.type!r}, data={self.data!r})"


_KnownDelta = TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta | CitationsDelta


class _E(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type"):
    pass


class MessageStartEvent(_E, tag="message_start"):
    """The stream's first event: the message with empty content and initial usage."""

    type: ClassVar[str] = "message_start"
    message: Message


class ContentBlockStartEvent(_E, tag="content_block_start"):
    """A new content block begins at ``index``."""

    type: ClassVar[str] = "content_block_start"
    index: int
    content_block: ContentBlock


class ContentBlockDeltaEvent(_E, tag="content_block_delta", gc=False):
    """More content for the block at ``index``."""

    type: ClassVar[str] = "content_block_delta"
    index: int
    # Typed as the known deltas so the hot path decodes in one step; a delta of unknown type is
    # delivered as ``UnknownDelta`` (see ``decode_event``).
    delta: _KnownDelta


class ContentBlockStopEvent(_E, tag="content_block_stop", gc=False):
    """The block at ``index`` is complete."""

    type: ClassVar[str] = "content_block_stop"
    index: int


class MessageDelta(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Top-level changes carried by ``message_delta``."""

    stop_reason: str | None = None
    stop_sequence: str | None = None
    container: dict[str, Any] | None = None


class MessageDeltaEvent(_E, tag="message_delta"):
    """Stop reason and cumulative usage, near the end."""

    type: ClassVar[str] = "message_delta"
    delta: MessageDelta = msgspec.field(default_factory=MessageDelta)
    usage: Usage | None = None


class MessageStopEvent(_E, tag="message_stop"):
    """The stream's last event. Bedrock attaches ``amazon-bedrock-invocationMetrics`` here."""

    type: ClassVar[str] = "message_stop"
    metrics: dict[str, Any] | None = msgspec.field(
        default=None, name="amazon-bedrock-invocationMetrics"
    )


class PingEvent(_E, tag="ping", gc=False):
    """Keep-alive; carries nothing."""

    type: ClassVar[str] = "ping"


class ErrorBody(msgspec.Struct, kw_only=True):
    """The ``error`` object of an error event."""

    type: str = "api_error"
    message: str = ""


class ErrorEvent(_E, tag="error"):
    """An error inside a stream that began with HTTP 200 (e.g. ``overloaded_error``)."""

    type: ClassVar[str] = "error"
    error: ErrorBody = msgspec.field(default_factory=ErrorBody)


class UnknownEvent:
    """An event type this version does not know, kept whole (``data`` is the decoded object)."""

    __slots__ = ("data", "type")

    def __init__(self, *, type: str, data: dict[str, Any]) -> None:
        self.type = type
        self.data = data

    def __repr__(self) -> str:
        return f"UnknownEvent(type={self.type!r}, data={self.data!r})"


StreamEvent = (
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | ContentBlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | ErrorEvent
    | UnknownEvent
)

# The hot path (deltas, stops, pings) goes through one tagged-union decoder. The start events
# hold polymorphic objects that may be of unknown type, so they take the slower two-step path.


class _WireMessageStart(msgspec.Struct):
    message: msgspec.Raw


class _WireBlockStart(msgspec.Struct):
    index: int
    content_block: msgspec.Raw


class _WireDelta(msgspec.Struct):
    index: int
    delta: dict[str, Any]


class _Peek(msgspec.Struct):
    type: str = ""


_fast = msgspec.json.Decoder(
    ContentBlockDeltaEvent
    | ContentBlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | ErrorEvent
)
_peek = msgspec.json.Decoder(_Peek)
_msg_start = msgspec.json.Decoder(_WireMessageStart)
_block_start = msgspec.json.Decoder(_WireBlockStart)
_wire_delta = msgspec.json.Decoder(_WireDelta)
_as_dict = msgspec.json.Decoder(dict[str, Any])
_FAST_TAGS = frozenset(
    {"content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping", "error"}
)


def decode_event(data: bytes | str) -> StreamEvent:
    """Decode one event's JSON object.

    Raises:
        msgspec.DecodeError: not JSON. msgspec.ValidationError: a known type with a wrong shape.
        (Providers translate both into ``MalformedResponse``.)
    """
    tag = _peek.decode(data).type
    if tag in _FAST_TAGS:
        try:
            return _fast.decode(data)  # type: ignore[no-any-return]
        except msgspec.ValidationError:
            if tag != "content_block_delta":
                raise
            w = _wire_delta.decode(data)  # an unknown delta type: keep it
            delta = UnknownDelta(type=str(w.delta.get("type", "")), data=w.delta)
            return ContentBlockDeltaEvent(index=w.index, delta=delta)  # type: ignore[arg-type]
    if tag == "message_start":
        return MessageStartEvent(message=decode_message(_msg_start.decode(data).message))
    if tag == "content_block_start":
        w2 = _block_start.decode(data)
        return ContentBlockStartEvent(index=w2.index, content_block=decode_block(w2.content_block))
    return UnknownEvent(type=tag, data=_as_dict.decode(data))


# Kept for isinstance checks by users who branch on unknown content.
_ = UnknownBlock

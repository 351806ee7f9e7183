"""The answer side of the Messages API: ``Message``, ``Usage``, token counts, route info."""

from __future__ import annotations

from typing import Any

import msgspec

from ._content import (
    ContentBlock,
    RedactedThinkingBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    WebSearchToolResultBlock,
    decode_blocks,
)

__all__ = [
    "AttemptInfo",
    "Message",
    "MessageTokensCount",
    "RouteInfo",
    "Usage",
    "decode_message",
]


class Usage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Token usage as the platform billed it.

    ``input_tokens`` excludes cached tokens, as on the wire; ``total_input_tokens`` adds them.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    server_tool_use: dict[str, Any] | None = None
    service_tier: str | None = None

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


class RouteInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Who served a call, every attempt it took, and the providers skipped with the reason
    (``"name (platform): reason"``: a missing capability, or ``circuit_open``)."""

    provider: str
    platform: str
    attempts: tuple[AttemptInfo, ...] = ()
    skipped: tuple[str, ...] = ()


class Message(msgspec.Struct, kw_only=True, omit_defaults=True, dict=True):
    """A complete answer from Claude.

    Unknown top-level fields are not lost: the exact JSON the platform sent is kept and
    ``extra`` returns the fields this version does not model. ``route`` says which provider
    served the call and how (it is not part of the wire format and is never encoded).
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

    @property
    def route(self) -> RouteInfo | None:
        """Which provider served this message, with every attempt (``None`` if not routed)."""
        return self.__dict__.get("_route")

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
        out.update(self.__dict__.get("_extra", {}))
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


class MessageTokensCount(msgspec.Struct, kw_only=True):
    """The answer of ``count_tokens``."""

    input_tokens: int


_wire_message = msgspec.json.Decoder(_WireMessage)
_known_message = msgspec.json.Decoder(_KnownMessage)
_as_dict = msgspec.json.Decoder(dict[str, Any])


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
    msg.__dict__["_raw"] = bytes(body)
    return msg

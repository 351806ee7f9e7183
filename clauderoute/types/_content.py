"""Content blocks of an answer, with unknown block types kept as ``UnknownBlock``.

The Messages API adds block types every few months (server tools, citations, containers…). A
tagged union in msgspec rejects an unknown tag, so blocks are decoded in two steps: each block is
first taken as ``msgspec.Raw``, its ``type`` peeked with a one-field struct, then decoded with the
decoder built for that type; a type we do not know is kept whole as ``UnknownBlock``.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

import msgspec

__all__ = [
    "Citation",
    "ContentBlock",
    "RedactedThinkingBlock",
    "ServerToolUseBlock",
    "TextBlock",
    "ThinkingBlock",
    "ToolUseBlock",
    "UnknownBlock",
    "WebSearchToolResultBlock",
    "decode_block",
    "decode_blocks",
]


class _Base(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


class TextBlock(_Base, tag="text", tag_field="type"):
    """Generated text, optionally with citations."""

    type: ClassVar[str] = "text"

    text: str
    citations: list[dict[str, Any]] | None = None


Citation = dict  # citations vary by source kind; kept as decoded JSON objects


class ToolUseBlock(_Base, tag="tool_use", tag_field="type"):
    """The model asks to call one of the request's tools."""

    type: ClassVar[str] = "tool_use"

    id: str
    name: str
    input: Any = msgspec.field(default_factory=dict)


class ServerToolUseBlock(_Base, tag="server_tool_use", tag_field="type"):
    """The model called a server-side tool (web search, code execution…)."""

    type: ClassVar[str] = "server_tool_use"

    id: str
    name: str
    input: Any = msgspec.field(default_factory=dict)


class WebSearchToolResultBlock(_Base, tag="web_search_tool_result", tag_field="type"):
    """Results of a server-side web search."""

    type: ClassVar[str] = "web_search_tool_result"

    tool_use_id: str
    content: Any = None


class ThinkingBlock(_Base, tag="thinking", tag_field="type"):
    """Extended thinking, with the signature that proves it unaltered."""

    type: ClassVar[str] = "thinking"

    thinking: str
    signature: str = ""


class RedactedThinkingBlock(_Base, tag="redacted_thinking", tag_field="type"):
    """Thinking the platform encrypted; pass ``data`` back unchanged."""

    type: ClassVar[str] = "redacted_thinking"

    data: str


class UnknownBlock:
    """A block type this version of clauderoute does not know; nothing in it is lost.

    ``data`` is the whole decoded object. clauderoute's encoder writes ``data`` back as it came,
    so an unknown block round-trips into the next request unchanged.
    """

    __slots__ = ("data", "type")

    def __init__(self, *, type: str, data: dict[str, Any]) -> None:
        self.type = type
        self.data = data

    def __repr__(self) -> str:
        return f"UnknownBlock(type={self.type!r}, data={self.data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnknownBlock) and other.data == self.data

    __hash__ = None  # type: ignore[assignment]


ContentBlock = (
    TextBlock
    | ToolUseBlock
    | ServerToolUseBlock
    | WebSearchToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | UnknownBlock
)

_KNOWN: dict[str, type[_Base]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (
        TextBlock,
        ToolUseBlock,
        ServerToolUseBlock,
        WebSearchToolResultBlock,
        ThinkingBlock,
        RedactedThinkingBlock,
    )
}


class _Peek(msgspec.Struct):
    type: str = ""


_peek = msgspec.json.Decoder(_Peek)
_decoders = {tag: msgspec.json.Decoder(cls) for tag, cls in _KNOWN.items()}
_as_dict = msgspec.json.Decoder(dict[str, Any])


def decode_block(raw: msgspec.Raw | bytes) -> ContentBlock:
    """Decode one block's JSON; unknown types become ``UnknownBlock``."""
    tag = _peek.decode(raw).type
    dec = _decoders.get(tag)
    if dec is not None:
        return cast(ContentBlock, dec.decode(raw))
    return UnknownBlock(type=tag, data=_as_dict.decode(raw))


def decode_blocks(raws: list[msgspec.Raw]) -> list[ContentBlock]:
    """Decode a list of raw blocks."""
    return [decode_block(r) for r in raws]

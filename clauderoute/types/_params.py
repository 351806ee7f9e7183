"""The request side of the Messages API, typed: what ``messages.create`` takes.

Plain ``TypedDict``s, as the official SDK writes them, so a request is still the dict the Claude
API documents (``{"role": "user", "content": "Hi"}``) and type checkers and editors know its
shape: ``max_tokens="many"`` or ``{"role": "robot"}`` is an error before anything runs. At run
time nothing here is used; ``clauderoute._validate`` checks the same fields and names the wrong
one. Fields this version does not know go in ``extra_body``; block and tool types it does not
know pass through at run time (a type checker needs a ``cast``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Required, TypeAlias, TypedDict

from ._content import ContentBlock
from ._tool_params import (
    CacheControlEphemeralParam,
    ContextManagementParam,
    MCPServerParam,
    MetadataParam,
    OutputConfigParam,
    ThinkingConfigParam,
    ToolChoiceParam,
    ToolUnionParam,
)

__all__ = [
    "Base64ImageSourceParam",
    "Base64PDFSourceParam",
    "ContainerParam",
    "ContentBlockParam",
    "ContentBlockSourceParam",
    "DiagnosticsParam",
    "DocumentBlockParam",
    "FileSourceParam",
    "ImageBlockParam",
    "MessageCountTokensParams",
    "MessageCreateParams",
    "MessageCreateParamsBase",
    "MessageCreateParamsNonStreaming",
    "MessageCreateParamsStreaming",
    "MessageParam",
    "ModelParam",
    "PlainTextSourceParam",
    "RedactedThinkingBlockParam",
    "RequestOptions",
    "SearchResultBlockParam",
    "ServerToolUseBlockParam",
    "TextBlockParam",
    "ThinkingBlockParam",
    "ToolResultBlockParam",
    "ToolUseBlockParam",
    "URLSourceParam",
    "WebSearchToolResultBlockParam",
]

#: A model name: a canonical Claude name (``claude-sonnet-4-5``), or a platform's own id.
ModelParam: TypeAlias = str


class TextBlockParam(TypedDict, total=False):
    """``{"type": "text", "text": ...}``."""

    text: Required[str]
    type: Required[Literal["text"]]
    cache_control: CacheControlEphemeralParam | None
    citations: Iterable[Mapping[str, object]] | None


class Base64ImageSourceParam(TypedDict, total=False):
    """An image inline, base64-encoded."""

    data: Required[str]
    media_type: Required[Literal["image/jpeg", "image/png", "image/gif", "image/webp"]]
    type: Required[Literal["base64"]]


class URLSourceParam(TypedDict, total=False):
    """An image or PDF the platform fetches (the Claude API only)."""

    type: Required[Literal["url"]]
    url: Required[str]


class FileSourceParam(TypedDict, total=False):
    """A file uploaded through the Files API (``client.beta.files.upload``)."""

    file_id: Required[str]
    type: Required[Literal["file"]]


class ImageBlockParam(TypedDict, total=False):
    """``{"type": "image", "source": ...}``."""

    source: Required[Base64ImageSourceParam | URLSourceParam | FileSourceParam]
    type: Required[Literal["image"]]
    cache_control: CacheControlEphemeralParam | None


class Base64PDFSourceParam(TypedDict, total=False):
    """A PDF inline, base64-encoded."""

    data: Required[str]
    media_type: Required[Literal["application/pdf"]]
    type: Required[Literal["base64"]]


class PlainTextSourceParam(TypedDict, total=False):
    """A plain-text document."""

    data: Required[str]
    media_type: Required[Literal["text/plain"]]
    type: Required[Literal["text"]]


class ContentBlockSourceParam(TypedDict, total=False):
    """A document made of content blocks (for custom chunking of citations)."""

    content: Required[str | Iterable[TextBlockParam | ImageBlockParam]]
    type: Required[Literal["content"]]


class DocumentBlockParam(TypedDict, total=False):
    """``{"type": "document", "source": ...}``: a PDF, text, or a block list."""

    source: Required[Base64PDFSourceParam | PlainTextSourceParam | ContentBlockSourceParam
                     | URLSourceParam | FileSourceParam]
    type: Required[Literal["document"]]
    cache_control: CacheControlEphemeralParam | None
    citations: Mapping[str, object] | None
    context: str | None
    title: str | None


class SearchResultBlockParam(TypedDict, total=False):
    """A search result to cite from."""

    content: Required[Iterable[TextBlockParam]]
    source: Required[str]
    title: Required[str]
    type: Required[Literal["search_result"]]
    cache_control: CacheControlEphemeralParam | None
    citations: Mapping[str, object]


class ThinkingBlockParam(TypedDict, total=False):
    """A thinking block of an earlier answer, passed back unchanged."""

    signature: Required[str]
    thinking: Required[str]
    type: Required[Literal["thinking"]]


class RedactedThinkingBlockParam(TypedDict, total=False):
    """A redacted thinking block of an earlier answer, passed back unchanged."""

    data: Required[str]
    type: Required[Literal["redacted_thinking"]]


class ToolUseBlockParam(TypedDict, total=False):
    """A tool call of an earlier answer."""

    id: Required[str]
    input: Required[Mapping[str, object]]
    name: Required[str]
    type: Required[Literal["tool_use"]]
    cache_control: CacheControlEphemeralParam | None


class ServerToolUseBlockParam(TypedDict, total=False):
    """A server tool call of an earlier answer."""

    id: Required[str]
    input: Required[Mapping[str, object]]
    name: Required[str]
    type: Required[Literal["server_tool_use"]]
    cache_control: CacheControlEphemeralParam | None


class WebSearchToolResultBlockParam(TypedDict, total=False):
    """A web search result of an earlier answer."""

    content: Required[object]
    tool_use_id: Required[str]
    type: Required[Literal["web_search_tool_result"]]
    cache_control: CacheControlEphemeralParam | None


class ToolResultBlockParam(TypedDict, total=False):
    """The result of a tool call, sent back in a ``user`` message."""

    tool_use_id: Required[str]
    type: Required[Literal["tool_result"]]
    cache_control: CacheControlEphemeralParam | None
    content: str | Iterable[TextBlockParam | ImageBlockParam | SearchResultBlockParam
                            | DocumentBlockParam]
    is_error: bool


ContentBlockParam: TypeAlias = (
    TextBlockParam | ImageBlockParam | DocumentBlockParam | SearchResultBlockParam
    | ThinkingBlockParam | RedactedThinkingBlockParam | ToolUseBlockParam | ToolResultBlockParam
    | ServerToolUseBlockParam | WebSearchToolResultBlockParam
)


class MessageParam(TypedDict, total=False):
    """One turn: ``{"role": "user" | "assistant", "content": str | [blocks]}``. An answer's
    ``content`` (its blocks) may be passed back as an assistant turn, as SDK code does."""

    content: Required[str | Iterable[ContentBlockParam | ContentBlock]]
    role: Required[Literal["user", "assistant"]]


class DiagnosticsParam(TypedDict, total=False):
    """Ask for ``diagnostics.cache_miss_reason`` against an earlier answer."""

    previous_message_id: str | None


class ContainerParam(TypedDict, total=False):
    """A code-execution container to reuse, with skills to load."""

    id: str | None
    skills: Iterable[Mapping[str, object]] | None


class _RequestBase(TypedDict, total=False):
    messages: Required[Iterable[MessageParam]]
    model: Required[ModelParam]
    cache_control: CacheControlEphemeralParam | None
    context_management: ContextManagementParam | None
    mcp_servers: Iterable[MCPServerParam]
    output_config: OutputConfigParam
    speed: Literal["standard", "fast"] | None
    system: str | Iterable[TextBlockParam]
    thinking: ThinkingConfigParam
    tool_choice: ToolChoiceParam
    tools: Iterable[ToolUnionParam]
    user_profile_id: str
    workspace_id: str


class MessageCreateParamsBase(_RequestBase, total=False):
    """The body of ``POST /v1/messages`` (every field of ``messages.create`` but ``stream``).

    ``user_profile_id`` and ``workspace_id`` are sent as the ``anthropic-user-profile-id`` and
    ``anthropic-workspace-id`` headers, as the SDK sends them."""

    max_tokens: Required[int]
    container: ContainerParam | str | None
    diagnostics: DiagnosticsParam | None
    inference_geo: str | None
    metadata: MetadataParam
    service_tier: Literal["auto", "standard_only"]
    stop_sequences: Sequence[str]
    temperature: float
    top_k: int
    top_p: float


class MessageCreateParamsNonStreaming(MessageCreateParamsBase, total=False):
    """``messages.create`` returning a whole ``Message``."""

    stream: Literal[False]


class MessageCreateParamsStreaming(MessageCreateParamsBase):
    """``messages.create(stream=True)``: the raw events."""

    stream: Required[Literal[True]]


MessageCreateParams: TypeAlias = MessageCreateParamsNonStreaming | MessageCreateParamsStreaming


class MessageCountTokensParams(_RequestBase, total=False):
    """The body of ``POST /v1/messages/count_tokens``."""


class RequestOptions(TypedDict, total=False):
    """What every Messages method takes besides the body: where to route, time limits, and the
    official SDK's escape hatches.

    Attributes:
        provider: serve this call on this configured provider only.
        providers: the providers allowed for this call, in order.
        timeout: per-attempt timeout, seconds (a number or ``None``).
        deadline: budget for the whole call including retries and failover, seconds.
        extra_headers: headers added to the platform request.
        extra_query: query parameters (the Messages endpoints take none: must be empty).
        extra_body: fields merged into the body (for fields this version does not type).
        betas: beta features (``anthropic-beta``, or the platform's way).
    """

    provider: str | None
    providers: Sequence[str] | None
    timeout: float | None
    deadline: float | None
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, object] | None
    extra_body: Mapping[str, object] | None
    betas: Sequence[str] | None

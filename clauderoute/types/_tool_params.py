"""Typed request settings of the Messages API: tools, tool choice, thinking, output, metadata.

The server tools are versioned by their ``type`` (``web_search_20250305``…); each family lists
the versions the official SDK knows today. A newer version works at run time (the body is sent
as written); a type checker wants a ``cast`` until this file learns it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Required, TypeAlias, TypedDict

__all__ = [
    "CacheControlEphemeralParam",
    "CodeExecutionToolParam",
    "ContextManagementParam",
    "MCPServerParam",
    "MemoryToolParam",
    "MetadataParam",
    "OutputConfigParam",
    "ThinkingConfigAdaptiveParam",
    "ThinkingConfigDisabledParam",
    "ThinkingConfigEnabledParam",
    "ThinkingConfigParam",
    "ToolBashParam",
    "ToolChoiceAnyParam",
    "ToolChoiceAutoParam",
    "ToolChoiceNoneParam",
    "ToolChoiceParam",
    "ToolChoiceToolParam",
    "ToolParam",
    "ToolSearchToolParam",
    "ToolTextEditorParam",
    "ToolUnionParam",
    "WebFetchToolParam",
    "WebSearchToolParam",
]


class CacheControlEphemeralParam(TypedDict, total=False):
    """``{"type": "ephemeral"}``: cache the prompt up to here (5 minutes, or ``ttl``)."""

    type: Required[Literal["ephemeral"]]
    ttl: Literal["5m", "1h"]


class MetadataParam(TypedDict, total=False):
    """``metadata``: an opaque id of the end user."""

    user_id: str | None


class _JSONOutputFormatParam(TypedDict, total=False):
    schema: Required[Mapping[str, object]]
    type: Required[Literal["json_schema"]]


class OutputConfigParam(TypedDict, total=False):
    """``output_config``: effort, and a JSON schema the answer must follow."""

    effort: Literal["low", "medium", "high", "xhigh", "max"] | None
    format: _JSONOutputFormatParam | None


class ThinkingConfigEnabledParam(TypedDict, total=False):
    """Extended thinking with a token budget (at least 1,024, under ``max_tokens``)."""

    budget_tokens: Required[int]
    type: Required[Literal["enabled"]]
    display: Literal["summarized", "omitted"] | None


class ThinkingConfigAdaptiveParam(TypedDict, total=False):
    """Claude decides when and how much to think."""

    type: Required[Literal["adaptive"]]
    display: Literal["summarized", "omitted"] | None


class ThinkingConfigDisabledParam(TypedDict, total=False):
    """No thinking."""

    type: Required[Literal["disabled"]]


ThinkingConfigParam: TypeAlias = (
    ThinkingConfigEnabledParam | ThinkingConfigAdaptiveParam | ThinkingConfigDisabledParam
)


class ToolChoiceAutoParam(TypedDict, total=False):
    """The model decides whether to call a tool."""

    type: Required[Literal["auto"]]
    disable_parallel_tool_use: bool


class ToolChoiceAnyParam(TypedDict, total=False):
    """The model must call one of the tools."""

    type: Required[Literal["any"]]
    disable_parallel_tool_use: bool


class ToolChoiceToolParam(TypedDict, total=False):
    """The model must call the tool named ``name``."""

    name: Required[str]
    type: Required[Literal["tool"]]
    disable_parallel_tool_use: bool


class ToolChoiceNoneParam(TypedDict, total=False):
    """The model must not call a tool."""

    type: Required[Literal["none"]]


ToolChoiceParam: TypeAlias = (
    ToolChoiceAutoParam | ToolChoiceAnyParam | ToolChoiceToolParam | ToolChoiceNoneParam
)

_Caller: TypeAlias = Literal["direct", "code_execution_20250825", "code_execution_20260120",
                             "code_execution_20260521"]


class _InputSchemaParam(TypedDict, total=False):
    type: Required[Literal["object"]]
    properties: Mapping[str, object] | None
    required: Sequence[str] | None


class ToolParam(TypedDict, total=False):
    """A client tool: the model may answer with a ``tool_use`` block whose ``input`` follows
    ``input_schema`` (a JSON schema)."""

    input_schema: Required[_InputSchemaParam | Mapping[str, object]]
    name: Required[str]
    allowed_callers: list[_Caller]
    cache_control: CacheControlEphemeralParam | None
    defer_loading: bool
    description: str
    eager_input_streaming: bool | None
    input_examples: Iterable[Mapping[str, object]]
    strict: bool
    type: Literal["custom"] | None


class _ServerTool(TypedDict, total=False):
    allowed_callers: list[_Caller]
    cache_control: CacheControlEphemeralParam | None
    defer_loading: bool
    strict: bool


class ToolBashParam(_ServerTool, total=False):
    """The bash tool (run on the caller's side)."""

    name: Required[Literal["bash"]]
    type: Required[Literal["bash_20250124"]]
    input_examples: Iterable[Mapping[str, object]]


class ToolTextEditorParam(_ServerTool, total=False):
    """The text editor tool (run on the caller's side)."""

    name: Required[Literal["str_replace_editor", "str_replace_based_edit_tool"]]
    type: Required[Literal["text_editor_20250124", "text_editor_20250429",
                           "text_editor_20250728"]]
    input_examples: Iterable[Mapping[str, object]]
    max_characters: int | None


class MemoryToolParam(_ServerTool, total=False):
    """The memory tool (run on the caller's side)."""

    name: Required[Literal["memory"]]
    type: Required[Literal["memory_20250818"]]
    input_examples: Iterable[Mapping[str, object]]


class CodeExecutionToolParam(_ServerTool, total=False):
    """Code execution in a sandbox the platform runs."""

    name: Required[Literal["code_execution"]]
    type: Required[Literal["code_execution_20250522", "code_execution_20250825",
                           "code_execution_20260120", "code_execution_20260521"]]


class WebSearchToolParam(_ServerTool, total=False):
    """Web search, run by the platform."""

    name: Required[Literal["web_search"]]
    type: Required[Literal["web_search_20250305", "web_search_20260209", "web_search_20260318"]]
    allowed_domains: Sequence[str] | None
    blocked_domains: Sequence[str] | None
    max_uses: int | None
    response_inclusion: Literal["full", "excluded"]
    user_location: Mapping[str, object] | None


class WebFetchToolParam(_ServerTool, total=False):
    """Web fetch, run by the platform."""

    name: Required[Literal["web_fetch"]]
    type: Required[Literal["web_fetch_20250910", "web_fetch_20260209", "web_fetch_20260309",
                           "web_fetch_20260318"]]
    allowed_domains: Sequence[str] | None
    blocked_domains: Sequence[str] | None
    citations: Mapping[str, object] | None
    max_content_tokens: int | None
    max_uses: int | None
    response_inclusion: Literal["full", "excluded"]
    url_sources: Mapping[str, object] | None
    use_cache: bool


class ToolSearchToolParam(_ServerTool, total=False):
    """Tool search over deferred tools, run by the platform."""

    name: Required[Literal["tool_search_tool_bm25", "tool_search_tool_regex"]]
    type: Required[Literal["tool_search_tool_bm25_20251119", "tool_search_tool_bm25",
                           "tool_search_tool_regex_20251119", "tool_search_tool_regex"]]


ToolUnionParam: TypeAlias = (
    ToolParam | ToolBashParam | ToolTextEditorParam | MemoryToolParam | CodeExecutionToolParam
    | WebSearchToolParam | WebFetchToolParam | ToolSearchToolParam
)


class MCPServerParam(TypedDict, total=False):
    """A remote MCP server the platform connects to (``mcp_servers``, a beta)."""

    name: Required[str]
    type: Required[Literal["url"]]
    url: Required[str]
    authorization_token: str | None
    tool_configuration: Mapping[str, object] | None


class ContextManagementParam(TypedDict, total=False):
    """``context_management`` (a beta): the edits the platform applies to a long context."""

    edits: Iterable[Mapping[str, object]]

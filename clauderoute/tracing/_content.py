"""Opt-in content capture: prompts and answers as the GenAI conventions' JSON message schemas.

Off unless the caller opts in (argument, or ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``).
Binary parts (base64 images, PDFs) become a placeholder with their media type and size; URL
sources keep only scheme, host and path (a signed URL's query string is a credential); each text
part is cut at ``max_length`` characters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

__all__ = ["MODES", "finish_reason", "input_messages", "output_messages", "parse_mode",
           "system_instructions", "tool_definitions"]

MODES = ("NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT")
ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# Claude's stop reasons → the conventions' finish reasons; others pass through unchanged.
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
           "tool_use": "tool_call", "refusal": "content_filter"}
_json = msgspec.json.Encoder()


def parse_mode(value: bool | str | None) -> str:
    """The capture mode from an argument, or from the environment when ``value`` is ``None``.

    ``True`` means ``SPAN_ONLY``; the older boolean spellings of the variable are accepted.
    """
    if value is None:
        value = os.environ.get(ENV, "")
    if isinstance(value, bool):
        return "SPAN_ONLY" if value else "NO_CONTENT"
    v = value.strip().upper()
    if v in MODES:
        return v
    if v in ("TRUE", "1"):
        return "SPAN_ONLY"
    return "NO_CONTENT"


def finish_reason(stop_reason: str | None) -> str:
    """The normalized finish reason; ``error`` when the answer never said why it stopped."""
    if not stop_reason:
        return "error"
    return _FINISH.get(stop_reason, stop_reason)


def _text(value: Any, limit: int) -> str:
    s = value if isinstance(value, str) else "" if value is None else str(value)
    return s if len(s) <= limit else s[:limit] + "…[truncated]"


def _source(block: Mapping[str, Any], modality: str) -> dict[str, Any]:
    src = block.get("source") or {}
    kind = src.get("type")
    media = src.get("media_type")
    if kind == "url":
        u = urlsplit(str(src.get("url", "")))
        return {"type": "uri", "modality": modality, "mime_type": media,
                "uri": f"{u.scheme}://{u.hostname or ''}{u.path}"}
    if kind == "base64":
        size = len(str(src.get("data", ""))) * 3 // 4
        return {"type": "blob", "modality": modality, "mime_type": media,
                "content": f"[omitted: {size} bytes]"}
    if kind == "text":
        return {"type": "text", "content": "[document text omitted]"}
    return {"type": "blob", "modality": modality, "content": f"[omitted: {kind or 'unknown'}]"}


def _part(block: Any, limit: int) -> dict[str, Any]:
    if isinstance(block, str):
        return {"type": "text", "content": _text(block, limit)}
    b = block if isinstance(block, Mapping) else msgspec.to_builtins(block)
    kind = b.get("type")
    if kind == "text":
        return {"type": "text", "content": _text(b.get("text"), limit)}
    if kind in ("thinking", "redacted_thinking"):
        return {"type": "reasoning", "content": _text(b.get("thinking"), limit)}
    if kind in ("tool_use", "server_tool_use"):
        return {"type": "tool_call", "id": b.get("id"), "name": b.get("name"),
                "arguments": b.get("input")}
    if kind == "tool_result":
        inner = b.get("content")
        parts = [_part(x, limit) for x in inner] if isinstance(inner, list) else \
            _text(inner, limit)
        return {"type": "tool_call_response", "id": b.get("tool_use_id"), "response": parts}
    if kind == "image":
        return _source(b, "image")
    if kind == "document":
        return _source(b, "document")
    return {"type": str(kind or "unknown")}


def _parts(content: Any, limit: int) -> list[dict[str, Any]]:
    if isinstance(content, (str, Mapping)) or not isinstance(content, (list, tuple)):
        return [_part(content, limit)]
    return [_part(b, limit) for b in content]


def system_instructions(params: Mapping[str, Any], limit: int) -> str | None:
    """``gen_ai.system_instructions`` as JSON, or ``None`` without a system prompt."""
    system = params.get("system")
    if not system:
        return None
    return _json.encode(_parts(system, limit)).decode()


def input_messages(params: Mapping[str, Any], limit: int) -> str:
    """``gen_ai.input.messages`` as JSON."""
    msgs = [{"role": m.get("role", "user"), "parts": _parts(m.get("content"), limit)}
            for m in params.get("messages") or () if isinstance(m, Mapping)]
    return _json.encode(msgs).decode()


def output_messages(message: Any, limit: int) -> str:
    """``gen_ai.output.messages`` as JSON, from a ``Message``."""
    out = {"role": getattr(message, "role", "assistant"),
           "parts": [_part(b, limit) for b in getattr(message, "content", ())],
           "finish_reason": finish_reason(getattr(message, "stop_reason", None))}
    return _json.encode([out]).decode()


def tool_definitions(params: Mapping[str, Any]) -> str | None:
    """``gen_ai.tool.definitions`` as JSON, or ``None`` without tools."""
    tools = params.get("tools")
    if not tools:
        return None
    return _json.encode([{"type": "function", "name": t.get("name"),
                          "description": t.get("description"),
                          "parameters": t.get("input_schema")} if isinstance(t, Mapping)
                         else {"type": "unknown"} for t in tools]).decode()

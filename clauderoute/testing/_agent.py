"""The emulated model's behaviour: answer like a model an agent can talk to.

An agent (Claude Code, a tool loop in a test) sends every turn with its tools attached and stops
when the answer's ``stop_reason`` is ``end_turn``. The emulated model therefore calls a tool only
when asked to:

* the request forces one: ``tool_choice`` ``{"type": "tool", "name": ...}`` or
  ``{"type": "any"}`` (the tool named by a marker, else the first tool with an ``input_schema``);
* or the last user turn's own text carries the marker ``[[tool]]`` (the first such tool) or
  ``[[tool:NAME]]`` (that tool), and ``tool_choice`` is not ``{"type": "none"}``.

Otherwise it answers with text (``Echo:`` and the last user text) and ``end_turn``. Text inside a
``tool_result`` never triggers a call, so a loop ends after the tool's answer comes back.

A tool call's ``input`` is synthesised from the tool's ``input_schema`` (``synthesize``): it
validates against the schema for the JSON Schema keywords tools use (types, ``required``,
``properties``, ``enum``, ``const``, nested objects and arrays, ``minItems``/``maxItems``,
``minLength``/``maxLength``, numeric bounds and ``multipleOf``, ``anyOf``/``oneOf``/``allOf``,
local ``$ref``). A ``pattern`` is satisfied only through ``const``, ``enum``, ``default`` or
``examples``.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["TOOL_MARKER", "choose_tool", "default_reply", "synthesize", "texts", "user_turn"]

#: The marker a user turn's text carries to make the emulated model call a tool:
#: ``[[tool]]`` (the first tool) or ``[[tool:NAME]]``.
TOOL_MARKER = re.compile(r"\[\[tool(?::([A-Za-z0-9_.-]{1,128}))?\]\]")
_FORMATS = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "time": "00:00:00Z",
            "email": "emulator@example.com", "uri": "https://example.com/",
            "uuid": "00000000-0000-4000-8000-000000000000", "ipv4": "127.0.0.1",
            "hostname": "example.com"}
_MAX_DEPTH = 32  # a recursive $ref ends in the smallest value instead of recursing forever


def texts(content: Any, *, nested: bool = True) -> list[str]:
    """The texts of a message's ``content``; ``nested=False`` skips ``tool_result`` contents."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict):
            if isinstance(block.get("text"), str):
                out.append(block["text"])
            elif nested and "content" in block:
                out.extend(texts(block["content"]))
    return out


# A text that is one XML-tagged block (Claude Code's <system-reminder>s) is context an agent
# adds to the turn, not what the user said.
_CONTEXT = re.compile(r"\s*<([A-Za-z][\w-]*)>.*</\1>\s*", re.DOTALL)


def user_turn(params: dict[str, Any], *, nested: bool = True) -> list[str]:
    """The texts of the last user turn (the trailing user messages), context blocks left out
    (all of them, if the turn holds nothing else)."""
    messages = params.get("messages")
    found: list[str] = []
    for message in reversed(messages if isinstance(messages, list) else []):
        if not isinstance(message, dict) or message.get("role") == "assistant":
            break
        if message.get("role") == "user":  # Claude Code also sends "system" messages
            found[:0] = texts(message.get("content"), nested=nested)
    said = [t for t in found if not _CONTEXT.fullmatch(t)]
    return said or found


def _custom_tools(params: dict[str, Any]) -> list[dict[str, Any]]:
    # Server tools (web search, code execution, ...) have no input_schema: we never call them.
    tools = params.get("tools")
    return [t for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)
            and isinstance(t.get("input_schema"), dict)] if isinstance(tools, list) else []


def choose_tool(params: dict[str, Any]) -> dict[str, Any] | None:
    """The tool the emulated model calls for this request, or ``None`` (see the module doc)."""
    tools = _custom_tools(params)
    choice = params.get("tool_choice")
    kind = choice.get("type", "auto") if isinstance(choice, dict) else "auto"
    if not tools or kind == "none":
        return None
    by_name = {t["name"]: t for t in tools}
    if kind == "tool":
        return by_name.get(str(choice.get("name")) if isinstance(choice, dict) else "")
    marked = TOOL_MARKER.search(" ".join(user_turn(params, nested=False)))
    if marked is not None:
        return by_name.get(marked.group(1) or "", tools[0]) if marked.group(1) else tools[0]
    return tools[0] if kind == "any" else None


# --- schema synthesis -----------------------------------------------------------------------------


class _Synth:
    """One synthesis: the root schema (for ``$ref``) and the text strings are made of."""

    def __init__(self, root: dict[str, Any], text: str) -> None:
        self.root, self.text = root, text or "emulated"

    def ref(self, ref: str) -> dict[str, Any]:
        node: Any = self.root
        if not ref.startswith("#"):
            return {}
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}

    def value(self, schema: Any, salt: int = 0, depth: int = 0) -> Any:
        if not isinstance(schema, dict):
            return self.text if schema is not False else None
        if "$ref" in schema and depth < _MAX_DEPTH:
            merged = dict(self.ref(str(schema["$ref"])), **{k: v for k, v in schema.items()
                                                            if k != "$ref"})
            return self.value(merged, salt, depth + 1)
        if "allOf" in schema and isinstance(schema["allOf"], list):
            return self.value(_merge(schema), salt, depth + 1)
        # default and examples need not validate: used only where we cannot do better.
        given = ("const", "enum", "default", "examples") if "pattern" in schema else (
            "const", "enum")
        for known in given:
            found = _given(schema, known, salt)
            if found is not _NONE:
                return found
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                rest = {k: v for k, v in schema.items() if k != key}
                return self.value(_merge({"allOf": [rest, branches[0]]}), salt, depth + 1)
        return self._typed(schema, _type_of(schema), salt, depth)

    def _typed(self, schema: dict[str, Any], kind: str, salt: int, depth: int) -> Any:
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind in ("integer", "number"):
            return _number(schema, kind == "integer", salt)
        if kind == "boolean":
            return salt % 2 == 0
        if kind == "null":
            return None
        return self._string(schema, salt)

    def _string(self, schema: dict[str, Any], salt: int) -> str:
        base = _FORMATS.get(str(schema.get("format")), self.text)
        if salt:
            base = f"{salt}-{base}"
        low, high = _int(schema.get("minLength"), 0), _int(schema.get("maxLength"), None)
        if high is not None and len(base) > high:
            base = base[:high]
        if len(base) < low:
            base += "x" * (low - len(base))
        return base

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required = [k for k in schema.get("required") or () if isinstance(k, str)]
        wanted = list(dict.fromkeys(required))
        extra = [k for k in props if k not in wanted]
        while len(wanted) < _int(schema.get("minProperties"), 0) and extra:
            wanted.append(extra.pop(0))
        out: dict[str, Any] = {}
        for key in wanted:
            sub = props.get(key, schema.get("additionalProperties", {}))
            out[key] = self.value({} if sub is True else sub, 0, depth + 1)
        return out

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items", {})
        low, high = _int(schema.get("minItems"), 0), _int(schema.get("maxItems"), None)
        n = max(low, len(prefix), 1)
        if high is not None:
            n = min(n, high)
        out = [self.value(prefix[i] if i < len(prefix) else items, i, depth + 1)
               for i in range(n)]
        return out


_NONE = object()


def _given(schema: dict[str, Any], key: str, salt: int) -> Any:
    value = schema.get(key, _NONE)
    if key == "const" or value is _NONE:
        return value
    if key in ("enum", "examples"):
        return value[salt % len(value)] if isinstance(value, list) and value else _NONE
    return value


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if isinstance(k, str)]
        kind = next((k for k in kinds if k != "null"), kinds[0] if kinds else None)
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
        return "number"
    return "string"


def _merge(schema: dict[str, Any]) -> dict[str, Any]:
    """``allOf`` folded into one schema: properties and ``required`` joined, bounds tightened,
    other keywords of later parts winning."""
    out = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema.get("allOf") or ():
        if not isinstance(part, dict):
            continue
        part = _merge(part) if "allOf" in part else part
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                out["properties"] = {**out.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                out["required"] = list(dict.fromkeys([*out.get("required", []), *value]))
            elif key in ("minimum", "minLength", "minItems", "exclusiveMinimum") and key in out:
                out[key] = max(out[key], value)
            elif key in ("maximum", "maxLength", "maxItems", "exclusiveMaximum") and key in out:
                out[key] = min(out[key], value)
            else:
                out[key] = value
    return out


def _int(value: Any, default: int | None) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _bound(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None


def _number(schema: dict[str, Any], integer: bool, salt: int) -> int | float:
    """The smallest value in range (plus ``salt`` steps where room is left)."""
    low, high = _bound(schema.get("minimum")), _bound(schema.get("maximum"))
    xlow, xhigh = _bound(schema.get("exclusiveMinimum")), _bound(schema.get("exclusiveMaximum"))
    step = _bound(schema.get("multipleOf")) or 1.0
    if integer and step != int(step):
        step = 1.0  # an integer multiple of a fraction: rare; the smallest integer in range
    start = 0.0  # zero where the range allows, else its nearest end
    if low is not None or xlow is not None:
        start = max(start, *(x for x in (low, xlow) if x is not None))
    tops = [x for x in (high, xhigh) if x is not None]
    if tops and min(tops) < start:
        start = min(tops)
    value = math.ceil(start / step) * step
    if xlow is not None and value <= xlow:
        value += step
    while (high is not None and value > high) or (xhigh is not None and value >= xhigh):
        value -= step  # the range lies below zero: walk down from its top
    for _ in range(salt):
        nxt = value + step
        if (high is None or nxt <= high) and (xhigh is None or nxt < xhigh):
            value = nxt
    return int(value) if integer or value == int(value) and step == int(step) else value


def synthesize(schema: dict[str, Any], text: str = "") -> Any:
    """A value that validates against the JSON Schema ``schema`` (see the module docstring for
    the keywords honoured); strings are made from ``text``.

    .. versionadded:: 0.2
    """
    return _Synth(schema, text).value(schema)


def default_reply(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
    """A deterministic answer to ``params``: a thinking block first when thinking is enabled;
    then a ``tool_use`` block (``stop_reason`` ``tool_use``) when ``choose_tool`` picks a tool,
    else ``Echo:`` and the user's last turn (``user_turn``), one token per word, cut at ``max_tokens``
    (``end_turn`` or ``max_tokens``)."""
    last = " ".join(user_turn(params))
    words = ("Echo: " + last).split()
    limit = int(params.get("max_tokens") or 16)
    stop = "end_turn"
    if len(words) > limit:
        words, stop = words[:limit], "max_tokens"
    content: list[dict[str, Any]] = []
    thinking = params.get("thinking") or {}
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        content.append({"type": "thinking", "thinking": "Let me think about: " + last[:40],
                        "signature": "sig-" + msg_id})
    tool = choose_tool(params)
    if tool is not None:
        said = TOOL_MARKER.sub("", last).strip()[:40]
        content.append({"type": "tool_use", "id": "toolu_" + msg_id[-8:], "name": tool["name"],
                        "input": synthesize(tool["input_schema"], said)})
        stop, words = "tool_use", words[:8]
    else:
        content.append({"type": "text", "text": " ".join(words)})
    usage = {"input_tokens": count_tokens(params), "output_tokens": max(1, len(words)),
             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    return {"id": msg_id, "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": None, "usage": usage}


def count_tokens(params: dict[str, Any]) -> int:
    """The emulator's deterministic token count: whitespace-separated words of all text."""
    messages = params.get("messages")
    messages = messages if isinstance(messages, list) else []
    words = sum(len(t.split()) for m in messages if isinstance(m, dict)
                for t in texts(m.get("content")))
    words += sum(len(t.split()) for t in texts(params.get("system")))
    return max(1, words + 3 * len(messages))

"""The emulated model behaves like a model an agent can talk to: tools only when asked, inputs
that validate against the tool's schema, ``end_turn`` otherwise (issue 17 item 7)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clauderoute import AsyncClient
from clauderoute.testing import TOOL_MARKER, synthesize
from tests.examples import examples

KEY = "agent-test-key"
MODEL = "claude-haiku-4-5"

# --- JSON schemas, generated ---------------------------------------------------------------------

_names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
_scalars = st.one_of(st.integers(-5, 5), st.text(max_size=4), st.booleans(), st.none())


def _string() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={
            "minLength": st.integers(0, 8),
            "maxLength": st.integers(8, 20),
            "format": st.sampled_from(["date-time", "email", "uri", "uuid", "date"]),
        },
    )


def _number() -> st.SearchStrategy[dict[str, Any]]:
    def bounded(d: dict[str, Any]) -> dict[str, Any]:
        # Satisfiable ranges only: the upper bounds leave room for three steps above the lower.
        step = d.get("multipleOf", 1)
        lows = [d[k] for k in ("minimum",) if k in d] + [
            d["exclusiveMinimum"] + 1 for _ in (0,) if "exclusiveMinimum" in d
        ]
        if lows:
            low = max(lows)
            if "maximum" in d:
                d["maximum"] = max(d["maximum"], low + 3 * step)
            if "exclusiveMaximum" in d:
                d["exclusiveMaximum"] = max(d["exclusiveMaximum"], low + 3 * step + 1)
        return d

    return st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number"])},
        optional={
            "minimum": st.integers(-1000, 1000),
            "maximum": st.integers(-1000, 1000),
            "exclusiveMinimum": st.integers(-50, 50),
            "exclusiveMaximum": st.integers(60, 200),
            "multipleOf": st.integers(1, 7),
        },
    ).map(bounded)


_leaf = st.one_of(
    _string(),
    _number(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.just({}),
    st.lists(_scalars, min_size=1, max_size=4, unique_by=repr).map(lambda v: {"enum": v}),
    _scalars.map(lambda v: {"const": v}),
    st.just({"type": ["string", "null"]}),
)


def _extend(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    def obj(props: dict[str, Any], req: list[bool], extra: bool) -> dict[str, Any]:
        required = [k for k, r in zip(props, req, strict=False) if r]
        out: dict[str, Any] = {"type": "object", "properties": props, "required": required}
        if not extra:
            out["additionalProperties"] = False
        return out

    def arr(items: dict[str, Any], low: int, span: int) -> dict[str, Any]:
        return {"type": "array", "items": items, "minItems": low, "maxItems": low + span}

    return st.one_of(
        st.builds(
            obj,
            st.dictionaries(_names, inner, max_size=5),
            st.lists(st.booleans(), max_size=5),
            st.booleans(),
        ),
        st.builds(arr, inner, st.integers(0, 3), st.integers(0, 3)),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
        st.tuples(inner, inner).map(
            lambda t: {
                "allOf": [
                    {"type": "object", "properties": {"a": t[0]}, "required": ["a"]},
                    {"type": "object", "properties": {"b": t[1]}, "required": ["b"]},
                ]
            }
        ),
    )


_nested = st.recursive(_leaf, _extend, max_leaves=12)
# A local $ref, at the root only: "#" is the whole document, so a nested "$defs" would not be
# what a nested "#/$defs/..." names.
schemas = st.one_of(
    _nested,
    _nested.map(
        lambda s: {
            "$defs": {"thing": s},
            "type": "object",
            "properties": {"x": {"$ref": "#/$defs/thing"}},
            "required": ["x"],
        }
    ),
)
tool_schemas = st.builds(
    lambda props, req: {
        "type": "object",
        "properties": props,
        "required": [k for k, r in zip(props, req, strict=False) if r],
    },
    st.dictionaries(_names, _nested, max_size=6),
    st.lists(st.booleans(), max_size=6),
)


@settings(max_examples=examples(75), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas, text=st.text(max_size=30))
def test_synthesized_value_validates(schema: dict[str, Any], text: str) -> None:
    """For generated JSON schemas, the synthesised value validates (jsonschema decides)."""
    jsonschema.validate(synthesize(schema, text), schema)


@settings(max_examples=examples(50), deadline=None)
@given(schema=tool_schemas)
def test_tool_input_has_every_required_field(schema: dict[str, Any]) -> None:
    """A tool input schema's required fields are all present and the whole input validates."""
    value = synthesize(schema, "q")
    assert set(schema["required"]) <= set(value)
    jsonschema.validate(value, schema)


def test_known_keywords() -> None:
    """Enums, nested required objects, bounds and formats each shape the value."""
    schema = {
        "type": "object",
        "required": ["mode", "where", "n", "tags", "when"],
        "properties": {
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "where": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string", "maxLength": 3}},
            },
            "n": {"type": "integer", "minimum": 10, "multipleOf": 4},
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 2,
                "uniqueItems": True,
            },
            "when": {"type": "string", "format": "date-time"},
            "skip": {"type": "string"},
        },
    }
    value = synthesize(schema, "Paris weather")
    assert value == {
        "mode": "fast",
        "where": {"city": "Par"},
        "n": 12,
        "tags": ["Paris weather", "1-Paris weather"],
        "when": "2026-01-01T00:00:00Z",
    }
    jsonschema.validate(value, schema)


# --- the emulator as a model, over a real socket ----------------------------------------------------

WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city",
    "input_schema": {
        "type": "object",
        "required": ["location", "unit"],
        "properties": {"location": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
    },
}
# An agent's tool list: many tools, required fields everywhere (Claude Code sends ~24).
AGENT_TOOLS = (
    [WEATHER]
    + [
        {
            "name": f"tool_{i}",
            "description": "d",
            "input_schema": {
                "type": "object",
                "required": ["command", "timeout"],
                "properties": {
                    "command": {"type": "string"},
                    "timeout": {"type": "integer", "maximum": 600000},
                },
            },
        }
        for i in range(23)
    ]
    + [{"type": "web_search_20250305", "name": "web_search"}]
)


@pytest.fixture
async def client() -> AsyncIterator[AsyncClient]:
    async with AnthropicEmulator(api_key=KEY) as emu:
        provider = AnthropicProvider(base_url=emu.url, api_key=KEY, max_retries=0)
        async with AsyncClient(providers=[provider]) as c:
            yield c


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def test_agent_tools_without_a_request_get_end_turn(client: AsyncClient) -> None:
    """24 tools and a plain prompt (even one saying 'tool'): text and end_turn, no tool call."""
    msg = await client.messages.create(
        model=MODEL, max_tokens=200, tools=AGENT_TOOLS, messages=_user("say hello, use no tool")
    )
    assert msg.stop_reason == "end_turn"
    assert [b.type for b in msg.content] == ["text"]


@pytest.mark.parametrize("choice", [{"type": "any"}, {"type": "tool", "name": "tool_7"}])
async def test_forced_tool_choice_calls_a_tool_with_valid_input(
    client: AsyncClient, choice: Any
) -> None:
    """tool_choice any/tool forces a call; its input validates against the tool's schema."""
    msg = await client.messages.create(
        model=MODEL, max_tokens=200, tools=AGENT_TOOLS, tool_choice=choice, messages=_user("go")
    )
    (block,) = msg.content
    assert msg.stop_reason == "tool_use" and block.type == "tool_use"
    assert block.name == choice.get("name", "get_weather")
    schema = next(t for t in AGENT_TOOLS if t["name"] == block.name)["input_schema"]
    jsonschema.validate(block.input, schema)


async def test_marker_calls_the_named_tool_then_the_loop_ends(client: AsyncClient) -> None:
    """[[tool:NAME]] calls NAME (streamed too); the tool_result turn gets text and end_turn."""
    messages = _user("[[tool:tool_3]] list the files")
    async with client.messages.stream(
        model=MODEL, max_tokens=200, tools=AGENT_TOOLS, messages=messages
    ) as s:
        first = await s.get_final_message()
    (call,) = first.content
    assert call.type == "tool_use" and call.name == "tool_3"
    assert call.input == {"command": "list the files", "timeout": 0}
    messages += [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call.id, "content": "[[tool]] a.txt b.txt"}
            ],
        },
    ]
    second = await client.messages.create(
        model=MODEL, max_tokens=200, tools=AGENT_TOOLS, messages=messages
    )
    assert second.stop_reason == "end_turn" and second.content[0].type == "text"


async def test_tool_choice_none_beats_the_marker(client: AsyncClient) -> None:
    """tool_choice none: no tool even when the text asks for one."""
    msg = await client.messages.create(
        model=MODEL,
        max_tokens=200,
        tools=AGENT_TOOLS,
        tool_choice={"type": "none"},
        messages=_user("[[tool]]"),
    )
    assert msg.stop_reason == "end_turn"


def test_marker_syntax() -> None:
    """The documented marker: [[tool]] and [[tool:NAME]]; nothing else matches."""
    assert TOOL_MARKER.search("x [[tool]] y") is not None
    found = TOOL_MARKER.search("[[tool:get_weather]]")
    assert found is not None and found.group(1) == "get_weather"
    assert TOOL_MARKER.search("use a tool [tool] {{tool}}") is None


def test_user_turn_leaves_out_agent_context() -> None:
    """The echo answers what the user typed, not an agent's <system-reminder> blocks."""
    from clauderoute.testing._agent import user_turn

    params = {
        "messages": [
            {"role": "assistant", "content": "earlier"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<system-reminder>\nctx\n</system-reminder>"},
                    {"type": "text", "text": "say hello"},
                ],
            },
            {"role": "system", "content": "agents: ..."},
        ]
    }
    assert user_turn(params) == ["say hello"]
    only_context = {"messages": [{"role": "user", "content": "<a>x</a>"}]}
    assert user_turn(only_context) == ["<a>x</a>"]

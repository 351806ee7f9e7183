"""Code written for the official ``anthropic`` SDK, in the shapes its README shows.

Not collected by pytest: ``tests/test_sdk_shaped.py`` runs this file twice against the bundled
Claude API emulator (found through ``ANTHROPIC_BASE_URL`` and ``ANTHROPIC_API_KEY``, as an SDK
user's code finds the API): once as it is, with the official SDK, and once with only the names
swapped (``anthropic`` → ``clauderoute``, ``AsyncAnthropic`` → ``AsyncClient``, ``Anthropic``
→ ``Client``). Each example returns what it observed; both runs must observe the same.
Nothing here may mention clauderoute.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
from anthropic import Anthropic, AsyncAnthropic

MODEL = "claude-haiku-4-5"


async def async_create() -> Any:
    client = AsyncAnthropic()
    message = await client.messages.create(
        max_tokens=1024,
        messages=[{"role": "user", "content": "Hello, Claude"}],
        model=MODEL,
    )
    await client.close()
    return [message.role, message.content[0].type, message.content[0].text, message.stop_reason]


def sync_create() -> Any:
    client = Anthropic()
    message = client.messages.create(
        max_tokens=1024,
        messages=[{"role": "user", "content": "Hello, Claude"}],
        model=MODEL,
    )
    client.close()
    return [message.content[0].text, message.usage.output_tokens]


def sync_create_with_a_system_prompt() -> Any:
    with Anthropic() as client:
        message = client.messages.create(
            model=MODEL,
            max_tokens=64,
            system="You are a terse assistant.",
            stop_sequences=["\n\nHuman:"],
            metadata={"user_id": "user-1234"},
            messages=[
                {"role": "user", "content": "Hello there."},
                {"role": "assistant", "content": "Hi, I'm Claude. How can I help you?"},
                {"role": "user", "content": [{"type": "text", "text": "Explain LLMs briefly"}]},
            ],
        )
    return message.content[0].text


async def async_stream_helper() -> Any:
    client = AsyncAnthropic()
    pieces = []
    async with client.messages.stream(
        max_tokens=1024,
        messages=[{"role": "user", "content": "Say hello there"}],
        model=MODEL,
    ) as stream:
        async for text in stream.text_stream:
            pieces.append(text)
    message = await stream.get_final_message()
    await client.close()
    return ["".join(pieces), message.content[0].text, message.stop_reason]


def sync_stream_helper() -> Any:
    client = Anthropic()
    with client.messages.stream(
        max_tokens=1024,
        messages=[{"role": "user", "content": "Say hello there"}],
        model=MODEL,
    ) as stream:
        pieces = [text for text in stream.text_stream]
        final_text = stream.get_final_text()
    client.close()
    return ["".join(pieces), final_text]


async def async_raw_events() -> Any:
    client = AsyncAnthropic()
    stream = await client.messages.create(
        max_tokens=1024,
        messages=[{"role": "user", "content": "Hello, Claude"}],
        model=MODEL,
        stream=True,
    )
    types = []
    async for event in stream:
        types.append(event.type)
    await client.close()
    return [types[0], types[-1], "content_block_delta" in types]


def sync_raw_events() -> Any:
    client = Anthropic()
    stream = client.messages.create(
        max_tokens=1024,
        messages=[{"role": "user", "content": "Hello, Claude"}],
        model=MODEL,
        stream=True,
    )
    types = [event.type for event in stream]
    client.close()
    return [types[0], types[-1]]


async def async_count_tokens() -> Any:
    client = AsyncAnthropic()
    count = await client.messages.count_tokens(
        model=MODEL,
        messages=[{"role": "user", "content": "Hello, world"}],
    )
    await client.close()
    return count.input_tokens


def sync_count_tokens() -> Any:
    client = Anthropic()
    count = client.messages.count_tokens(
        model=MODEL,
        system="You are a scientist",
        messages=[{"role": "user", "content": "Hello, world"}],
    )
    client.close()
    return count.to_json()


TOOLS = [
    {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City and state"}},
            "required": ["location"],
        },
    }
]


async def async_tool_loop() -> Any:
    client = AsyncAnthropic()
    messages: list[Any] = [{"role": "user", "content": "[[tool]] the weather in Paris?"}]
    message = await client.messages.create(
        model=MODEL, max_tokens=1024, tools=TOOLS, messages=messages)
    seen = [message.stop_reason]
    tool_use = next(block for block in message.content if block.type == "tool_use")
    messages.append({"role": "assistant", "content": message.content})
    messages.append({
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "Sunny"}],
    })
    answer = await client.messages.create(
        model=MODEL, max_tokens=1024, tools=TOOLS, messages=messages,
        tool_choice={"type": "auto"})
    seen += [tool_use.name, answer.stop_reason]
    await client.close()
    return seen


def sync_errors() -> Any:
    seen = []
    bad = Anthropic(api_key="not-the-key", max_retries=0)
    try:
        bad.messages.create(max_tokens=8, messages=[{"role": "user", "content": "Hi"}],
                            model=MODEL)
    except anthropic.AuthenticationError as e:
        seen += [e.status_code, type(e.body).__name__, e.body["error"]["type"],
                 isinstance(e, anthropic.APIStatusError)]
    except anthropic.APIError:  # any other failure is a mismatch
        seen.append("unexpected APIError")
    bad.close()
    unreachable = Anthropic(base_url="http://127.0.0.1:9", max_retries=0)
    try:
        unreachable.messages.create(max_tokens=8, messages=[{"role": "user", "content": "Hi"}],
                                    model=MODEL)
    except anthropic.APIConnectionError as e:
        seen += ["connection", isinstance(e, anthropic.APIError)]
    unreachable.close()
    return seen


async def async_with_options_and_raw_response() -> Any:
    client = AsyncAnthropic(max_retries=0, default_headers={"X-Custom": "1"})
    response = await client.with_options(timeout=20.0, max_retries=1).messages.with_raw_response.create(
        max_tokens=1024,
        messages=[{"role": "user", "content": "Hello, Claude"}],
        model=MODEL,
    )
    remaining = response.headers.get("Anthropic-RateLimit-Requests-Remaining")
    message = await response.parse()
    await client.close()
    return [response.status_code, remaining, response.request_id is not None,
            message.content[0].text]


def sync_raw_count_tokens() -> Any:
    with Anthropic() as client:
        response = client.messages.with_raw_response.count_tokens(
            model=MODEL, messages=[{"role": "user", "content": "Hello, world"}])
        count = response.parse()
    return [response.status_code, count.input_tokens]


def sync_model_dump() -> Any:
    client = Anthropic()
    message = client.messages.create(
        max_tokens=64, messages=[{"role": "user", "content": "Dump me"}], model=MODEL)
    client.close()
    return [sorted(message.to_dict()), message.to_dict()["content"],
            message.to_json().startswith('{\n  "id": ')]


def sync_client_in_threads() -> Any:
    from concurrent.futures import ThreadPoolExecutor

    client = Anthropic()

    def ask(i: int) -> str:
        message = client.messages.create(
            max_tokens=64, messages=[{"role": "user", "content": f"number {i}"}], model=MODEL)
        return message.content[0].text

    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(ask, range(8)))
    client.close()
    return texts


def run_async(fn: Any) -> Any:
    """Run an async example in a fresh event loop, as a script would."""
    return asyncio.run(fn())


EXAMPLES = [
    async_create, sync_create, sync_create_with_a_system_prompt, async_stream_helper,
    sync_stream_helper, async_raw_events, sync_raw_events, async_count_tokens,
    sync_count_tokens, async_tool_loop, sync_errors, async_with_options_and_raw_response,
    sync_raw_count_tokens, sync_model_dump, sync_client_in_threads,
]

"""Static checks of the public API's types (run: ``mypy --strict tests/typing/api.py``, and
pyright). Not collected by pytest; ``tests/test_typing.py`` runs both checkers over it."""

from __future__ import annotations

from typing import Any, assert_type

from clauderoute_anthropic import AnthropicProvider

import clauderoute as cr
from clauderoute import AsyncClient, AsyncRawResponse, AsyncStream, Client, RawResponse
from clauderoute.types import (
    DeletedFile,
    FileMetadata,
    Message,
    MessageBatch,
    MessageBatchIndividualResponse,
    MessageParam,
    MessageTokensCount,
    ModelInfo,
    RouteInfo,
    Skill,
    StreamEvent,
    ToolParam,
)

HELLO: list[MessageParam] = [{"role": "user", "content": "Hello"}]
TOOLS: list[ToolParam] = [{"name": "lookup", "input_schema": {"type": "object"}}]


async def check() -> None:
    client = AsyncClient(providers=[AnthropicProvider(api_key="k")])
    msg = await client.messages.create(model="m", max_tokens=1, messages=[])
    assert_type(msg, Message)
    assert_type(msg.route, RouteInfo | None)
    assert_type(msg.model_dump(), dict[str, Any])
    assert_type(msg.to_json(), str)
    count = await client.messages.count_tokens(model="m", messages=[])
    assert_type(count, MessageTokensCount)
    async with client.messages.stream(model="m", max_tokens=1, messages=[]) as stream:
        async for event in stream:
            assert_type(event, StreamEvent)
        async for text in stream.text_stream:
            assert_type(text, str)
        assert_type(await stream.get_final_message(), Message)
        assert_type(await stream.get_final_text(), str)
    page = await client.models.list(limit=5)
    assert_type(page.data, list[ModelInfo])
    async for model in client.models.list():
        assert_type(model, ModelInfo)
    assert_type(await client.models.retrieve("m"), ModelInfo)
    batch = await client.messages.batches.create(requests=[])
    assert_type(batch, MessageBatch)
    assert_type(batch.provider, str | None)
    async for result in await client.messages.batches.results(batch.id):
        assert_type(result, MessageBatchIndividualResponse)
    async for b in client.messages.batches.list():
        assert_type(b, MessageBatch)
    meta = await client.beta.files.upload(file=b"x")
    assert_type(meta, FileMetadata)
    assert_type(await (await client.beta.files.download(meta.id)).read(), bytes)
    assert_type(await client.beta.files.delete(meta.id), DeletedFile)
    assert_type(await client.beta.skills.create(files="skill-dir"), Skill)
    await client.close()


async def check_sdk_shapes() -> None:
    client = AsyncClient(api_key="k", base_url="http://127.0.0.1:1", timeout=20.0,
                         max_retries=1, default_headers={"x": "y"})
    copy = client.with_options(timeout=5.0, max_retries=0)
    assert_type(copy, AsyncClient)
    msg = await client.messages.create(
        model="claude-haiku-4-5", max_tokens=64, messages=HELLO, tools=TOOLS,
        tool_choice={"type": "auto"}, system="terse", thinking={"type": "adaptive"},
        metadata={"user_id": "u"}, stop_sequences=["\n"], temperature=0.5,
        output_config={"effort": "low"}, service_tier="auto", extra_body={"new": 1},
        timeout=10.0, deadline=30.0, provider="anthropic", betas=["b"])
    again = await client.messages.create(
        model="m", max_tokens=8,
        messages=[*HELLO, {"role": "assistant", "content": msg.content},
                  {"role": "user", "content": [
                      {"type": "tool_result", "tool_use_id": "t", "content": "ok"}]}])
    assert_type(again, Message)
    events = await client.messages.create(model="m", max_tokens=8, messages=HELLO, stream=True)
    assert_type(events, AsyncStream)
    async for event in events:
        assert_type(event, StreamEvent)
    flag = bool(len(HELLO))
    either = await client.messages.create(model="m", max_tokens=8, messages=HELLO, stream=flag)
    assert_type(either, Message | AsyncStream)
    raw = await client.messages.with_raw_response.create(model="m", max_tokens=8,
                                                         messages=HELLO)
    assert_type(raw, AsyncRawResponse[Message])
    assert_type(await raw.parse(), Message)
    assert_type(raw.headers.get("request-id"), str | None)
    try:
        await client.messages.count_tokens(model="m", messages=HELLO)
    except cr.APIStatusError as e:
        assert_type(e.status_code, int)
        assert_type(e.request_id, str | None)
    except cr.APIConnectionError as e:
        assert_type(e.message, str)
    await client.close()


def check_sync() -> None:
    with Client(api_key="k") as client:
        msg = client.messages.create(model="m", max_tokens=8, messages=HELLO)
        assert_type(msg, Message)
        assert_type(client.messages.count_tokens(model="m", messages=HELLO),
                    MessageTokensCount)
        with client.messages.stream(model="m", max_tokens=8, messages=HELLO) as stream:
            for text in stream.text_stream:
                assert_type(text, str)
            assert_type(stream.get_final_message(), Message)
        for event in client.messages.create(model="m", max_tokens=8, messages=HELLO,
                                            stream=True):
            assert_type(event, StreamEvent)
        raw = client.messages.with_raw_response.create(model="m", max_tokens=8, messages=HELLO)
        assert_type(raw, RawResponse[Message])
        assert_type(raw.parse(), Message)
        for model in client.models.list():
            assert_type(model, ModelInfo)
        assert_type(client.models.retrieve("m"), ModelInfo)
        assert_type(client.messages.batches.retrieve("b"), MessageBatch)
        for result in client.messages.batches.results("b"):
            assert_type(result, MessageBatchIndividualResponse)
        assert_type(client.beta.files.download("f").read(), bytes)

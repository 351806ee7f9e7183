"""Static checks of the public API's types (run: ``mypy --strict tests/typing/api.py``).

Not collected by pytest; ``tests/test_typing.py`` runs mypy over it when mypy is installed.
"""

from __future__ import annotations

from typing import assert_type

from clauderoute_anthropic import AnthropicProvider

from clauderoute import AsyncClient
from clauderoute.types import (
    DeletedFile,
    FileMetadata,
    Message,
    MessageBatch,
    MessageBatchIndividualResponse,
    MessageTokensCount,
    ModelInfo,
    RouteInfo,
    Skill,
    StreamEvent,
)


async def check() -> None:
    client = AsyncClient(providers=[AnthropicProvider(api_key="k")])
    msg = await client.messages.create(model="m", max_tokens=1, messages=[])
    assert_type(msg, Message)
    assert_type(msg.route, RouteInfo | None)
    count = await client.messages.count_tokens(model="m", messages=[])
    assert_type(count, MessageTokensCount)
    async with client.messages.stream(model="m", max_tokens=1, messages=[]) as stream:
        async for event in stream:
            assert_type(event, StreamEvent)
        async for text in stream.text_stream:
            assert_type(text, str)
        assert_type(await stream.get_final_message(), Message)
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

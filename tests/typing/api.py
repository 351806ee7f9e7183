"""Static checks of the public API's types (run: ``mypy --strict tests/typing/api.py``).

Not collected by pytest; ``tests/test_typing.py`` runs mypy over it when mypy is installed.
"""

from __future__ import annotations

from typing import assert_type

from clauderoute import AsyncClient
from clauderoute.types import Message, MessageTokensCount, RouteInfo, StreamEvent
from clauderoute_anthropic import AnthropicProvider


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
    await client.close()

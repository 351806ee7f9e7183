"""Wrong requests a type checker must refuse: every line marked ``# wrong`` must get an error
from mypy and from pyright, and no other line may (``tests/test_typing.py`` checks both)."""

from __future__ import annotations

import clauderoute
import clauderoute.gateway
import clauderoute.routing
import clauderoute.types
from clauderoute import AsyncClient, Client
from clauderoute.types import Message, MessageParam

HELLO: list[MessageParam] = [{"role": "user", "content": "Hello"}]


async def wrong(client: AsyncClient, sync: Client) -> None:
    await client.messages.create(model="m", max_tokens="many", messages=HELLO)  # wrong
    await client.messages.create(model="m", max_tokens=8, messages=[{"role": "robot", "content": "hi"}])  # wrong
    await client.messages.create(model="m", messages=HELLO)  # wrong
    await client.messages.create(model="m", max_tokens=8, messages=HELLO, maxtokens=8)  # wrong
    await client.messages.create(model="m", max_tokens=8, messages=HELLO, tool_choice={"type": "sometimes"})  # wrong
    await client.messages.create(model="m", max_tokens=8, messages=HELLO, thinking={"type": "enabled"})  # wrong
    await client.messages.create(model="m", max_tokens=8, messages=[{"role": "user", "content": [{"type": "text"}]}])  # wrong
    await client.messages.create(model="m", max_tokens=8, messages=HELLO, timeout="5s")  # wrong
    await client.messages.count_tokens(model="m", max_tokens=8, messages=HELLO)  # wrong
    client.messages.stream(model="m", max_tokens=8, messages=HELLO, stream=True)  # wrong
    msg: Message = await client.messages.create(model="m", max_tokens=8, messages=HELLO, stream=True)  # wrong
    sync.messages.create(model="m", max_tokens="many", messages=HELLO)  # wrong
    sync.messages.stream(model="m", max_tokens=8, messages=[{"role": "robot", "content": "hi"}])  # wrong
    ok: Message = await client.messages.create(model="m", max_tokens=8, messages=HELLO)
    del msg, ok


def misspelt() -> None:
    """Names the packages load on first use are still checked: a misspelt one is an error."""
    print(clauderoute.AsyncClinet)  # wrong
    print(clauderoute.routing.Routr)  # wrong
    print(clauderoute.types.MessageBach)  # wrong
    print(clauderoute.gateway.Gatway)  # wrong
    print(clauderoute.AsyncClient, clauderoute.routing.Router, clauderoute.types.MessageBatch)
    print(clauderoute.gateway.Gateway, clauderoute.__version__)

"""Message Batches through the gateway with the official SDK: created on a provider that has
them (Bedrock, first in the route, has none), and every later call about the batch sent there."""

from __future__ import annotations

from typing import Any

from tests.official_sdk import SDK_WORKER


@SDK_WORKER
async def test_batches_through_the_gateway(fleet_of: Any, kit: Any) -> None:
    import anthropic

    fleet = await fleet_of(kinds=["bedrock", "anthropic"])
    async with kit.run_gateway(fleet.providers) as g:
        client = anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url, max_retries=0)
        requests = [{"custom_id": f"r{i}", "params": {
            "model": kit.MODEL, "max_tokens": 8,
            "messages": [{"role": "user", "content": f"batch item {i}"}]}} for i in range(3)]
        batch = await client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
        assert batch.id and batch.processing_status in ("in_progress", "ended")
        again = await client.messages.batches.retrieve(batch.id)
        assert again.id == batch.id
        listed = await client.messages.batches.list(limit=10)
        assert batch.id in [b.id for b in listed.data]
        if again.processing_status == "ended":
            got = {r.custom_id: r.result.type async for r in
                   await client.messages.batches.results(batch.id)}
            assert got == {"r0": "succeeded", "r1": "succeeded", "r2": "succeeded"}
        else:
            canceled = await client.messages.batches.cancel(batch.id)
            assert canceled.processing_status in ("canceling", "ended")
        bedrock = fleet.members[0].emulator
        assert bedrock.requests == []  # nothing about batches went to the platform without them
        await client.close()

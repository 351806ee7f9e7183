"""``ProviderContract``: the battery of tests every provider passes against its emulator.

A provider's ``tests/test_contract.py`` subclasses it and supplies three factories::

    class TestAnthropic(ProviderContract):
        def make_emulator(self):
            return AnthropicEmulator(api_key="k")

        def make_provider(self, emulator, **settings):
            return AnthropicProvider(base_url=emulator.url, api_key="k", **settings)

        def make_bad_provider(self, emulator):
            return AnthropicProvider(base_url=emulator.url, api_key="wrong")

Every test drives the real client over loopback; nothing of clauderoute is mocked. Requires
pytest and pytest-asyncio (``asyncio_mode = "auto"``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .. import _errors as E
from .._client import AsyncClient
from .._provider import Provider
from .._retry import no_backoff
from ..types._content import ThinkingBlock, ToolUseBlock, UnknownBlock
from ..types._params import MessageParam
from ..types._tool_params import ToolParam
from ._faults import Fault
from ._server import EmulatorServer, default_reply

__all__ = ["ProviderContract"]

MODEL = "claude-haiku-4-5"
HELLO: list[MessageParam] = [{"role": "user", "content": "Hello there, Claude"}]
CANARY = "canary-secret-0123456789abcdef"


class ProviderContract:
    """Tests inherited by each provider's contract suite."""

    model = MODEL

    # --- what a subclass supplies ----------------------------------------------------------------

    def make_emulator(self) -> EmulatorServer:
        """A fresh, unstarted emulator of the platform."""
        raise NotImplementedError

    def make_provider(self, emulator: EmulatorServer, **settings: Any) -> Provider:
        """A provider pointed at ``emulator`` with working credentials."""
        raise NotImplementedError

    def make_bad_provider(self, emulator: EmulatorServer) -> Provider:
        """A provider pointed at ``emulator`` whose credential the emulator rejects."""
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Credential values that must never appear in reprs or errors."""
        return []

    # --- fixtures --------------------------------------------------------------------------------

    @pytest.fixture
    async def emulator(self) -> AsyncIterator[EmulatorServer]:
        server = self.make_emulator()
        await server.start()
        try:
            yield server
        finally:
            await server.stop()

    @pytest.fixture
    async def client(self, emulator: EmulatorServer) -> AsyncIterator[AsyncClient]:
        client = AsyncClient(providers=[self.make_provider(emulator)], timeout=5)
        try:
            with no_backoff():
                yield client
        finally:
            await client.close()

    async def _create(self, client: AsyncClient, **kw: Any) -> Any:
        kw.setdefault("messages", HELLO)
        return await client.messages.create(model=self.model, max_tokens=64, **kw)

    # --- the battery -------------------------------------------------------------------------------

    async def test_create_returns_message(self, client: AsyncClient,
                                          emulator: EmulatorServer) -> None:
        """A plain create comes back as a typed Message with usage and route."""
        msg = await self._create(client)
        assert msg.text == "Echo: Hello there, Claude"
        assert msg.stop_reason == "end_turn"
        assert msg.usage.input_tokens > 0 and msg.usage.output_tokens == 4
        assert msg.route is not None and msg.route.platform == client.providers[0].platform
        assert len(emulator.requests) == 1

    async def test_stream_text_and_final_message(self, client: AsyncClient) -> None:
        """Streaming yields text fragments and accumulates the same final message."""
        async with client.messages.stream(model=self.model, max_tokens=64,
                                          messages=HELLO) as stream:
            pieces = [t async for t in stream.text_stream]
            final = await stream.get_final_message()
        assert "".join(pieces) == "Echo: Hello there, Claude"
        assert final.text == "".join(pieces)
        assert final.stop_reason == "end_turn" and final.usage.output_tokens == 4

    async def test_stream_tool_use_and_thinking(self, client: AsyncClient) -> None:
        """Tool input JSON fragments and thinking + signature accumulate into blocks."""
        tools: list[ToolParam] = [{"name": "search", "description": "d", "input_schema": {
            "type": "object", "required": ["query", "n"],
            "properties": {"query": {"type": "string"}, "n": {"type": "integer", "minimum": 2}}}}]
        async with client.messages.stream(
            model=self.model, max_tokens=64, tools=tools,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=[{"role": "user", "content": "[[tool]] please search"}],
        ) as stream:
            final = await stream.get_final_message()
        thinking, tool = final.content
        assert isinstance(thinking, ThinkingBlock) and thinking.signature.startswith("sig-")
        assert isinstance(tool, ToolUseBlock)
        assert tool.input == {"query": "please search", "n": 2}  # valid for the schema
        assert final.stop_reason == "tool_use"

    async def test_count_tokens(self, client: AsyncClient) -> None:
        """count_tokens returns the platform's count as MessageTokensCount."""
        result = await client.messages.count_tokens(
            model=self.model, messages=[{"role": "user", "content": "one two three four"}])
        assert result.input_tokens == 7  # emulator: 4 words + 3 per message

    async def test_unknown_block_kept(self, client: AsyncClient,
                                      emulator: EmulatorServer) -> None:
        """A block type we do not know arrives as UnknownBlock with all its data."""
        def reply(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
            msg = default_reply(params, model, msg_id)
            msg["content"].append({"type": "hologram", "frames": [1, 2], "note": "new"})
            msg["brand_new_field"] = {"x": 1}
            return msg

        emulator.responder = reply
        msg = await self._create(client)
        block = msg.content[-1]
        assert isinstance(block, UnknownBlock)
        assert block.data == {"type": "hologram", "frames": [1, 2], "note": "new"}
        async with client.messages.stream(model=self.model, max_tokens=64,
                                          messages=HELLO) as stream:
            final = await stream.get_final_message()
        assert isinstance(final.content[-1], UnknownBlock)
        assert final.content[-1].data["frames"] == [1, 2]

    async def test_status_faults_are_retried(self, client: AsyncClient,
                                             emulator: EmulatorServer) -> None:
        """429, 5xx and overloaded answers are retried, then succeed."""
        emulator.faults.add(Fault(status=429, retry_after=0.01), Fault(status=500))
        msg = await self._create(client)
        assert [a.error is not None for a in msg.route.attempts] == [True, True, False]
        assert msg.route.attempts[1].kind == "retry"

    async def test_retries_are_bounded(self, client: AsyncClient,
                                       emulator: EmulatorServer) -> None:
        """After max_retries the last error is raised, with the SDK's class name."""
        emulator.faults.add(Fault(status=503), times=5)
        with pytest.raises(E.APIStatusError) as info:
            await self._create(client)
        assert info.value.status == 503
        assert len(emulator.requests) == 3  # 1 + max_retries (2)

    async def test_bad_request_is_not_retried(self, client: AsyncClient,
                                              emulator: EmulatorServer) -> None:
        """A 400 is fatal: one request, BadRequestError."""
        emulator.faults.add(Fault(status=400))
        with pytest.raises(E.BadRequestError):
            await self._create(client)
        assert len(emulator.requests) == 1

    async def test_bad_credential(self, emulator: EmulatorServer) -> None:
        """A rejected credential raises an auth error naming the provider, not retried."""
        async with AsyncClient(providers=[self.make_bad_provider(emulator)]) as client:
            with pytest.raises((E.AuthenticationError, E.PermissionDeniedError)) as info:
                await self._create(client)
        assert info.value.platform == client.providers[0].name
        assert len(emulator.requests) == 1

    async def test_truncated_body_is_typed_error(self, emulator: EmulatorServer) -> None:
        """Half a JSON body raises MalformedResponse (after retries), never hangs."""
        emulator.faults.add(Fault(truncate_body=True), times=3)
        provider = self.make_provider(emulator, max_retries=0)
        async with AsyncClient(providers=[provider], timeout=5) as client:
            with pytest.raises(E.MalformedResponse):
                await self._create(client)

    async def test_stream_faults_before_content_are_invisible(
            self, client: AsyncClient, emulator: EmulatorServer) -> None:
        """In-stream error, cut and malformed frame before content are retried silently."""
        stream_op = frozenset({"messages.stream"})
        emulator.faults.add(Fault(operations=stream_op, stream_error="overloaded_error",
                                  after_events=1),
                            Fault(operations=stream_op, cut=True, after_events=1))
        async with client.messages.stream(model=self.model, max_tokens=64,
                                          messages=HELLO) as stream:
            final = await stream.get_final_message()
        assert final.text == "Echo: Hello there, Claude"
        assert [a.error_type or a.error for a in stream.route.attempts[:2]] == [
            "overloaded_error", "ConnectError"]
        emulator.faults.add(Fault(operations=stream_op, malformed=True, after_events=1))
        async with client.messages.stream(model=self.model, max_tokens=64,
                                          messages=HELLO) as stream:
            final = await stream.get_final_message()
        assert stream.route.attempts[0].error == "MalformedResponseError"

    async def test_stream_cut_after_content_keeps_partial(
            self, client: AsyncClient, emulator: EmulatorServer) -> None:
        """A cut after content raises StreamInterrupted carrying the partial message."""
        emulator.faults.add(Fault(operations=frozenset({"messages.stream"}), cut=True,
                                  after_events=4))
        async with client.messages.stream(model=self.model, max_tokens=64,
                                          messages=HELLO) as stream:
            with pytest.raises(E.StreamInterrupted) as info:
                await stream.get_final_message()
        assert info.value.partial.text == "Echo: Hello"

    async def test_stall_times_out(self, emulator: EmulatorServer) -> None:
        """A stream that stalls before content raises ReadTimeout once retries run out.

        A first call, on the default timeout, fetches the credentials and opens the connection:
        the short timeout then bounds only the stalled read, not a token refresh that a loaded
        machine may slow past it (a ConnectTimeoutError, another test's subject)."""
        provider = self.make_provider(emulator, max_retries=0)
        async with AsyncClient(providers=[provider]) as warm:
            await self._create(warm)
            client = warm.with_options(timeout=0.1)  # the stall (2 s) outlasts it
            emulator.faults.add(Fault(operations=frozenset({"messages.stream"}), stall_s=2,
                                      after_events=1))
            with pytest.raises(E.ReadTimeout):
                async with client.messages.stream(model=self.model, max_tokens=8,
                                                  messages=HELLO) as stream:
                    await stream.get_final_message()

    async def test_connection_reset_is_retried(self, client: AsyncClient,
                                               emulator: EmulatorServer) -> None:
        """A reset connection is a transport error that is retried."""
        emulator.faults.add(Fault(reset=True))
        msg = await self._create(client)
        assert msg.route.attempts[0].error == "ConnectError"

    async def test_size_limit_before_network(self, client: AsyncClient,
                                             emulator: EmulatorServer) -> None:
        """A body over the platform limit fails before any byte is sent."""
        big = "x" * (33 * 1024 * 1024)
        with pytest.raises(E.RequestTooLarge):
            await self._create(client, messages=[{"role": "user", "content": big}])
        assert emulator.requests == []

    async def test_invalid_request_names_field(self, client: AsyncClient,
                                               emulator: EmulatorServer) -> None:
        """A wrong field fails before the network, naming the field."""
        with pytest.raises(E.InvalidRequest) as info:
            await client.messages.create(model=self.model, max_tokens="lots",  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType, reportCallIssue]
                                         messages=HELLO)
        assert info.value.field == "max_tokens"
        with pytest.raises(E.InvalidRequest) as info:
            await client.messages.create(model=self.model, max_tokens=5,
                                         messages=[{"role": "robot", "content": "hi"}])  # type: ignore[typeddict-item]  # pyright: ignore[reportArgumentType]
        assert info.value.field == "messages[0].role"
        assert emulator.requests == []

    async def test_no_secret_in_repr_or_errors(self, emulator: EmulatorServer) -> None:
        """Credentials never show in the provider's repr, a prepared request's repr or errors."""
        provider = self.make_provider(emulator)
        from .._provider import STREAM, Call

        request = await provider.prepare(Call(operation=STREAM, params={
            "model": self.model, "max_tokens": 5, "messages": HELLO}))
        emulator.faults.add(Fault(status=529, message="overloaded"), times=3)
        async with AsyncClient(providers=[provider]) as client:
            with no_backoff(), pytest.raises(E.APIStatusError) as info:
                await self._create(client)
        texts = [repr(provider), repr(provider.auth), repr(request), str(request),
                 str(info.value), repr(info.value)]
        for secret in self.secrets():
            for text in texts:
                assert secret not in text

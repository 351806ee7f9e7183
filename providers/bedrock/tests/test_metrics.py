"""Bedrock's invocation metrics reach the caller: InvokeModel's ``X-Amzn-Bedrock-*`` headers on
a create, the last stream event's ``amazon-bedrock-invocationMetrics`` on a stream; both as
``Message.extra["amazon-bedrock-invocationMetrics"]``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from clauderoute_bedrock import BedrockEmulator, BedrockProvider
from clauderoute_bedrock._provider import METRICS, invocation_metrics
from clauderoute_bedrock.emulator import ACCESS_KEY, SECRET_KEY

from clauderoute import AsyncClient
from clauderoute.testing import Hostile, HostileServer
from clauderoute.types import Message

MODEL = "claude-sonnet-4-5"
HELLO = [{"role": "user", "content": "Hello there, Claude"}]


@pytest.fixture
async def client() -> AsyncIterator[AsyncClient]:
    async with BedrockEmulator() as emulator:
        provider = BedrockProvider(base_url=emulator.url, region="us-east-1",
                                   access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        async with AsyncClient(providers=[provider]) as c:
            yield c


async def test_create_keeps_invocation_metrics_headers(client: AsyncClient) -> None:
    """The three X-Amzn-Bedrock-* headers of the answer, as the stream's metrics keys."""
    msg = await client.messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    metrics = msg.extra[METRICS]
    assert metrics["inputTokenCount"] == msg.usage.input_tokens > 0
    assert metrics["outputTokenCount"] == msg.usage.output_tokens == 4
    assert isinstance(metrics["invocationLatency"], int) and metrics["invocationLatency"] >= 0
    assert "id" not in msg.extra  # the body's modelled fields are not repeated


async def test_stream_keeps_the_last_events_metrics(client: AsyncClient) -> None:
    """message_stop's amazon-bedrock-invocationMetrics land on the final message."""
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        final = await stream.get_final_message()
    metrics = final.extra[METRICS]
    assert metrics["inputTokenCount"] == final.usage.input_tokens > 0
    assert metrics["outputTokenCount"] == final.usage.output_tokens == 4
    assert set(metrics) == {"inputTokenCount", "outputTokenCount", "invocationLatency",
                            "firstByteLatency"}


async def test_messages_api_stream_keeps_the_metrics() -> None:
    """bedrock-runtime's Messages API (SSE) ends its stream with the same metrics on
    message_stop: the provider's SSE decoder hands them to the final message too."""
    async with BedrockEmulator() as emulator:
        provider = BedrockProvider(base_url=emulator.url, region="us-east-1",
                                   endpoint="runtime-messages", access_key=ACCESS_KEY,
                                   secret_key=SECRET_KEY)
        async with AsyncClient(providers=[provider]) as c, c.messages.stream(
                model=MODEL, max_tokens=64, messages=HELLO) as stream:
            final = await stream.get_final_message()
    assert emulator.requests[-1].path.startswith("/anthropic/")
    metrics = final.extra[METRICS]
    assert metrics["outputTokenCount"] == final.usage.output_tokens == 4
    assert metrics["inputTokenCount"] == final.usage.input_tokens > 0


async def test_count_tokens_has_no_metrics(client: AsyncClient) -> None:
    """A count is not an invocation: it comes back as the plain count."""
    count = await client.messages.count_tokens(model=MODEL, messages=HELLO)
    assert count.input_tokens > 0


def test_metrics_from_headers() -> None:
    """Numbers become ints; an unexpected value is kept as sent; absent headers are absent."""
    assert invocation_metrics({"x-amzn-bedrock-input-token-count": "12",
                               "x-amzn-bedrock-invocation-latency": "n/a"}) == {
        "inputTokenCount": 12, "invocationLatency": "n/a"}
    assert invocation_metrics({"x-amzn-requestid": "r"}) == {}


async def test_absurd_metric_headers_are_kept_as_sent() -> None:
    """A hostile answer's metric headers — a Unicode digit ``str.isdigit`` accepts and ``int``
    refuses, a number with thousands of digits, a sign, spaces — never fail the answer: ASCII
    digits of a sane length become ints, anything else is kept as sent."""
    # the server writes header values as latin-1: these are the UTF-8 bytes of "²"
    absurd = {"x-amzn-bedrock-input-token-count": "²".encode().decode("latin-1"),
              "x-amzn-bedrock-output-token-count": "9" * 5000,
              "x-amzn-bedrock-invocation-latency": " -3 "}
    msg = await _create_against(Hostile(headers=absurd))
    assert msg.extra[METRICS] == {"inputTokenCount": "²", "outputTokenCount": "9" * 5000,
                                  "invocationLatency": "-3"}


async def test_metrics_are_made_once_on_first_read(client: AsyncClient) -> None:
    """The metrics are worked out when ``extra`` is first read, then kept: later reads give the
    same dict, a change made to it included (as when they were made with the answer)."""
    msg = await client.messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    first = msg.extra[METRICS]
    first["note"] = "mine"
    assert msg.extra[METRICS] is first and msg.extra[METRICS]["note"] == "mine"


async def test_an_answer_without_metric_headers_has_no_metrics() -> None:
    """An InvokeModel answer that carries none of the three headers has no metrics key."""
    msg = await _create_against(Hostile())
    assert METRICS not in msg.extra
    assert msg.extra == msg.extra  # read again: still none


async def _create_against(answer: Hostile) -> Message:
    """One InvokeModel create, with the API key, against a server answering ``answer``."""
    server = HostileServer(answer)
    await server.start()
    try:
        provider = BedrockProvider(name="b", base_url=server.url, api_key="k", max_retries=0)
        async with AsyncClient(providers=[provider], tracing=False) as c:
            return await c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    finally:
        await server.stop()

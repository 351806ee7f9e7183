"""Tracing and metrics over loopback emulators: the span tree of a create, a stream, a retry, a
failover across platforms, a refusal and an interrupted stream; stream spans ended on every exit
path; content capture off by default and on when opted in; no secret in any exported telemetry.

Each test builds its own SDK pipeline (in-memory exporter and metric reader) and hands it to the
observer explicitly: the global providers are never set.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import clauderoute as cr
from clauderoute.testing import Fault, LatencyProfile, default_reply, no_backoff
from clauderoute.tracing import TracingObserver

KEY = "sk-ant-canary-0123456789abcdef"
FOUNDRY_KEY = "foundry-canary-key-fedcba9876543210"
VERTEX_TOKEN = "ya29.vertex-canary-token-abcdef"
SECRETS = (KEY, FOUNDRY_KEY, VERTEX_TOKEN)
MODEL = "claude-haiku-4-5"
HELLO = [{"role": "user", "content": "Hello tracer"}]
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


class Telemetry:
    """A tracer provider and meter provider with in-memory export, and readers for tests."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer = self.tracer_provider.get_tracer("tests")

    def observer(self, **kw: Any) -> TracingObserver:
        return TracingObserver(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **kw
        )

    def spans(self) -> list[ReadableSpan]:
        return sorted(self.exporter.get_finished_spans(), key=lambda s: s.start_time or 0)

    def route(self) -> ReadableSpan:
        (route,) = [s for s in self.spans() if s.name.startswith("clauderoute ")]
        return route

    def attempts(self) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.kind is SpanKind.CLIENT]

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        out: list[Any] = []
        for rm in data.resource_metrics if data is not None else ():
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.name == name:
                        out.extend(m.data.data_points)
        return out

    def dump(self) -> str:
        """Every exported span (attributes, events, status) and metric, as text."""
        text = [s.to_json() for s in self.exporter.get_finished_spans()]
        data = self.reader.get_metrics_data()
        if data is not None:
            text.append(data.to_json())
        return "\n".join(text)


@pytest.fixture
def tel() -> Iterator[Telemetry]:
    t = Telemetry()
    yield t
    t.tracer_provider.shutdown()
    t.meter_provider.shutdown()


def anthropic(emu: AnthropicEmulator, name: str = "a", **kw: Any) -> AnthropicProvider:
    return AnthropicProvider(name=name, base_url=emu.url, api_key=KEY, **kw)


def client(tel: Telemetry, providers: list[Any], **kw: Any) -> cr.AsyncClient:
    obs = tel.observer(**kw.pop("obs", {}))
    return cr.AsyncClient(providers=providers, observers=[obs], **kw)


async def create(c: cr.AsyncClient, **kw: Any) -> Any:
    return await c.messages.create(model=MODEL, max_tokens=32, messages=HELLO, **kw)


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    return span.context.span_id  # type: ignore[union-attr]


# --- the span tree -------------------------------------------------------------------------------


async def test_create_span_tree(tel: Telemetry, emus: dict[str, AnthropicEmulator]) -> None:
    """A plain create: route span under the app's span, one standard CLIENT attempt span."""
    async with client(tel, [anthropic(emus["a"])]) as c:
        with tel.tracer.start_as_current_span("app") as app:
            msg = await create(c, temperature=0.5, stop_sequences=["END"])
    route, (att,) = tel.route(), tel.attempts()
    assert route.name == f"clauderoute chat {MODEL}" and route.kind is SpanKind.INTERNAL
    assert parent_id(route) == app.get_span_context().span_id
    assert parent_id(att) == span_id(route)
    assert route.status.status_code is StatusCode.UNSET
    assert route.attributes["clauderoute.outcome"] == "success"
    assert route.attributes["clauderoute.attempt.count"] == 1
    assert not any(k.startswith("gen_ai.") for k in route.attributes)  # by design
    a = att.attributes
    assert att.name == f"chat {a['gen_ai.request.model']}"
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.provider.name"] == "anthropic"
    assert a["server.address"] == "127.0.0.1" and a["server.port"] == emus["a"].port
    assert a["gen_ai.response.id"] == msg.id and a["gen_ai.response.model"] == msg.model
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["clauderoute.response.stop_reason"] == "end_turn"
    assert a["gen_ai.usage.input_tokens"] == msg.usage.total_input_tokens
    assert a["gen_ai.usage.output_tokens"] == msg.usage.output_tokens
    assert a["gen_ai.usage.cache_read.input_tokens"] == 0
    assert a["gen_ai.request.max_tokens"] == 32 and a["gen_ai.request.temperature"] == 0.5
    assert a["gen_ai.request.stop_sequences"] == ("END",)
    assert a["http.response.status_code"] == 200
    assert a["clauderoute.attempt.number"] == 1 and a["clauderoute.attempt.kind"] == "initial"
    assert a["clauderoute.deployment"] == "a" and "error.type" not in a
    assert route.attributes["clauderoute.usage.output_tokens"] == msg.usage.output_tokens
    (dur,) = tel.points("gen_ai.client.operation.duration")
    assert dur.count == 1 and dur.attributes["gen_ai.provider.name"] == "anthropic"
    assert "error.type" not in dur.attributes
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum for p in tel.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": msg.usage.total_input_tokens, "output": msg.usage.output_tokens}
    assert [p.count for p in tel.points("clauderoute.route.duration")] == [1]


async def test_stream_records_ttft(tel: Telemetry, emus: dict[str, AnthropicEmulator]) -> None:
    """A stream: the spans stay open while the caller reads, then carry TTFC/TTFT and chunks."""
    async with (
        client(tel, [anthropic(emus["a"])]) as c,
        c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as s,
    ):
        assert tel.spans() == []  # route and attempt spans are still open
        assert trace.get_current_span() is trace.INVALID_SPAN  # attempt not left current
        events = [ev async for ev in s]
        final = s.current_message_snapshot
    route, (att,) = tel.route(), tel.attempts()
    a = att.attributes
    assert a["gen_ai.request.stream"] is True
    ttfc = a["gen_ai.response.time_to_first_chunk"]
    assert 0 < ttfc <= a["clauderoute.response.time_to_first_token_s"]
    assert a["clauderoute.response.chunk_count"] == len(events)
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.usage.output_tokens"] == final.usage.output_tokens
    assert route.attributes["clauderoute.response.time_to_first_token_s"] > 0
    assert route.attributes["clauderoute.request.stream"] is True
    assert [p.count for p in tel.points("gen_ai.client.operation.time_to_first_chunk")] == [1]
    (per_chunk,) = tel.points("gen_ai.client.operation.time_per_output_chunk")
    assert per_chunk.count == len(events) - 1
    assert [p.count for p in tel.points("clauderoute.route.time_to_first_token")] == [1]
    assert [p.count for p in tel.points("clauderoute.attempt.time_per_output_token")] == [1]


async def test_retry_then_success(tel: Telemetry, emus: dict[str, AnthropicEmulator]) -> None:
    """A 529 then success on one provider: two attempt spans, error.type on the first only."""
    emus["a"].faults.add(Fault(status=529))
    async with client(tel, [anthropic(emus["a"])]) as c:
        with no_backoff():
            await create(c)
    route = tel.route()
    first, second = tel.attempts()
    assert {parent_id(first), parent_id(second)} == {span_id(route)}
    assert first.attributes["error.type"] == "overloaded_error"
    assert first.status.status_code is StatusCode.ERROR
    assert first.attributes["clauderoute.error.category"] == "overloaded"
    assert first.attributes["clauderoute.error.phase"] == "before_first_token"
    assert first.attributes["http.response.status_code"] == 529
    assert [e.name for e in first.events] == ["exception"]
    assert "error.type" not in second.attributes
    assert second.status.status_code is StatusCode.UNSET
    assert second.attributes["clauderoute.attempt.kind"] == "retry"
    assert second.attributes["clauderoute.attempt.reason"] == "overloaded"
    assert second.attributes["clauderoute.attempt.backoff_s"] > 0
    assert route.status.status_code is StatusCode.UNSET
    assert route.attributes["clauderoute.retry.count"] == 1
    assert [e.name for e in route.events] == ["clauderoute.retry"]
    (retries,) = tel.points("clauderoute.retries")
    assert retries.value == 1 and retries.attributes["clauderoute.attempt.reason"] == "overloaded"
    failed = [
        p
        for p in tel.points("gen_ai.client.operation.duration")
        if p.attributes.get("error.type") == "overloaded_error"
    ]
    assert [p.count for p in failed] == [1]


async def test_retry_after_hint_on_failed_attempt(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """A 429 with retry-after: the failed attempt's span carries the server's hint."""
    emus["a"].faults.add(Fault(status=429, retry_after=0.25))
    async with client(tel, [anthropic(emus["a"])]) as c:
        with no_backoff():
            await create(c)
    first, second = tel.attempts()
    assert first.attributes["error.type"] == "rate_limit_error"
    assert first.attributes["clauderoute.attempt.retry_after_s"] == 0.25
    assert "clauderoute.attempt.retry_after_s" not in second.attributes


class _Refreshing(AnthropicProvider):
    """A provider whose prepare awaits (like a credential refresh): ``prepare_may_block``."""

    async def prepare(self, call: Any) -> Any:
        await asyncio.sleep(0.001)
        return await super().prepare(call)


async def test_auth_refresh_time_on_attempt(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """Time a blocking prepare took lands on the attempt span; a prepare that never blocks
    (the API-key provider) records nothing."""
    refreshing = _Refreshing(name="r", base_url=emus["a"].url, api_key=KEY)
    async with client(tel, [refreshing]) as c:
        await create(c)
    (att,) = tel.attempts()
    assert att.attributes["clauderoute.auth.refresh_s"] > 0
    tel.exporter.clear()
    async with client(tel, [anthropic(emus["b"], name="b")]) as c:
        await create(c)
    (att,) = tel.attempts()
    assert "clauderoute.auth.refresh_s" not in att.attributes


async def test_failover_across_platforms(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """Claude API overloaded → Foundry serves: each attempt names its own platform."""
    from clauderoute_foundry import FoundryEmulator, FoundryProvider

    emus["a"].faults.add(Fault(status=529))
    foundry = FoundryEmulator(api_key=FOUNDRY_KEY)
    await foundry.start()
    try:
        fp = FoundryProvider(name="f", base_url=foundry.url, api_key=FOUNDRY_KEY)
        async with client(tel, [anthropic(emus["a"], max_retries=0), fp]) as c:
            msg = await create(c)
    finally:
        await foundry.stop()
    assert msg.route.platform == "foundry"
    route = tel.route()
    first, second = tel.attempts()
    assert first.attributes["gen_ai.provider.name"] == "anthropic"
    assert first.attributes["error.type"] == "overloaded_error"
    assert second.attributes["gen_ai.provider.name"] == "azure.ai.foundry"
    assert second.attributes["clauderoute.platform"] == "foundry"
    assert second.attributes["clauderoute.attempt.kind"] == "failover"
    assert second.attributes["server.port"] == foundry.port
    assert "error.type" not in second.attributes
    assert second.attributes["gen_ai.usage.input_tokens"] == msg.usage.total_input_tokens
    assert route.status.status_code is StatusCode.UNSET  # the caller got an answer
    assert route.attributes["clauderoute.platform"] == "foundry"
    assert route.attributes["clauderoute.failover.count"] == 1
    (event,) = route.events
    assert event.name == "clauderoute.failover"
    assert event.attributes["clauderoute.from.deployment"] == "a"
    assert event.attributes["clauderoute.deployment"] == "f"
    (fo,) = tel.points("clauderoute.failovers")
    assert fo.value == 1 and fo.attributes["clauderoute.from.platform"] == "anthropic"


async def test_vertex_attempt_names_model_as_sent(tel: Telemetry) -> None:
    """On Vertex the attempt span carries gcp.vertex_ai and the versioned model id sent."""
    from clauderoute_vertex import VertexEmulator, VertexProvider

    emu = VertexEmulator(project="p", locations={"us-east5"}, tokens=[VERTEX_TOKEN])
    await emu.start()
    try:
        vp = VertexProvider(
            name="v", base_url=emu.url, project="p", region="us-east5", access_token=VERTEX_TOKEN
        )
        async with client(tel, [vp]) as c:
            await create(c)
    finally:
        await emu.stop()
    (att,) = tel.attempts()
    assert att.attributes["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert "@" in att.attributes["gen_ai.request.model"]
    assert att.name == "chat " + att.attributes["gen_ai.request.model"]
    assert att.attributes["cloud.region"] == "us-east5"
    assert VERTEX_TOKEN not in tel.dump()


async def test_claude_platforms_name_themselves(tel: Telemetry) -> None:
    """Claude Platform on AWS overloaded -> Claude on Google Cloud serves: the attempts carry
    aws.claude_platform and gcp.claude (no registry value exists for either), the platform id,
    the region or location, the first-party model id; no credential in the telemetry."""
    aws = pytest.importorskip("clauderoute_aws")
    gcloud = pytest.importorskip("clauderoute_google_cloud")
    key, token = "sk-ant-aws-canary-0123456789", "ya29.google-cloud-canary-abcdef"
    a_emu = aws.AWSEmulator(api_keys=[key], workspaces=None)
    g_emu = gcloud.GoogleCloudEmulator(tokens=[token], locations=None)
    a_emu.faults.add(Fault(status=529))
    await a_emu.start()
    await g_emu.start()
    try:
        providers = [
            aws.AWSProvider(
                base_url=a_emu.url, region="us-west-2", workspace_id="w", api_key=key, max_retries=0
            ),
            gcloud.GoogleCloudProvider(
                base_url=g_emu.url, location="europe-west1", access_token=token
            ),
        ]
        async with client(tel, providers) as c:
            msg = await create(c)
    finally:
        await a_emu.stop()
        await g_emu.stop()
    assert msg.route.platform == "google-cloud"
    first, second = tel.attempts()
    assert [
        (
            s.attributes["gen_ai.provider.name"],
            s.attributes["clauderoute.platform"],
            s.attributes["cloud.region"],
        )
        for s in (first, second)
    ] == [
        ("aws.claude_platform", "aws", "us-west-2"),
        ("gcp.claude", "google-cloud", "europe-west1"),
    ]
    assert second.attributes["gen_ai.request.model"] == MODEL  # a first-party id
    assert key not in tel.dump() and token not in tel.dump()


async def test_refusal(tel: Telemetry, emus: dict[str, AnthropicEmulator]) -> None:
    """A refusal is an answer, not an error: finish reason content_filter, status UNSET."""

    def refuse(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        return dict(default_reply(params, model, msg_id), stop_reason="refusal")

    emus["a"].responder = refuse
    async with client(tel, [anthropic(emus["a"])]) as c:
        msg = await create(c)
    assert msg.stop_reason == "refusal"
    (att,) = tel.attempts()
    assert att.attributes["gen_ai.response.finish_reasons"] == ("content_filter",)
    assert att.attributes["clauderoute.response.stop_reason"] == "refusal"
    assert att.status.status_code is StatusCode.UNSET and "error.type" not in att.attributes


async def test_stream_interrupted_mid_stream(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """An in-stream error after content: attempt and route spans end in error, partial usage."""
    emus["a"].latency = LatencyProfile(per_token_s=0.02)  # content arrives before the error
    emus["a"].faults.add(Fault(stream_error="overloaded_error", after_events=4))
    async with client(tel, [anthropic(emus["a"])]) as c:
        with pytest.raises(cr.StreamInterrupted):
            async with c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as s:
                await s.until_done()
    route, (att,) = tel.route(), tel.attempts()
    a = att.attributes
    assert a["error.type"] == "overloaded_error"
    assert a["clauderoute.error.category"] == "stream_interrupted"
    assert a["clauderoute.error.phase"] == "mid_stream"
    assert a["gen_ai.response.finish_reasons"] == ("error",)
    assert a["gen_ai.usage.input_tokens"] > 0  # message_start's usage was recorded
    assert att.status.status_code is StatusCode.ERROR
    assert route.status.status_code is StatusCode.ERROR
    assert route.attributes["clauderoute.outcome"] == "error"
    assert route.attributes["error.type"] == "overloaded_error"


# --- content capture ---------------------------------------------------------------------------

CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"


async def test_content_capture_off_by_default(
    tel: Telemetry, emus: dict[str, AnthropicEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without opting in, no prompt or answer text reaches any span or event."""
    monkeypatch.delenv(CAPTURE_ENV, raising=False)
    async with client(tel, [anthropic(emus["a"])]) as c:
        await create(c, system="Be terse")
    for span in tel.spans():
        assert not set(CONTENT_KEYS) & set(span.attributes or {})
        assert all(e.name != "gen_ai.client.inference.operation.details" for e in span.events)
    assert "Hello tracer" not in tel.dump() and "Be terse" not in tel.dump()


async def test_content_capture_opt_in_by_env(
    tel: Telemetry, emus: dict[str, AnthropicEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPAN_ONLY: the answering attempt alone carries the messages as semconv JSON; a base64
    image becomes a placeholder with its media type and size."""
    monkeypatch.setenv(CAPTURE_ENV, "SPAN_ONLY")
    emus["a"].faults.add(Fault(status=529))
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    messages = [{"role": "user", "content": [image, {"type": "text", "text": "Hello tracer"}]}]
    async with client(
        tel, [anthropic(emus["a"], max_retries=0), anthropic(emus["b"], name="b")]
    ) as c:
        msg = await c.messages.create(
            model=MODEL, max_tokens=32, messages=messages, system="Be terse"
        )
    failed, served = tel.attempts()
    assert not set(CONTENT_KEYS) & set(failed.attributes)  # failed attempts do not repeat input
    a = served.attributes
    (inp,) = json.loads(a["gen_ai.input.messages"])
    assert inp["role"] == "user"
    blob, text = inp["parts"]
    assert text == {"type": "text", "content": "Hello tracer"}
    assert blob["type"] == "blob" and blob["mime_type"] == "image/png"
    assert PNG not in a["gen_ai.input.messages"]
    (out,) = json.loads(a["gen_ai.output.messages"])
    assert out == {
        "role": "assistant",
        "finish_reason": "stop",
        "parts": [{"type": "text", "content": msg.text}],
    }
    assert json.loads(a["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be terse"}]
    assert not set(CONTENT_KEYS) & set(tel.route().attributes)


async def test_content_capture_as_event(tel: Telemetry, emus: dict[str, AnthropicEmulator]) -> None:
    """EVENT_ONLY (by argument): the content goes on a details event, not on the span."""
    obs = {"capture_content": "EVENT_ONLY"}
    async with (
        client(tel, [anthropic(emus["a"])], obs=obs) as c,
        c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as s,
    ):
        await s.until_done()
    (att,) = tel.attempts()
    assert not set(CONTENT_KEYS) & set(att.attributes)
    (event,) = [e for e in att.events if e.name == "gen_ai.client.inference.operation.details"]
    assert "Hello tracer" in event.attributes["gen_ai.input.messages"]
    assert "Echo: Hello tracer" in event.attributes["gen_ai.output.messages"]


@pytest.mark.parametrize("capture", [False, True])
async def test_no_secret_in_any_telemetry(
    tel: Telemetry,
    emus: dict[str, AnthropicEmulator],
    capture: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Claude API key, Foundry api-key and Vertex bearer token never reach a span, event,
    metric attribute or log line, with content capture off and on, on success and failure."""
    from clauderoute_foundry import FoundryEmulator, FoundryProvider
    from clauderoute_vertex import VertexEmulator, VertexProvider

    caplog.set_level(logging.DEBUG)
    foundry = FoundryEmulator(api_key=FOUNDRY_KEY)
    vertex = VertexEmulator(project="p", locations={"us-east5"}, tokens=[VERTEX_TOKEN])
    await foundry.start()
    await vertex.start()
    try:
        emus["a"].faults.add(Fault(status=401))
        foundry.faults.add(Fault(status=529))
        ps = [
            anthropic(emus["a"], max_retries=0),
            FoundryProvider(name="f", base_url=foundry.url, api_key=FOUNDRY_KEY, max_retries=0),
            VertexProvider(
                name="v",
                base_url=vertex.url,
                project="p",
                region="us-east5",
                access_token=VERTEX_TOKEN,
            ),
        ]
        async with client(tel, ps, obs={"capture_content": capture}) as c:
            with pytest.raises(cr.AuthenticationError):  # alone: a 401 fails over to no one
                await create(c, providers=["a"])
            await create(c, providers=["f", "v"])
            async with c.messages.stream(
                model=MODEL, max_tokens=32, messages=HELLO, provider="v"
            ) as s:
                await s.until_done()
    finally:
        await foundry.stop()
        await vertex.stop()
    text = tel.dump() + caplog.text
    assert len(tel.attempts()) == 4 and ("Hello tracer" in text) is capture
    for secret in SECRETS:
        assert secret not in text
        assert secret[-12:] not in text


async def test_no_bedrock_credential_in_any_telemetry(
    tel: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    """Bedrock: the SigV4 secret key, session token and the signatures actually sent, and a
    Bedrock API key, never reach a span, event, metric or log line (capture on, a throttled
    attempt failing over, a stream); the spans name the platform aws.bedrock."""
    from clauderoute_bedrock import BedrockEmulator, BedrockProvider
    from clauderoute_bedrock.emulator import AwsKey

    access, secret = "AKIACANARY0000000001", "canary/Secret+Key/0123456789abcdefABCDEF"
    token, api_key = "canary-session-token-" + "z" * 30, "ABSKcanary-bedrock-api-key-987654321"
    caplog.set_level(logging.DEBUG)
    emu = BedrockEmulator(keys={access: AwsKey(secret, token)}, api_keys=[api_key])
    await emu.start()
    try:
        emu.faults.add(Fault(status=429))
        ps = [
            BedrockProvider(
                name="sig",
                base_url=emu.url,
                region="us-east-1",
                access_key=access,
                secret_key=secret,
                session_token=token,
                max_retries=0,
            ),
            BedrockProvider(
                name="key", base_url=emu.url, region="us-east-1", api_key=api_key, max_retries=0
            ),
        ]
        async with client(tel, ps, obs={"capture_content": True}) as c:
            msg = await create(c)
            assert msg.route.provider == "key"
            async with c.messages.stream(
                model=MODEL, max_tokens=32, messages=HELLO, provider="sig"
            ) as s:
                await s.until_done()
    finally:
        await emu.stop()
    signatures = [
        r.headers["Authorization"].rpartition("Signature=")[2]
        for r in emu.requests
        if "Signature=" in r.headers.get("Authorization", "")
    ]
    assert len(signatures) == 2  # the throttled attempt and the stream were signed
    # every logger at DEBUG, botocore's included: its signer logs would print the signature
    text = tel.dump() + caplog.text
    assert "Hello tracer" in text  # capture was on: content is there, credentials are not
    for value in (secret, token, api_key, *signatures):
        assert value not in text and value[-12:] not in text
    assert {a.attributes["gen_ai.provider.name"] for a in tel.attempts()} == {"aws.bedrock"}


# --- stream exit paths ---------------------------------------------------------------------------


async def _open(c: cr.AsyncClient) -> Any:
    return c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO)


@pytest.mark.parametrize("how", ["break-close", "raise", "exhaust"])
async def test_stream_spans_end_on_every_exit(
    tel: Telemetry, emus: dict[str, AnthropicEmulator], how: str
) -> None:
    """Exhausted, closed after a break, or left by an exception: both spans end, once; an
    early exit is ``cancelled`` with status UNSET and finish reason ``error``."""
    async with client(tel, [anthropic(emus["a"])]) as c:
        try:
            async with await _open(c) as s:
                async for _ in s:
                    if how == "break-close":
                        break
                    if how == "raise":
                        raise KeyError("caller bug")
                if how == "break-close":
                    await s.aclose()
        except KeyError:
            pass
    route, (att,) = tel.route(), tel.attempts()
    done = how == "exhaust"
    assert route.attributes["clauderoute.outcome"] == ("success" if done else "cancelled")
    assert att.attributes["clauderoute.attempt.outcome"] == ("success" if done else "cancelled")
    reasons = ("stop",) if done else ("error",)
    assert att.attributes["gen_ai.response.finish_reasons"] == reasons
    assert route.status.status_code is StatusCode.UNSET
    assert att.status.status_code is StatusCode.UNSET


async def test_abandoned_stream_spans_end_at_gc(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """A stream dropped without close ends its spans when collected (outcome abandoned)."""
    async with client(tel, [anthropic(emus["a"])]) as c:
        manager = await _open(c)
        s = await manager.__aenter__()
        await anext(aiter(s))
        del s, manager
        gc.collect()
        route = tel.route()
    assert route.attributes["clauderoute.outcome"] == "abandoned"
    assert route.status.status_code is StatusCode.UNSET
    (att,) = tel.attempts()
    assert att.attributes["clauderoute.attempt.outcome"] == "cancelled"


# --- context, options, conventions ----------------------------------------------------------------


class SpyProvider(AnthropicProvider):
    """Records which span is current while the request is prepared (inside the attempt)."""

    seen: ClassVar[list[int]] = []

    async def prepare(self, call: Any) -> Any:
        self.seen.append(trace.get_current_span().get_span_context().span_id)
        return await super().prepare(call)


async def test_attempt_span_is_current_only_while_sending(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """HTTP spans nest under the attempt span; the caller's context is restored afterwards,
    also while it reads a stream."""
    spy = SpyProvider(name="a", base_url=emus["a"].url, api_key=KEY)
    SpyProvider.seen.clear()
    async with client(tel, [spy]) as c:
        with tel.tracer.start_as_current_span("app") as app:
            await create(c)
            assert trace.get_current_span() is app
            async with c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as s:
                assert trace.get_current_span() is app
                await s.until_done()
    assert spy.seen == [span_id(a) for a in tel.attempts()]


async def test_route_span_can_be_dropped(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """route_span=False: only standard spans, children of the caller's span."""
    emus["a"].faults.add(Fault(status=529))
    async with client(
        tel,
        [anthropic(emus["a"], max_retries=0), anthropic(emus["b"], name="b")],
        obs={"route_span": False},
    ) as c:
        with tel.tracer.start_as_current_span("app") as app:
            await create(c)
    attempts = tel.attempts()
    assert len(attempts) == 2 and len(tel.spans()) == 3
    assert {parent_id(a) for a in attempts} == {app.get_span_context().span_id}
    assert attempts[1].attributes["clauderoute.attempt.kind"] == "failover"
    assert [p.value for p in tel.points("clauderoute.failovers")] == [1]


async def test_latest_conventions_opt_in(
    tel: Telemetry, emus: dict[str, AnthropicEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental switches to the newer names."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http,gen_ai_latest_experimental")

    def cached(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        reply = default_reply(params, model, msg_id)
        reply["usage"].update(
            input_tokens=3, cache_read_input_tokens=50, cache_creation_input_tokens=7
        )
        return reply

    emus["a"].responder = cached
    emus["a"].faults.add(Fault(status=529))  # the first attempt fails: no usage reported
    async with client(tel, [anthropic(emus["a"], max_retries=1)]) as c:
        with no_backoff():
            await create(c)
    _failed, served = tel.attempts()
    assert "gen_ai.usage.cache_write.input_tokens" in served.attributes
    assert "gen_ai.usage.cache_creation.input_tokens" not in served.attributes
    assert tel.points("gen_ai.client.inference.duration")
    assert not tel.points("gen_ai.client.operation.duration")
    assert not tel.points("gen_ai.client.token.usage")  # replaced by the two families below

    def by_modality(name: str) -> dict[str, int]:
        return {p.attributes["gen_ai.token.modality"]: p.value for p in tel.points(name)}

    # counters: every attempt counts, the failed one as 0 of modality unknown
    assert by_modality("gen_ai.client.inference.usage.input_tokens") == {"text": 60, "unknown": 0}
    assert by_modality("gen_ai.client.inference.usage.output_tokens")["unknown"] == 0
    assert by_modality("gen_ai.client.inference.usage.cache_read.input_tokens") == {"text": 50}
    assert by_modality("gen_ai.client.inference.usage.cache_write.input_tokens") == {"text": 7}
    # histograms: one observation per attempt, no modality split
    (op_in,) = [
        p
        for p in tel.points("gen_ai.client.inference.operation.input_tokens")
        if "error.type" not in p.attributes
    ]
    assert (op_in.count, op_in.sum) == (1, 60)
    assert "gen_ai.token.modality" not in op_in.attributes
    assert sum(p.count for p in tel.points("gen_ai.client.inference.operation.output_tokens")) == 2


async def test_circuit_state_gauge(tel: Telemetry, emus: dict[str, AnthropicEmulator]) -> None:
    """The breaker gauge reports an opened circuit as 2."""
    emus["a"].faults.add(Fault(status=529))
    async with client(
        tel,
        [anthropic(emus["a"], max_retries=0), anthropic(emus["b"], name="b")],
        breaker=cr.routing.CircuitBreaker(threshold=1),
    ) as c:
        await create(c)
    states = {
        p.attributes["clauderoute.deployment"]: p.value
        for p in tel.points("clauderoute.circuit.state")
    }
    assert states["a"] == 2 and states.get("b", 0) == 0


async def test_without_sdk_is_a_no_op(emus: dict[str, AnthropicEmulator]) -> None:
    """With the API's default (no SDK) providers, calls work and spans do not record."""
    obs = TracingObserver(tracer_provider=trace.NoOpTracerProvider())
    async with cr.AsyncClient(providers=[anthropic(emus["a"])], observers=[obs]) as c:
        msg = await create(c)
        async with c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as s:
            await s.until_done()
    assert msg.text.startswith("Echo:")
    default = TracingObserver()  # global providers: the API's proxies
    assert not default.tracer.start_span("x").is_recording()


def test_client_traces_by_default(tel: Telemetry) -> None:
    """Every client gets the shared default observer unless it brings its own or opts out."""
    from clauderoute.tracing import default_observer

    p = AnthropicProvider(name="a", base_url="http://127.0.0.1:9", api_key=KEY)
    assert cr.AsyncClient(providers=[p]).router.observers == [default_observer()]
    assert cr.AsyncClient(providers=[p], tracing=False).router.observers == []
    mine = tel.observer()
    assert cr.AsyncClient(providers=[p], observers=[mine]).router.observers == [mine]


async def test_input_tokens_include_cache(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """gen_ai.usage.input_tokens = input + cache read + cache creation, on create and stream."""

    def cached(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        reply = default_reply(params, model, msg_id)
        reply["usage"].update(
            input_tokens=3, cache_read_input_tokens=50, cache_creation_input_tokens=7
        )
        return reply

    emus["a"].responder = cached
    async with client(tel, [anthropic(emus["a"])]) as c:
        await create(c)
        async with c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as s:
            await s.until_done()
    for att in tel.attempts():
        assert att.attributes["gen_ai.usage.input_tokens"] == 60
        assert att.attributes["gen_ai.usage.cache_read.input_tokens"] == 50
        assert att.attributes["gen_ai.usage.cache_creation.input_tokens"] == 7
    inputs = [
        p
        for p in tel.points("gen_ai.client.token.usage")
        if p.attributes["gen_ai.token.type"] == "input"
    ]
    assert sum(p.sum for p in inputs) == 120


async def test_all_failed_route_is_an_error(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """When every attempt fails the route span is an error; each attempt records its own."""
    for n in ("a", "b"):
        emus[n].faults.add(Fault(status=500))
    async with client(
        tel, [anthropic(emus["a"], max_retries=0), anthropic(emus["b"], name="b", max_retries=0)]
    ) as c:
        with pytest.raises(cr.AllPlatformsFailed):
            await create(c)
    route = tel.route()
    assert route.status.status_code is StatusCode.ERROR
    assert route.attributes["clauderoute.outcome"] == "error"
    assert route.attributes["error.type"] == "AllPlatformsFailedError"
    assert not [e for e in route.events if e.name == "exception"]  # recorded on attempts only
    assert [a.attributes["error.type"] for a in tel.attempts()] == ["api_error", "api_error"]
    (attempts,) = tel.points("clauderoute.route.attempts")
    assert attempts.sum == 2 and attempts.attributes["clauderoute.outcome"] == "error"


async def test_hedge_loser_is_cancelled_not_failed(
    tel: Telemetry, emus: dict[str, AnthropicEmulator]
) -> None:
    """A hedged stream: the hedge attempt wins, the slow primary's span ends cancelled (status
    UNSET, no error.type) and both are children of the route span."""
    emus["a"].latency = LatencyProfile(ttft_s=0.6)
    async with client(
        tel,
        [anthropic(emus["a"]), anthropic(emus["b"], name="b")],
        hedging=cr.routing.Hedging(after=0.1, budget=1.0),
    ) as c:
        with tel.tracer.start_as_current_span("app") as app:
            async with c.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as s:
                await s.until_done()
            assert trace.get_current_span() is app
    route = tel.route()
    by_kind = {a.attributes["clauderoute.attempt.kind"]: a for a in tel.attempts()}
    loser, winner = by_kind["initial"], by_kind["hedge"]
    assert {parent_id(loser), parent_id(winner)} == {span_id(route)}
    assert loser.attributes["clauderoute.attempt.outcome"] == "cancelled"
    assert loser.status.status_code is StatusCode.UNSET and "error.type" not in loser.attributes
    assert winner.attributes["clauderoute.attempt.outcome"] == "success"
    assert route.status.status_code is StatusCode.UNSET


# The global providers can be set once per process (the API's rule), so the tests that install
# them run in a fresh interpreter, through the public API only: one for the no-op providers, and
# one for the SDK installed late, shared by two tests. That one drives a client per ``sdk_check_s``
# given, each step in the order given; a client that keeps its "no SDK" answer (3600 s, first)
# adds no span and no point, so each client's figures are what a process of its own would show.
_GLOBALS_CHILD = """
import asyncio, json, sys
from opentelemetry import context as otel_context, metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
import clauderoute as cr
from clauderoute.tracing import TracingObserver

class Spy(cr.routing.Observer):
    def __init__(self):
        self.seen = []
    def attempt_start(self, ctx):
        current = trace.get_current_span(otel_context.get_current())
        # the routing signals are driven after the observers, from their own slot
        watching = [*ctx.route.observers, *[s for s in [ctx.route.signals] if s]]
        self.seen.append(([type(o).__name__ for o in watching],
                          current is trace.INVALID_SPAN, ctx.route))

async def main(scenario, checks):
    out = {check_s: {} for check_s in checks}
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    emu = await AnthropicEmulator(api_key="k").start()
    runs = []
    try:
        for check_s in checks:
            obs, spy = TracingObserver(sdk_check_s=float(check_s)), Spy()
            client = cr.AsyncClient(
                providers=[AnthropicProvider(name="a", base_url=emu.url, api_key="k")],
                observers=[obs, spy])
            runs.append((check_s, obs, spy, client))
        async def call(step):
            for check_s, obs, spy, c in runs:
                await c.messages.create(model="claude-haiku-4-5", max_tokens=32,
                                        messages=[{"role": "user", "content": "hi"}])
                points = []
                data = reader.get_metrics_data()
                for rm in data.resource_metrics if data is not None else ():
                    for sm in rm.scope_metrics:
                        for m in sm.metrics:
                            if m.name == "gen_ai.client.operation.duration":
                                points += [p.count for p in m.data.data_points]
                watching, no_span, route = spy.seen[-1]
                out[check_s][step] = {
                    "enabled": obs.enabled(), "watching": watching, "no_span": no_span,
                    "off": obs.route_start(route).off,
                    "spans": [s.name for s in exporter.get_finished_spans()],
                    "duration_points": points}
        await call("before")
        if scenario == "late":
            trace.set_tracer_provider(tracer_provider)
            await call("tracer")
            metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
            await call("meter")
        else:
            trace.set_tracer_provider(trace.NoOpTracerProvider())
            metrics.set_meter_provider(metrics.NoOpMeterProvider())
            await call("noop")
    finally:
        for run in runs:
            await run[3].close()
        await emu.stop()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2].split(",")))
"""


@functools.cache
def globals_child(scenario: str, checks: str) -> dict[str, Any]:
    """The child's figures per ``sdk_check_s`` of ``checks`` (comma-separated, in order)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _GLOBALS_CHILD, scenario, checks],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


# Both tests read one child (in one pytest-xdist group, so on one worker).
_LATE, _LATE_CHILD = pytest.mark.xdist_group("tracing-late-sdk"), ("late", "3600,0")


@_LATE
def test_sdk_installed_after_client_is_picked_up() -> None:
    """With the API's defaults the observer does no work (the router leaves it off the route,
    no span context is attached); once the application installs an SDK (after the client was
    built), the same client's next call is traced, then measured."""
    out = globals_child(*_LATE_CHILD)["0"]
    before, tracer, meter = out["before"], out["tracer"], out["meter"]
    # The routing signals (on by default) watch every call, after the user's observers.
    assert before == {
        "enabled": False,
        "watching": ["Spy", "Signals"],
        "no_span": True,
        "off": True,
        "spans": [],
        "duration_points": [],
    }
    assert tracer["enabled"] and tracer["watching"] == ["TracingObserver", "Spy", "Signals"]
    assert not tracer["no_span"] and not tracer["off"]
    assert tracer["spans"] == [f"chat {MODEL}", f"clauderoute chat {MODEL}"]
    assert tracer["duration_points"] == []
    assert meter["duration_points"] == [1] and len(meter["spans"]) == 4


@_LATE
def test_no_sdk_answer_is_kept_for_sdk_check_s() -> None:
    """Asking the API costs ~1-2 µs (it reads os.environ), so a "no SDK" answer is kept for
    ``sdk_check_s``: with an hour, the SDK installed a moment later is not seen yet."""
    out = globals_child(*_LATE_CHILD)["3600"]
    assert not out["tracer"]["enabled"] and out["tracer"]["spans"] == []
    assert out["tracer"]["watching"] == ["Spy", "Signals"]


def test_explicit_no_op_globals_stay_off() -> None:
    """The API's no-op providers installed explicitly are no SDK either."""
    out = globals_child("noop", "0")["0"]
    assert out["noop"] == {
        "enabled": False,
        "watching": ["Spy", "Signals"],
        "no_span": True,
        "off": True,
        "spans": [],
        "duration_points": [],
    }

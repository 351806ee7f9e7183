"""Fidelity with independent clients: boto3's own bedrock-runtime client and the official SDK's
AsyncAnthropicBedrock both work against our emulator (which verifies their signatures), and for
the same parameters our prepared request matches the SDK's (path, body as parsed, signing scope
and the core signed headers)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import msgspec
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError
from clauderoute_bedrock import BedrockEmulator, BedrockProvider
from clauderoute_bedrock.emulator import ACCESS_KEY, API_KEY, SECRET_KEY

from clauderoute._provider import CREATE, STREAM, Call, HttpRequest
from clauderoute.testing import Fault, RecordedRequest, sdk_roundtrip
from tests.official_sdk import SDK_WORKER

BASE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
SDK_VERSION = "2026-10-21"  # what SDK 2.x puts in anthropic_version; we set ours to it
MESSAGES = [{"role": "user", "content": "Tell me about Bedrock"}]
BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 32, "messages": MESSAGES}


@pytest.fixture
async def emulator() -> AsyncIterator[BedrockEmulator]:
    async with BedrockEmulator() as emu:
        yield emu


def _boto(emu: BedrockEmulator) -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=emu.url,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def _boto_calls(emu: BedrockEmulator) -> dict[str, Any]:
    client = _boto(emu)
    body = json.dumps(BODY).encode()
    out: dict[str, Any] = {}
    out["invoke"] = json.loads(client.invoke_model(modelId=BASE, body=body)["body"].read())
    stream = client.invoke_model_with_response_stream(modelId=ARN, body=body)
    out["events"] = [json.loads(e["chunk"]["bytes"]) for e in stream["body"]]
    # CountTokens came to boto3 (a test-only reference client here) after the provider's
    # declared floor; the lowest-versions CI run has an older one.
    if hasattr(client, "count_tokens"):
        out["count"] = client.count_tokens(modelId="us." + BASE,
                                           input={"invokeModel": {"body": body}})["inputTokens"]
    client.close()
    return out


async def test_boto3_client_works_against_the_emulator(emulator: BedrockEmulator) -> None:
    """boto3's InvokeModel, InvokeModelWithResponseStream (our frames through botocore's
    parser) and CountTokens succeed, signed by botocore and verified by the emulator."""
    out = await asyncio.to_thread(_boto_calls, emulator)
    assert out["invoke"]["content"][0]["text"] == "Echo: Tell me about Bedrock"
    assert out["invoke"]["id"].startswith("msg_bdrk_")
    types = [e["type"] for e in out["events"]]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert "".join(e["delta"]["text"] for e in out["events"]
                   if e["type"] == "content_block_delta") == "Echo: Tell me about Bedrock"
    paths = [unquote(r.path) for r in emulator.requests]
    assert paths[:2] == [f"/model/{BASE}/invoke", f"/model/{ARN}/invoke-with-response-stream"]
    if "count" in out:  # asked (see _boto_calls)
        assert out["count"] == 7 and paths[2:] == [f"/model/us.{BASE}/count-tokens"]


def _boto_errors(emu: BedrockEmulator) -> tuple[str, str]:
    client = _boto(emu)
    body = json.dumps(BODY).encode()
    try:
        client.invoke_model(modelId=BASE, body=body)
        raise AssertionError("no error")
    except ClientError as exc:
        http = exc.response["Error"]["Code"]
    stream = client.invoke_model_with_response_stream(modelId=BASE, body=body)
    try:
        list(stream["body"])
        raise AssertionError("no error")
    except EventStreamError as exc:
        frame = exc.response["Error"]["Code"]
    finally:
        stream["body"].close()  # a stream cut by an error holds its socket until closed
        client.close()
    return http, frame


async def test_boto3_reads_our_error_shapes(emulator: BedrockEmulator) -> None:
    """botocore parses the emulator's HTTP error and exception frame as the named exceptions."""
    emulator.faults.add(Fault(status=429, error_type="ThrottlingException"))
    emulator.faults.add(Fault(operations=frozenset({"messages.stream"}),
                              stream_error="throttlingException", after_events=2))
    assert await asyncio.to_thread(_boto_errors, emulator) == (
        "ThrottlingException", "throttlingException")


@SDK_WORKER
async def test_sdk_client_works_against_the_emulator(emulator: BedrockEmulator) -> None:
    """AsyncAnthropicBedrock creates and streams through the emulator, with SigV4 and with a
    Bedrock API key."""
    from anthropic import AsyncAnthropicBedrock

    for kw in ({"aws_access_key": ACCESS_KEY, "aws_secret_key": SECRET_KEY},
               {"api_key": API_KEY}):
        sdk = AsyncAnthropicBedrock(aws_region="us-east-1", base_url=emulator.url,
                                    max_retries=0, **kw)  # type: ignore[arg-type]
        try:
            msg = await sdk.messages.create(model=BASE, max_tokens=32, messages=MESSAGES)
            assert msg.content[0].text == "Echo: Tell me about Bedrock"  # type: ignore[union-attr]
            async with sdk.messages.stream(model=ARN, max_tokens=32,
                                           messages=MESSAGES) as stream:
                pieces = [t async for t in stream.text_stream]
                final = await stream.get_final_message()
            assert "".join(pieces) == "Echo: Tell me about Bedrock"
            assert final.stop_reason == "end_turn"
        finally:
            await sdk.close()
    assert len(emulator.requests) == 4


def _signed(headers: dict[str, str]) -> tuple[set[str], str]:
    auth = next(v for k, v in headers.items() if k.lower() == "authorization")
    scope = auth.split("Credential=")[1].split(",")[0].split("/", 2)[2]
    return set(auth.split("SignedHeaders=")[1].split(",")[0].split(";")), scope


def _assert_same(ours: HttpRequest, sdk: RecordedRequest) -> None:
    assert unquote(urlsplit(ours.url).path) == unquote(sdk.path)
    assert msgspec.json.decode(ours.body) == msgspec.json.decode(sdk.body)
    our_signed, our_scope = _signed(ours.headers)
    sdk_signed, sdk_scope = _signed(sdk.headers)
    assert our_scope == sdk_scope == "us-east-1/bedrock/aws4_request"
    core = {"content-type", "host", "x-amz-date"}
    assert core <= our_signed and core <= sdk_signed
    # Ours signs nothing the SDK does not also send and sign (it adds x-stainless-* etc.).
    assert our_signed <= sdk_signed | {"accept"}


@SDK_WORKER
@pytest.mark.parametrize(("operation", "model", "params", "betas"), [
    (CREATE, BASE, {"max_tokens": 32, "messages": MESSAGES, "system": "Be brief.",
                    "stop_sequences": ["END"]}, ()),
    (STREAM, ARN, {"max_tokens": 64, "messages": MESSAGES, "metadata": {"user_id": "u-1"},
                   "tools": [{"name": "t", "description": "d",
                              "input_schema": {"type": "object"}}]}, ()),
    (CREATE, "us." + BASE, {"max_tokens": 16, "messages": MESSAGES},
     ("context-1m-2025-08-07", "effort-2025-11-24")),
])
async def test_prepared_request_matches_sdk(emulator: BedrockEmulator, operation: str,
                                            model: str, params: dict[str, Any],
                                            betas: tuple[str, ...]) -> None:
    """Same path (model id decoded), same body as parsed (version and betas inside), same
    signing scope; the SDK's extra signed headers are its own x-stainless-* telemetry."""
    from anthropic import AsyncAnthropicBedrock

    sdk = AsyncAnthropicBedrock(aws_access_key=ACCESS_KEY, aws_secret_key=SECRET_KEY,
                                aws_region="us-east-1", base_url=emulator.url, max_retries=0)
    await sdk_roundtrip(sdk, operation, {"model": model, **params}, betas)
    provider = BedrockProvider(base_url=emulator.url, region="us-east-1",
                               access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                               anthropic_version=SDK_VERSION, models={"c": model})
    ours = await provider.prepare(Call(operation=operation, params={"model": "c", **params},
                                       betas=betas))
    (recorded,) = emulator.requests
    _assert_same(ours, recorded)

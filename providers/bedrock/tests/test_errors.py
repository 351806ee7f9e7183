"""Bedrock's errors over loopback: each HTTP error (x-amzn-ErrorType + {"message"}) and each
mid-stream exception frame mapped to the SDK-named class, the Bedrock name and the router's
action; request ids from x-amzn-RequestId; retries follow the classification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from clauderoute_bedrock import BedrockEmulator, BedrockProvider
from clauderoute_bedrock.emulator import API_KEY

import clauderoute as cr
from clauderoute import _errors as E
from clauderoute._provider import Action, HttpResponse
from clauderoute._retry import no_backoff
from clauderoute.testing import Fault

MESSAGES = [{"role": "user", "content": "Hello there, Claude"}]
STREAM = frozenset({"messages.stream"})

HTTP_ERRORS = [
    ("ThrottlingException", 429, E.RateLimitError, Action.FAILOVER),
    ("ModelNotReadyException", 429, E.RateLimitError, Action.FAILOVER),
    ("ServiceUnavailableException", 503, E.InternalServerError, Action.FAILOVER),
    ("InternalServerException", 500, E.InternalServerError, Action.FAILOVER),
    ("ModelTimeoutException", 408, E.APIStatusError, Action.RETRY),
    ("ModelErrorException", 424, E.APIStatusError, Action.FAILOVER),
    ("ValidationException", 400, E.BadRequestError, Action.FATAL),
    ("AccessDeniedException", 403, E.PermissionDeniedError, Action.FATAL),
    ("ResourceNotFoundException", 404, E.NotFoundError, Action.FATAL),
    ("ServiceQuotaExceededException", 400, E.BadRequestError, Action.FAILOVER),
]
FRAMES = [
    ("throttlingException", "ThrottlingException", 429, E.RateLimitError, Action.FAILOVER),
    (
        "serviceUnavailableException",
        "ServiceUnavailableException",
        503,
        E.InternalServerError,
        Action.FAILOVER,
    ),
    (
        "internalServerException",
        "InternalServerException",
        500,
        E.InternalServerError,
        Action.FAILOVER,
    ),
    (
        "modelStreamErrorException",
        "ModelStreamErrorException",
        424,
        E.APIStatusError,
        Action.FAILOVER,
    ),
    ("modelTimeoutException", "ModelTimeoutException", 408, E.APIStatusError, Action.RETRY),
    ("validationException", "ValidationException", 400, E.BadRequestError, Action.FATAL),
    ("overloaded_error", "overloaded_error", 529, E.OverloadedError, Action.FAILOVER),
]


@pytest.fixture
async def emulator() -> AsyncIterator[BedrockEmulator]:
    async with BedrockEmulator() as emu:
        yield emu


def _client(emu: BedrockEmulator, retries: int = 0) -> cr.AsyncClient:
    return cr.AsyncClient(
        providers=[BedrockProvider(base_url=emu.url, api_key=API_KEY, max_retries=retries)]
    )


@pytest.mark.parametrize(("name", "status", "cls", "action"), HTTP_ERRORS)
async def test_http_errors_mapped(
    emulator: BedrockEmulator, name: str, status: int, cls: type[E.APIStatusError], action: Action
) -> None:
    """The name in x-amzn-ErrorType picks the class (by status), error_type and action; the
    message and x-amzn-RequestId come through."""
    emulator.faults.add(Fault(status=status, error_type=name, message="it failed"))
    async with _client(emulator) as client:
        with pytest.raises(cls) as info:
            await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES)
    err = info.value
    assert type(err) is cls
    assert (err.status, err.error_type, err.platform) == (status, name, "bedrock")
    assert "it failed" in str(err)
    assert err.request_id and len(err.request_id) == 36  # the emulator's uuid
    assert client.providers[0].classify(err) is action


@pytest.mark.parametrize(("frame", "name", "status", "cls", "action"), FRAMES)
async def test_exception_frames_mapped(
    emulator: BedrockEmulator,
    frame: str,
    name: str,
    status: int,
    cls: type[E.APIStatusError],
    action: Action,
) -> None:
    """An exception frame after HTTP 200 (before content) is the same typed, classified error
    (the model's own overloaded_error arrives in a modelStreamErrorException)."""
    emulator.faults.add(
        Fault(operations=STREAM, stream_error=frame, after_events=1, message="mid-stream")
    )
    async with _client(emulator) as client:
        with pytest.raises(cls) as info:
            async with client.messages.stream(
                model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES
            ) as stream:
                await stream.get_final_message()
    err = info.value
    assert type(err) is cls
    assert (err.status, err.error_type) == (status, name)
    assert err.request_id is not None
    assert client.providers[0].classify(err) is action


async def test_retries_follow_the_classification(emulator: BedrockEmulator) -> None:
    """Throttling frames are retried then succeed; a validation frame is not retried; a
    ServiceQuotaExceeded 400 is retried though its status is 400."""
    emulator.faults.add(
        Fault(operations=STREAM, stream_error="throttlingException", after_events=1), times=2
    )
    with no_backoff():  # the retries happen as the stream opens
        async with (
            _client(emulator, retries=2) as client,
            client.messages.stream(
                model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES
            ) as stream,
        ):
            final = await stream.get_final_message()
    assert final.text == "Echo: Hello there, Claude" and len(emulator.requests) == 3
    emulator.requests.clear()
    emulator.faults.add(
        Fault(operations=STREAM, stream_error="validationException", after_events=1), times=3
    )
    async with _client(emulator, retries=2) as client:
        with no_backoff(), pytest.raises(E.BadRequestError):
            async with client.messages.stream(
                model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES
            ) as stream:
                await stream.get_final_message()
    assert len(emulator.requests) == 1
    emulator.faults.clear()
    emulator.requests.clear()
    emulator.faults.add(Fault(status=400, error_type="ServiceQuotaExceededException"))
    async with _client(emulator, retries=2) as client:
        with no_backoff():
            msg = await client.messages.create(
                model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES
            )
    assert msg.route is not None and len(msg.route.attempts) == 2


async def test_emulator_validates_the_native_body(emulator: BedrockEmulator) -> None:
    """Bedrock's own ValidationExceptions: a body with `model`, without anthropic_version, or
    with an unknown beta (sent raw, bypassing our shaping)."""
    provider = BedrockProvider(base_url=emulator.url, api_key=API_KEY)
    import aiohttp

    url = emulator.url + "/model/anthropic.claude-x-v1%3A0/invoke"
    headers = {"authorization": "Bearer " + API_KEY, "content-type": "application/json"}
    bodies: list[dict[str, Any]] = [
        {"model": "x", "anthropic_version": "bedrock-2023-05-31", "max_tokens": 1},
        {"max_tokens": 1, "messages": MESSAGES},
        {
            "anthropic_version": "bedrock-2023-05-31",
            "anthropic_beta": ["nope"],
            "max_tokens": 1,
            "messages": MESSAGES,
        },
    ]
    async with aiohttp.ClientSession() as session:
        for body, text in zip(
            bodies,
            ["extraneous key [model]", "anthropic_version", "invalid beta flag"],
            strict=True,
        ):
            async with session.post(url, json=body, headers=headers) as resp:
                err = provider.error_from_response(
                    HttpResponse(
                        resp.status,
                        {k.lower(): v for k, v in resp.headers.items()},
                        await resp.read(),
                    )
                )
            assert isinstance(err, E.BadRequestError) and err.error_type == "ValidationException"
            assert text in str(err)


def test_error_shapes_without_the_header() -> None:
    """The name from a body's __type (or code) when x-amzn-ErrorType is missing; a non-JSON
    body keeps its text; the Messages-API endpoint's Claude-shaped errors are read too."""
    p = BedrockProvider(api_key=API_KEY)
    err = p.error_from_response(
        HttpResponse(
            429, {}, b'{"__type": "com.amazon.coral#ThrottlingException", "Message": "slow down"}'
        )
    )
    assert (type(err), err.error_type, err.message) == (
        E.RateLimitError,
        "ThrottlingException",
        "slow down",
    )
    assert p.classify(err) is Action.FAILOVER
    err = p.error_from_response(HttpResponse(502, {}, b"<html>bad gateway</html>"))
    assert err.status == 502 and "bad gateway" in str(err)
    err = p.error_from_response(
        HttpResponse(
            529,
            {"x-amzn-requestid": "r-1"},
            b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
        )
    )
    assert (type(err), err.error_type, err.request_id) == (
        E.OverloadedError,
        "overloaded_error",
        "r-1",
    )

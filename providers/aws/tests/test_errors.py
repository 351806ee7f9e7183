"""Errors of Claude Platform on AWS: the Claude API's shape, and an AWS front end's
(``x-amzn-ErrorType`` + ``{"message"}``) should the gateway answer so, mapped to the SDK-named
classes and classified, pure and over loopback; the workspace and version checks; request ids."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest
from clauderoute_aws import AWSEmulator, AWSProvider
from clauderoute_aws.emulator import API_KEY, WORKSPACE
from hypothesis import given
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute.provider import Action, ErrorBody, ErrorEvent, HttpResponse
from clauderoute.testing import Fault, no_backoff

PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 8,
          "messages": [{"role": "user", "content": "hello"}]}
PROVIDER = AWSProvider(region="us-west-2", workspace_id=WORKSPACE, api_key=API_KEY)


def _map(status: int, body: object, headers: dict[str, str] | None = None
         ) -> cr.APIStatusError:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return PROVIDER.error_from_response(HttpResponse(status, headers or {}, raw))


@pytest.mark.parametrize(("status", "etype", "cls", "action"), [
    (400, "invalid_request_error", cr.BadRequestError, Action.FATAL),
    (401, "authentication_error", cr.AuthenticationError, Action.FATAL),
    (403, "permission_error", cr.PermissionDeniedError, Action.FATAL),
    (404, "not_found_error", cr.NotFoundError, Action.FATAL),
    (413, "request_too_large", cr.RequestTooLargeError, Action.FATAL),
    (429, "rate_limit_error", cr.RateLimitError, Action.FAILOVER),
    (500, "api_error", cr.InternalServerError, Action.FAILOVER),
    (529, "overloaded_error", cr.OverloadedError, Action.FAILOVER),
])
def test_claude_shape(status: int, etype: str, cls: type[cr.APIStatusError],
                      action: Action) -> None:
    """The Claude API's errors keep their type, message and request id (header first)."""
    body = {"type": "error", "error": {"type": etype, "message": "nope"},
            "request_id": "req_body"}
    err = _map(status, body, {"request-id": "req_header"})
    assert type(err) is cls and (err.error_type, err.message) == (etype, "nope")
    assert (err.request_id, err.platform) == ("req_header", "aws")
    assert PROVIDER.classify(err) is action
    assert _map(status, body).request_id == "req_body"


@pytest.mark.parametrize(("status", "name", "key", "cls"), [
    (403, "AccessDeniedException", "message", cr.PermissionDeniedError),
    (403, "InvalidSignatureException", "Message", cr.PermissionDeniedError),
    (429, "ThrottlingException", "message", cr.RateLimitError),
    (503, "ServiceUnavailableException", "message", cr.InternalServerError),
])
def test_aws_front_end_shape(status: int, name: str, key: str,
                             cls: type[cr.APIStatusError]) -> None:
    """An AWS-shaped answer: the exception name from x-amzn-ErrorType (namespace dropped),
    the message from {"message"} or {"Message"}, the request id from x-amzn-requestid."""
    headers = {"x-amzn-errortype": name + ":http://internal.amazon.com/coral/com.amazon.x/",
               "x-amzn-requestid": "5f0e-aws"}
    err = _map(status, {key: "Outbound web identity federation is disabled for your account"},
               headers)
    assert type(err) is cls and err.error_type == name
    assert err.message == "Outbound web identity federation is disabled for your account"
    assert err.request_id == "5f0e-aws"


def test_undecodable_bodies() -> None:
    """HTML from a proxy, an empty body, or JSON of another shape: the status decides the
    class, the text (capped) is the message."""
    err = _map(502, b"<html>" + b"x" * 500)
    assert isinstance(err, cr.InternalServerError) and len(err.message) == 200
    assert _map(503, b"").message == "HTTP 503"
    assert isinstance(_map(404, [1, 2]), cr.NotFoundError)


@given(st.binary(max_size=300), st.sampled_from([400, 401, 403, 404, 429, 500, 503, 529]),
       st.text(max_size=80), st.text(max_size=40))
def test_any_answer_maps_to_a_status_error(body: bytes, status: int, error_type: str,
                                           retry_after: str) -> None:
    """Whatever bytes and headers arrive (absurd x-amzn-ErrorType, retry-after), the answer is
    an APIStatusError of the status's class."""
    headers = {"x-amzn-errortype": error_type, "retry-after": retry_after}
    err = _map(status, body, headers)
    assert isinstance(err, cr.APIStatusError) and err.status == status
    aws_shaped = _map(status, {"message": "m"}, headers)
    assert aws_shaped.error_type == (error_type.partition(":")[0] or None)


def test_in_stream_error_event() -> None:
    """An SSE error event maps by its type, with this platform's request id."""
    event = ErrorEvent(error=ErrorBody(type="overloaded_error", message="busy"))
    err = PROVIDER.error_from_event(event, {"x-amzn-requestid": "aws-rid"})
    assert isinstance(err, cr.OverloadedError) and err.request_id == "aws-rid"


async def test_faults_over_loopback() -> None:
    """Behind the gateway, the Claude API's faults: 529 retried then raised, with the request
    id and the emulator's rate-limit headers passed through."""
    async with AWSEmulator() as emu:
        emu.faults.add(Fault(status=529), times=3)
        p = AWSProvider(base_url=emu.url, workspace_id=WORKSPACE, api_key=API_KEY)
        async with cr.AsyncClient(providers=[p]) as client:
            with no_backoff(), pytest.raises(cr.OverloadedError) as info:
                await client.messages.create(**PARAMS)
        assert len(emu.requests) == 3 and info.value.request_id.startswith("req_emu")


async def test_workspace_and_version_checks() -> None:
    """No workspace header: 400; a workspace the credential cannot use: 403 permission_error,
    fatal with the provider named; no anthropic-version: 400."""
    async with AWSEmulator() as emu:
        p = AWSProvider(base_url=emu.url, workspace_id="wrkspc_01Other", api_key=API_KEY)
        async with cr.AsyncClient(providers=[p]) as client:
            with pytest.raises(cr.PermissionDeniedError, match="not accessible") as info:
                await client.messages.create(**PARAMS)
        assert info.value.platform == "aws" and len(emu.requests) == 1
        auth = {"authorization": "Bearer " + API_KEY, "anthropic-version": "2023-06-01"}
        async with aiohttp.ClientSession() as raw:
            async with raw.post(emu.url + "/v1/messages", json=PARAMS, headers=auth) as resp:
                assert resp.status == 400
                assert "anthropic-workspace-id" in (await resp.json())["error"]["message"]
            headers = {"authorization": "Bearer " + API_KEY, "anthropic-workspace-id": WORKSPACE}
            async with raw.post(emu.url + "/v1/messages", json=PARAMS, headers=headers) as resp:
                assert resp.status == 400
                assert "anthropic-version" in (await resp.json())["error"]["message"]
            async with raw.get(emu.url + "/v1/models", headers={**headers, **auth}) as resp:
                assert resp.status == 200

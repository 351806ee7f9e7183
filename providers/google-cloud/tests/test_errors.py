"""Errors of both sources — Google's front end and the Claude API's shape behind it — mapped to
the SDK-named classes and classified, pure and over loopback: the emulator's front end refusing
a token, a project, a location, a workspace or a path."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest
from clauderoute_google_cloud import GoogleCloudEmulator, GoogleCloudProvider
from hypothesis import given
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute.provider import Action, HttpResponse
from clauderoute.testing import Fault, no_backoff

TOKEN = "ya29.errors-" + "e" * 24
PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 8,
          "messages": [{"role": "user", "content": "hello"}]}
PROVIDER = GoogleCloudProvider(project="p", workspace_id="w", access_token=TOKEN)


def _map(status: int, body: object, headers: dict[str, str] | None = None
         ) -> cr.APIStatusError:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return PROVIDER.error_from_response(HttpResponse(status, headers or {}, raw))


def _google(status: int, code: str, message: str = "from Google") -> dict[str, object]:
    return {"error": {"code": status, "message": message, "status": code}}


@pytest.mark.parametrize(("status", "code", "cls", "action"), [
    (400, "INVALID_ARGUMENT", cr.BadRequestError, Action.FATAL),
    (401, "UNAUTHENTICATED", cr.AuthenticationError, Action.FATAL),
    (403, "PERMISSION_DENIED", cr.PermissionDeniedError, Action.FATAL),
    (404, "NOT_FOUND", cr.NotFoundError, Action.FATAL),
    (429, "RESOURCE_EXHAUSTED", cr.RateLimitError, Action.FAILOVER),
    (503, "UNAVAILABLE", cr.InternalServerError, Action.FAILOVER),
])
def test_google_shape(status: int, code: str, cls: type[cr.APIStatusError],
                      action: Action) -> None:
    """{"error": {"code", "message", "status"}} maps by status, Google's status as the type."""
    err = _map(status, _google(status, code, "Quota exceeded"))
    assert type(err) is cls and (err.error_type, err.message) == (code, "Quota exceeded")
    assert err.platform == "google-cloud" and PROVIDER.classify(err) is action
    wrapped = _map(status, [_google(status, code, "in an array")])
    assert type(wrapped) is cls and wrapped.message == "in an array"


@pytest.mark.parametrize(("status", "etype", "cls"), [
    (529, "overloaded_error", cr.OverloadedError),
    (413, "request_too_large", cr.RequestTooLargeError),
    (400, "invalid_request_error", cr.BadRequestError),
])
def test_claude_shape(status: int, etype: str, cls: type[cr.APIStatusError]) -> None:
    """Errors from behind the gateway keep the Claude type and request id."""
    body = {"type": "error", "error": {"type": etype, "message": "m"}, "request_id": "req_b"}
    err = _map(status, body, {"request-id": "req_h"})
    assert type(err) is cls and (err.error_type, err.request_id) == (etype, "req_h")
    assert _map(status, body).request_id == "req_b"


@given(st.binary(max_size=300), st.sampled_from([400, 401, 403, 404, 429, 500, 503, 529]))
def test_any_body_maps_to_a_status_error(body: bytes, status: int) -> None:
    """Whatever bytes arrive, the answer is an APIStatusError of the status's class."""
    err = _map(status, body)
    assert isinstance(err, cr.APIStatusError) and err.status == status


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/v1/projects/other/locations/global/workspaces/w1/invoke/v1/messages", 403,
     "PERMISSION_DENIED"),
    ("/v1/projects/p/locations/mars/workspaces/w1/invoke/v1/messages", 404, "NOT_FOUND"),
    ("/v1/projects/p/locations/global/workspaces/w2/invoke/v1/messages", 404, "NOT_FOUND"),
    ("/v1/projects/p/locations/global/workspaces/w1/invoke/v1/complete", 404, "NOT_FOUND"),
])
async def test_front_end_rejections(path: str, status: int, code: str) -> None:
    """A project, location or workspace not served, or a path that does not exist, is
    refused by the front end in Google's shape, with no Anthropic request id."""
    async with GoogleCloudEmulator(project="p", workspaces=["w1"], tokens=[TOKEN]) as emu:
        headers = {"authorization": "Bearer " + TOKEN, "anthropic-version": "2023-06-01"}
        async with aiohttp.ClientSession() as raw, raw.post(emu.root + path, json=PARAMS,
                                                            headers=headers) as resp:
            body = await resp.json()
            assert (resp.status, body["error"]["status"]) == (status, code)
            assert "request-id" not in resp.headers


async def test_token_and_version_checks() -> None:
    """A wrong token: 401 UNAUTHENTICATED with WWW-Authenticate, fatal, the provider named;
    no anthropic-version: the Claude API's 400."""
    async with GoogleCloudEmulator(tokens=[TOKEN]) as emu:
        bad = GoogleCloudProvider(base_url=emu.url, access_token="ya29.wrong")
        async with cr.AsyncClient(providers=[bad]) as client:
            with pytest.raises(cr.AuthenticationError) as info:
                await client.messages.create(**PARAMS)
        assert (info.value.error_type, info.value.platform) == ("UNAUTHENTICATED",
                                                                 "google-cloud")
        async with aiohttp.ClientSession() as raw:
            async with raw.post(emu.url + "/v1/messages", json=PARAMS,
                                headers={"authorization": "Bearer " + TOKEN}) as resp:
                assert resp.status == 400
                assert (await resp.json())["error"]["type"] == "invalid_request_error"
            async with raw.get(emu.url + "/v1/models") as resp:
                assert resp.status == 401 and "www-authenticate" in resp.headers


async def test_model_faults_pass_through() -> None:
    """Behind the gateway, the Claude API's faults: 529 retried, then raised with its type."""
    async with GoogleCloudEmulator(tokens=[TOKEN]) as emu:
        emu.faults.add(Fault(status=529), times=3)
        p = GoogleCloudProvider(base_url=emu.url, access_token=TOKEN)
        async with cr.AsyncClient(providers=[p]) as client:
            with no_backoff(), pytest.raises(cr.OverloadedError) as info:
                await client.messages.create(**PARAMS)
        assert len(emu.requests) == 3 and info.value.error_type == "overloaded_error"

"""Errors of both sources — the Azure front door's own shape and the Claude API's — mapped to the
common classes and classified, pure and over loopback against the emulator."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest
from clauderoute_foundry import FoundryEmulator, FoundryProvider
from hypothesis import given
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute import _errors as E
from clauderoute._provider import Action, HttpResponse
from clauderoute.testing import Fault, no_backoff
from clauderoute.types._stream import ErrorBody, ErrorEvent

KEY = "foundry-errors-key-" + "e" * 20
PARAMS = {"model": "claude-sonnet-4-6", "max_tokens": 8,
          "messages": [{"role": "user", "content": "hello"}]}
APIM = {"apim-request-id": "0f8fad5b-d9cb-469f-a165-70867728950e"}
PROVIDER = FoundryProvider(resource="r", api_key=KEY)


def _map(status: int, body: object, headers: dict[str, str] | None = None) -> E.APIStatusError:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    hdrs = dict(APIM) if headers is None else headers
    return PROVIDER.error_from_response(HttpResponse(status, hdrs, raw))


@pytest.mark.parametrize(("status", "code", "cls"), [
    (401, "401", E.AuthenticationError),
    (401, "PermissionDenied", E.AuthenticationError),
    (403, "PermissionDenied", E.PermissionDeniedError),
    (404, "DeploymentNotFound", E.NotFoundError),
    (404, "api_not_supported", E.NotFoundError),
])
def test_front_door_shape_is_mapped_and_fatal(status: int, code: str,
                                              cls: type[E.APIStatusError]) -> None:
    """Azure's {"error": {"code", "message"}} maps by status, keeps Azure's code, is fatal."""
    err = _map(status, {"error": {"code": code, "message": "Access denied (front door)"}})
    assert type(err) is cls
    assert (err.status, err.error_type, err.message) == (status, code,
                                                         "Access denied (front door)")
    assert err.request_id == APIM["apim-request-id"] and err.platform == "foundry"
    assert PROVIDER.classify(err) is Action.FATAL


def test_api_management_token_shape() -> None:
    """API Management's {"statusCode", "message"} rejection of a token maps to a 401."""
    err = _map(401, {"statusCode": 401, "message": "Unauthorized. Access token is missing"})
    assert isinstance(err, E.AuthenticationError)
    assert (err.error_type, err.message) == ("401", "Unauthorized. Access token is missing")


def test_front_door_throttling_honours_retry_after() -> None:
    """An Azure-shaped 429 with retry-after-ms is a RateLimitError that fails over after it."""
    err = _map(429, {"error": {"code": "429", "message": "Rate limit is exceeded."}},
               {**APIM, "retry-after-ms": "1500"})
    assert isinstance(err, E.RateLimitError) and err.retry_after == 1.5
    assert PROVIDER.classify(err) is Action.FAILOVER


def test_claude_shape_and_request_ids() -> None:
    """Model errors keep the Claude type; the id is apim-request-id, else request-id, else the
    body's request_id."""
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"},
            "request_id": "req_body"}
    err = _map(529, body, {**APIM, "request-id": "req_hdr"})
    assert isinstance(err, E.OverloadedError) and err.error_type == "overloaded_error"
    assert err.request_id == APIM["apim-request-id"]
    assert PROVIDER.classify(err) is Action.FAILOVER
    assert _map(529, body, {"request-id": "req_hdr"}).request_id == "req_hdr"
    assert _map(529, body, {}).request_id == "req_body"
    bad = _map(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                "message": "max_tokens: required"}})
    assert isinstance(bad, E.BadRequestError) and PROVIDER.classify(bad) is Action.FATAL


def test_non_json_body() -> None:
    """A gateway's HTML 502 becomes an InternalServerError carrying the text, failed over."""
    err = _map(502, b"<html><body>502 Bad Gateway</body></html>")
    assert isinstance(err, E.InternalServerError) and "502 Bad Gateway" in err.message
    assert err.error_type is None and PROVIDER.classify(err) is Action.FAILOVER


def test_in_stream_error_event() -> None:
    """An in-stream overloaded_error maps to OverloadedError with Foundry's request id."""
    event = ErrorEvent(error=ErrorBody(type="overloaded_error", message="Overloaded"))
    err = PROVIDER.error_from_event(event, {**APIM, "request-id": "req_x"})
    assert isinstance(err, E.OverloadedError) and err.status == 529
    assert err.request_id == APIM["apim-request-id"] and APIM["apim-request-id"] in str(err)


_text = st.text(max_size=30)
_json_bodies = st.one_of(
    st.fixed_dictionaries({"error": st.fixed_dictionaries(
        {"code": st.one_of(_text, st.integers()), "message": _text})}),
    st.fixed_dictionaries({"type": st.just("error"), "error": st.fixed_dictionaries(
        {"type": _text, "message": _text}), "request_id": st.one_of(st.none(), _text)}),
    st.fixed_dictionaries({"statusCode": st.integers(400, 599), "message": _text}),
    st.recursive(st.none() | st.booleans() | st.integers() | _text,
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.sampled_from(["error", "code", "type", "message"]),
                                   inner, max_size=3), max_leaves=8),
).map(msgspec.json.encode)


@given(status=st.integers(400, 599), body=st.one_of(_json_bodies, st.binary(max_size=64)))
def test_any_error_body_maps_to_its_status_class(status: int, body: bytes) -> None:
    """Whatever the body — either shape, other JSON, bytes — the error class follows the status
    and mapping never raises."""
    err = _map(status, body)
    assert type(err) is E.status_error_class(status)
    assert err.status == status and err.platform == "foundry"
    assert KEY not in str(err)


# --- over loopback, through the emulator's front door -------------------------------------------


async def _create(provider: FoundryProvider) -> object:
    async with cr.AsyncClient(providers=[provider], timeout=5) as client:
        with no_backoff():
            return await client.messages.create(**PARAMS)


async def test_emulator_front_door_rejections() -> None:
    """Wrong key, unknown or forbidden token and unknown deployment come back in Azure's shape as
    the right class, with apim-request-id, each after one request."""
    async with FoundryEmulator(api_key=KEY, forbidden_tokens={"no-role"},
                               deployments={"claude-haiku-4-5"}) as emu:
        cases = [(FoundryProvider(base_url=emu.url, api_key="wrong"), E.AuthenticationError,
                  "401", "invalid subscription key"),
                 (FoundryProvider(base_url=emu.url, credential=lambda: "stale"),
                  E.AuthenticationError, "401", "Access token is missing"),
                 (FoundryProvider(base_url=emu.url, credential=lambda: "no-role"),
                  E.PermissionDeniedError, "PermissionDenied", "does not have access"),
                 (FoundryProvider(base_url=emu.url, api_key=KEY), E.NotFoundError,
                  "DeploymentNotFound", "deployment for this resource does not exist")]
        for provider, cls, code, text in cases:
            emu.requests.clear()
            with pytest.raises(cls) as info:
                await _create(provider)
            assert info.value.error_type == code and text in info.value.message
            assert info.value.request_id is not None
            assert len(info.value.request_id) == 36  # a GUID: the APIM id, not req_…
            assert len(emu.requests) == 1


async def test_emulator_model_errors_and_headers() -> None:
    """Behind the front door: Claude-shaped faults, both request ids, no rate-limit headers, and
    404 api_not_supported for an API Foundry does not serve."""
    async with FoundryEmulator(api_key=KEY) as emu:
        emu.faults.add(Fault(status=529), times=3)
        with pytest.raises(E.OverloadedError) as info:
            await _create(FoundryProvider(base_url=emu.url, api_key=KEY))
        assert info.value.error_type == "overloaded_error" and len(emu.requests) == 3
        headers = {"api-key": KEY, "anthropic-version": "2023-06-01"}
        async with aiohttp.ClientSession() as raw:
            async with raw.post(emu.url + "/v1/messages", headers=headers,
                                data=msgspec.json.encode(PARAMS)) as resp:
                assert resp.status == 200
                assert resp.headers["request-id"].startswith("req_")
                assert len(resp.headers["apim-request-id"]) == 36
                assert not any(h.lower().startswith("anthropic-ratelimit") for h in resp.headers)
            async with raw.get(emu.url + "/v1/models", headers=headers) as resp:
                assert resp.status == 404
                assert (await resp.json())["error"]["code"] == "api_not_supported"
            async with raw.post(emu.url + "/v1/messages", data=msgspec.json.encode(PARAMS),
                                headers={"anthropic-version": "2023-06-01"}) as resp:
                assert resp.status == 401 and "request-id" not in resp.headers
                assert (await resp.json())["error"]["code"] == "401"

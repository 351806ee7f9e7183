"""Errors of both sources — Google's front end and the Claude API shape passed through for model
errors — mapped to the common classes and classified, pure and over loopback."""

from __future__ import annotations

import msgspec
import pytest
from clauderoute_vertex import VertexEmulator, VertexProvider
from hypothesis import given
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute import _errors as E
from clauderoute._provider import Action, HttpResponse
from clauderoute.testing import Fault, no_backoff
from clauderoute.types._stream import ErrorBody, ErrorEvent

TOKEN = "ya29.errors-" + "e" * 24
PARAMS = {"model": "claude-sonnet-4-5", "max_tokens": 8,
          "messages": [{"role": "user", "content": "hello"}]}
RID = {"request-id": "req_vrtx_011CWNNRBUNqzQf9nULgjWuS"}
PROVIDER = VertexProvider(project="p", region="global", access_token=TOKEN)


def _map(status: int, body: object, headers: dict[str, str] | None = None) -> E.APIStatusError:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return PROVIDER.error_from_response(HttpResponse(status, headers or {}, raw))


def _google(status: int, code: str, message: str = "from Google") -> dict[str, object]:
    return {"error": {"code": status, "message": message, "status": code,
                      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo"}]}}


@pytest.mark.parametrize(("status", "code", "cls", "action"), [
    (400, "INVALID_ARGUMENT", E.BadRequestError, Action.FATAL),
    (401, "UNAUTHENTICATED", E.AuthenticationError, Action.FATAL),
    (403, "PERMISSION_DENIED", E.PermissionDeniedError, Action.FATAL),
    (404, "NOT_FOUND", E.NotFoundError, Action.FATAL),
    (429, "RESOURCE_EXHAUSTED", E.RateLimitError, Action.FAILOVER),
    (500, "INTERNAL", E.InternalServerError, Action.FAILOVER),
    (503, "UNAVAILABLE", E.InternalServerError, Action.FAILOVER),
    (504, "DEADLINE_EXCEEDED", E.InternalServerError, Action.FAILOVER),
])
def test_google_shape_is_mapped_and_classified(status: int, code: str,
                                               cls: type[E.APIStatusError],
                                               action: Action) -> None:
    """{"error": {"code", "message", "status"}} maps by status with Google's status as the
    error type; auth, permission and routing errors are fatal, quota and availability fail
    over (504 DEADLINE_EXCEEDED included)."""
    err = _map(status, _google(status, code, "Quota exceeded for aiplatform"))
    assert type(err) is cls
    assert (err.status, err.error_type, err.message) == (status, code,
                                                         "Quota exceeded for aiplatform")
    assert err.platform == "vertex" and err.request_id is None
    assert PROVIDER.classify(err) is action


def test_google_shape_in_an_array() -> None:
    """A streaming method's error wrapped in a one-element JSON array maps the same way."""
    err = _map(429, [_google(429, "RESOURCE_EXHAUSTED", "slow down")])
    assert isinstance(err, E.RateLimitError)
    assert (err.error_type, err.message) == ("RESOURCE_EXHAUSTED", "slow down")
    assert isinstance(_map(503, []), E.InternalServerError)


@pytest.mark.parametrize(("status", "etype", "cls", "action"), [
    (529, "overloaded_error", E.OverloadedError, Action.FAILOVER),
    (500, "api_error", E.InternalServerError, Action.FAILOVER),
    (429, "rate_limit_error", E.RateLimitError, Action.FAILOVER),
    (413, "invalid_request_error", E.RequestTooLargeError, Action.FATAL),
    (400, "invalid_request_error", E.BadRequestError, Action.FATAL),
])
def test_claude_shape_passes_through(status: int, etype: str, cls: type[E.APIStatusError],
                                     action: Action) -> None:
    """Model errors keep the Claude type and request id (header first, else the body's)."""
    body = {"type": "error", "error": {"type": etype, "message": "Overloaded"},
            "request_id": "req_vrtx_body"}
    err = _map(status, body, RID)
    assert type(err) is cls and err.error_type == etype and err.message == "Overloaded"
    assert err.request_id == RID["request-id"]
    assert PROVIDER.classify(err) is action
    assert _map(status, body).request_id == "req_vrtx_body"


def test_retry_hints_and_non_json() -> None:
    """retry-after is honoured on a Google 429; an HTML 502 keeps its text and fails over."""
    err = _map(429, _google(429, "RESOURCE_EXHAUSTED"), {"retry-after": "2"})
    assert err.retry_after == 2.0
    err = _map(502, b"<html><title>502 Server Error</title></html>")
    assert isinstance(err, E.InternalServerError) and "502 Server Error" in err.message
    assert err.error_type is None and PROVIDER.classify(err) is Action.FAILOVER


def test_in_stream_overload() -> None:
    """An in-stream overloaded_error maps to OverloadedError with Vertex's request id."""
    event = ErrorEvent(error=ErrorBody(type="overloaded_error", message="Overloaded"))
    err = PROVIDER.error_from_event(event, RID)
    assert isinstance(err, E.OverloadedError) and err.status == 529
    assert err.request_id == RID["request-id"] and PROVIDER.classify(err) is Action.FAILOVER


_text = st.text(max_size=30)
_json_bodies = st.one_of(
    st.fixed_dictionaries({"error": st.fixed_dictionaries(
        {"code": st.one_of(st.integers(), _text), "message": _text, "status": _text})}),
    st.fixed_dictionaries({"type": st.just("error"), "error": st.fixed_dictionaries(
        {"type": _text, "message": _text}), "request_id": st.one_of(st.none(), _text)}),
    st.recursive(st.none() | st.booleans() | st.integers() | _text,
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.sampled_from(["error", "code", "status", "type",
                                                    "message"]), inner, max_size=3),
                 max_leaves=8),
).map(msgspec.json.encode)


@given(status=st.integers(400, 599), body=st.one_of(_json_bodies, st.binary(max_size=64)))
def test_any_error_body_maps_to_its_status_class(status: int, body: bytes) -> None:
    """Whatever the body — either shape, other JSON, bytes — the class follows the status and
    mapping never raises."""
    err = _map(status, body)
    assert type(err) is E.status_error_class(status)
    assert err.status == status and err.platform == "vertex" and TOKEN not in str(err)


# --- over loopback, through the emulator ---------------------------------------------------------


def _provider(emu: VertexEmulator, name: str = "vertex", token: str = TOKEN) -> VertexProvider:
    return VertexProvider(name=name, base_url=emu.url, project="p", region="global",
                          access_token=token, max_retries=0)


async def test_emulator_front_end_rejections() -> None:
    """Unknown token, wrong project and unknown model come back in Google's shape as the right
    class, fatal: one request each."""
    async with VertexEmulator(project="p", tokens=[TOKEN],
                              models={"claude-sonnet-4-5@20250929"}) as emu:
        cases = [(_provider(emu, token="ya29.unknown"), {}, E.AuthenticationError,
                  "UNAUTHENTICATED", "invalid authentication credentials"),
                 (VertexProvider(base_url=emu.url, project="q", region="global",
                                 access_token=TOKEN), {}, E.PermissionDeniedError,
                  "PERMISSION_DENIED", "aiplatform.endpoints.predict' denied"),
                 (_provider(emu), {"model": "claude-haiku-4-5"}, E.NotFoundError,
                  "NOT_FOUND", "claude-haiku-4-5@20251001` not found")]
        for provider, extra, cls, code, text in cases:
            emu.requests.clear()
            async with cr.AsyncClient(providers=[provider]) as client:
                with pytest.raises(cls) as info:
                    await client.messages.create(**{**PARAMS, **extra})
            assert info.value.error_type == code and text in info.value.message
            assert len(emu.requests) == 1


@pytest.mark.parametrize(("fault", "error_type"), [
    (Fault(status=504), "DEADLINE_EXCEEDED"),
    (Fault(status=429), "RESOURCE_EXHAUSTED"),
    (Fault(status=503), "UNAVAILABLE"),
    (Fault(status=529), "overloaded_error"),
    (Fault(operations=frozenset({"messages.stream"}), stream_error="overloaded_error",
           after_events=1), "overloaded_error"),
])
async def test_faults_fail_over_to_the_next_region(fault: Fault, error_type: str) -> None:
    """Google's 504/429/503, a Claude 529 and an in-stream overload on one region move the call
    to the next provider, the attempt recording the platform's error type."""
    async with VertexEmulator(project="p", tokens=[TOKEN]) as first, \
            VertexEmulator(project="p", tokens=[TOKEN]) as second:
        first.faults.add(fault)
        client = cr.AsyncClient(providers=[_provider(first, "east"), _provider(second, "west")])
        async with client:
            with no_backoff():
                async with client.messages.stream(**PARAMS) as stream:
                    final = await stream.get_final_message()
        assert final.text == "Echo: hello"
        assert stream.route.provider == "west"
        assert [a.error_type for a in stream.route.attempts] == [error_type, None]
        assert len(first.requests) == len(second.requests) == 1


async def test_emulator_error_shapes_on_the_wire() -> None:
    """Front-end faults are Google-shaped without request-id; model faults are Claude-shaped with
    a req_vrtx_ id, and a fault may force either shape through error_type."""
    async with VertexEmulator(project="p", tokens=[TOKEN]) as emu:
        emu.faults.add(Fault(status=504), Fault(status=529),
                       Fault(status=429, error_type="rate_limit_error"))
        seen = []
        for _ in range(3):
            with pytest.raises(E.APIStatusError) as info:
                async with cr.AsyncClient(providers=[_provider(emu)]) as client:
                    await client.messages.create(**PARAMS)
            seen.append((info.value.status, info.value.error_type,
                         (info.value.request_id or "")[:9]))
        assert seen == [(504, "DEADLINE_EXCEEDED", ""), (529, "overloaded_error", "req_vrtx_"),
                        (429, "rate_limit_error", "req_vrtx_")]

"""The SDK-shaped surface: the error tree, constructors, with_options, raw responses, dumps,
and the route as a declared attribute (async client, emulators on the test's loop)."""

from __future__ import annotations

import msgspec
import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute.testing import Fault
from clauderoute.types import Message, RouteInfo
from clauderoute.types._messages import decode_message

MODEL = "claude-haiku-4-5"
HELLO = [{"role": "user", "content": "Hello there"}]
KEY = "test-anthropic-key"


@pytest.fixture
async def emu() -> AnthropicEmulator:
    """A Claude API emulator for one test."""
    server = AnthropicEmulator()
    await server.start()
    yield server  # type: ignore[misc]
    await server.stop()


def one(emu: AnthropicEmulator, **kw: object) -> cr.AsyncClient:
    return cr.AsyncClient(providers=[AnthropicProvider(base_url=emu.url, api_key=KEY,
                                                       max_retries=0)], **kw)  # type: ignore[arg-type]


# --- the error tree -------------------------------------------------------------------------

# (class, what `except` clauses written for the SDK must catch it)
PLACES = [
    (cr.InvalidRequestError, (cr.BadRequestError, cr.APIStatusError, cr.APIError, ValueError)),
    (cr.CapabilityError, (cr.BadRequestError, cr.APIStatusError, cr.APIError)),
    (cr.RequestTooLargeError, (cr.APIStatusError, cr.APIError)),
    (cr.OverloadedError, (cr.InternalServerError, cr.APIStatusError, cr.APIError)),
    (cr.ConnectError, (cr.APIConnectionError, cr.APIError)),
    (cr.ConnectTimeoutError, (cr.APITimeoutError, cr.APIConnectionError, cr.APIError)),
    (cr.ReadTimeoutError, (cr.APITimeoutError, cr.APIConnectionError, cr.APIError)),
    (cr.DeadlineExceededError, (cr.APITimeoutError, cr.APIConnectionError, cr.APIError)),
    (cr.MalformedResponseError, (cr.APIError,)),
    (cr.StreamInterruptedError, (cr.APIError,)),
    (cr.AllPlatformsFailedError, (cr.APIError,)),
]


@pytest.mark.parametrize(("cls", "bases"), PLACES, ids=[c.__name__ for c, _ in PLACES])
def test_each_error_sits_where_sdk_handlers_catch_it(cls: type, bases: tuple[type, ...]) -> None:
    """Every error of ours is caught by the SDK handlers that catch its SDK counterpart."""
    for base in bases:
        assert issubclass(cls, base), base


def test_what_is_not_a_request_failure() -> None:
    """Configuration mistakes are not APIErrors (the SDK raises them outside requests too);
    timeouts are not status errors; local errors are marked local."""
    assert not issubclass(cr.ConfigurationError, cr.APIError)
    assert not issubclass(cr.APITimeoutError, cr.APIStatusError)
    assert issubclass(cr.InvalidRequestError, cr.RequestError)
    assert not issubclass(cr.RequestTooLargeError, cr.RequestError)  # a 413 may come back too


def test_old_names_are_aliases_for_one_release() -> None:
    """The 0.1 names are the same classes under their new names."""
    pairs = {cr.InvalidRequest: cr.InvalidRequestError, cr.RequestTooLarge:
             cr.RequestTooLargeError, cr.ContentTooLargeError: cr.RequestTooLargeError,
             cr.MalformedResponse: cr.MalformedResponseError, cr.TransportError:
             cr.APIConnectionError, cr.ConnectTimeout: cr.ConnectTimeoutError,
             cr.ReadTimeout: cr.ReadTimeoutError, cr.DeadlineExceeded: cr.DeadlineExceededError,
             cr.StreamInterrupted: cr.StreamInterruptedError,
             cr.AllPlatformsFailed: cr.AllPlatformsFailedError}
    for old, new in pairs.items():
        assert old is new
    assert all(n.endswith("Error") or n == "AllPlatformsFailed" or (
        n.endswith("Warning") and issubclass(getattr(cr, n), Warning)) or n in {
        "InvalidRequest", "RequestTooLarge", "MalformedResponse", "ConnectTimeout",
        "ReadTimeout", "DeadlineExceeded", "StreamInterrupted"}
        for n in cr.__all__ if isinstance(getattr(cr, n), type)
        and issubclass(getattr(cr, n), BaseException))


async def test_local_validation_is_a_400_before_sending(emu: AnthropicEmulator) -> None:
    """An invalid request raises BadRequestError (status 400, the API's error body) naming the
    field, and nothing is sent."""
    async with one(emu) as client:
        with pytest.raises(cr.BadRequestError) as info:
            await client.messages.create(model=MODEL, max_tokens="many",  # type: ignore[call-overload]
                                         messages=HELLO)
    err = info.value
    assert isinstance(err, cr.InvalidRequestError) and err.field == "max_tokens"
    assert err.status_code == 400 and err.platform is None
    assert err.body["error"]["type"] == "invalid_request_error"
    assert emu.requests == []


async def test_request_too_large_is_one_class_local_or_remote(emu: AnthropicEmulator) -> None:
    """A body over the provider's limit is refused locally, and a 413 from the platform is the
    same class."""
    big = [{"role": "user", "content": "x" * (33 * 1024 * 1024)}]
    async with one(emu) as client:
        with pytest.raises(cr.RequestTooLargeError) as local:
            await client.messages.create(model=MODEL, max_tokens=8, messages=big)
        emu.faults.add(Fault(status=413))
        with pytest.raises(cr.RequestTooLargeError) as remote:
            await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert local.value.size is not None and local.value.status_code == 413
    assert remote.value.size is None and remote.value.platform == "anthropic"
    assert len(emu.requests) == 1


async def test_status_errors_carry_body_and_response(emu: AnthropicEmulator) -> None:
    """e.body is the decoded error body; e.response has the status and every header."""
    emu.faults.add(Fault(status=429, message="slow down", retry_after=0))
    async with one(emu) as client:
        with pytest.raises(cr.RateLimitError) as info:
            await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    err = info.value
    assert err.body["error"] == {"type": "rate_limit_error", "message": "slow down"}
    assert err.response is not None and err.response.status_code == 429
    assert err.response.headers["anthropic-ratelimit-requests-limit"] == "4000"
    assert err.request_id == err.response.headers["request-id"] and err.type == err.error_type


async def test_stream_errors_carry_the_body_too(emu: AnthropicEmulator) -> None:
    """An error answer to a stream request has its body (the SSE path reads it)."""
    emu.faults.add(Fault(status=400, message="bad thing"))
    async with one(emu) as client:
        with pytest.raises(cr.BadRequestError) as info:
            async with client.messages.stream(model=MODEL, max_tokens=8, messages=HELLO):
                pass
    assert info.value.body["error"]["message"] == "bad thing"


async def test_connection_refused_is_an_api_connection_error() -> None:
    """Nothing listening: APIConnectionError, as the SDK raises."""
    client = cr.AsyncClient(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(cr.APIConnectionError):
        await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    await client.close()


# --- constructors -----------------------------------------------------------------------------


async def test_no_arguments_reads_the_sdk_environment(emu: AnthropicEmulator,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: object) -> None:
    """AsyncClient() with no file uses ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL."""
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emu.url)
    async with cr.AsyncClient() as client:
        msg = await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert msg.route is not None and emu.requests[-1].headers["x-api-key"] == KEY


async def test_no_arguments_reads_the_config_file(emu: AnthropicEmulator,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: object) -> None:
    """AsyncClient() reads ./clauderoute.toml; a constructor argument wins over the file."""
    from pathlib import Path

    here = Path(str(tmp_path))
    (here / "clauderoute.toml").write_text(
        f'[providers.direct]\nkind = "anthropic"\nbase_url = "{emu.url}"\napi_key = "{KEY}"\n'
        "[route]\ndeadline_s = 42\n")
    monkeypatch.chdir(here)
    client = cr.AsyncClient(first_token_timeout=3.0)
    assert [p.name for p in client.providers] == ["direct"]
    assert client.router.deadline_s == 42 and client.router.first_token_timeout_s == 3.0
    assert (await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)).text
    await client.close()


def test_explicit_credentials_are_total(monkeypatch: pytest.MonkeyPatch) -> None:
    """auth_token= is used even when ANTHROPIC_API_KEY is set (the SDK reads no environment
    credential once one is given)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "env-key")
    client = cr.AsyncClient(auth_token="tok", base_url="http://127.0.0.1:1")
    (p,) = client.providers
    assert p.auth.kind == "bearer" and p.base_url == "http://127.0.0.1:1"


def test_constructor_refusals() -> None:
    """Mixing providers= with api_key=, a non-number timeout, a negative max_retries, and no
    credential anywhere are clear errors."""
    p = AnthropicProvider(api_key=KEY)
    with pytest.raises(cr.ConfigurationError, match="either providers="):
        cr.AsyncClient(providers=[p], api_key=KEY)
    with pytest.raises(cr.ConfigurationError, match="timeout: must be a number"):
        cr.AsyncClient(providers=[p], timeout=object())  # type: ignore[arg-type]
    with pytest.raises(cr.ConfigurationError, match="max_retries"):
        cr.AsyncClient(providers=[p], max_retries=-1)
    with pytest.raises(cr.ConfigurationError, match="no credential"):
        cr.AsyncClient()


async def test_with_options_shares_the_pool(emu: AnthropicEmulator) -> None:
    """with_options copies settings onto the same engine and breakers, leaving the original
    unchanged; default headers add up."""
    client = one(emu, default_headers={"x-a": "1"})
    copy = client.with_options(timeout=12.0, max_retries=4, default_headers={"x-b": "2"})
    assert copy.engine is client.engine and copy.router.breaker is client.router.breaker
    assert copy.router.timeout_s == 12.0 and client.router.timeout_s == 600.0
    assert copy.providers[0].max_retries == 4 and client.providers[0].max_retries == 0
    await copy.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    sent = emu.requests[-1].headers
    assert sent["x-a"] == "1" and sent["x-b"] == "2"
    await client.close()


async def test_per_call_options_are_checked(emu: AnthropicEmulator) -> None:
    """A per-call timeout must be a number; extra_query is refused (no Messages endpoint takes
    one); user_profile_id / workspace_id travel as the SDK's headers."""
    async with one(emu) as client:
        with pytest.raises(cr.InvalidRequestError, match="^timeout"):
            await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO,
                                         timeout="5")  # type: ignore[call-overload]
        with pytest.raises(cr.InvalidRequestError, match="^extra_query"):
            await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO,
                                         extra_query={"a": "b"})
        await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO,
                                     workspace_id="wrk_1", user_profile_id="up_1")
    sent = emu.requests[-1]
    assert sent.headers["anthropic-workspace-id"] == "wrk_1"
    assert sent.headers["anthropic-user-profile-id"] == "up_1"
    assert b"workspace_id" not in sent.body and b"user_profile_id" not in sent.body


# --- answers ----------------------------------------------------------------------------------


async def test_route_is_declared_and_never_encoded(emu: AnthropicEmulator) -> None:
    """msg.route is set on the answer, but never encoded, dumped or compared."""
    async with one(emu) as client:
        msg = await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert isinstance(msg.route, RouteInfo) and msg.route.provider == "anthropic"
    assert b"route" not in msgspec.json.encode(msg) and "route" not in msg.to_dict()
    again = decode_message(msg.to_json().encode())
    assert again.route is None and again == msg
    assert "_route" not in msg.__dict__ and "route" in vars(Message)


async def test_dumps_are_the_wire_json(emu: AnthropicEmulator) -> None:
    """model_dump()/to_dict() give what the platform sent, unknown keys included; a streamed
    message dumps the same keys; to_json() indents by 2 as the SDK's does."""
    emu.responder = lambda params, model, mid: {
        "id": mid, "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": "hi"}, {"type": "brand_new_block", "x": 1}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1, "new_usage": 7},
        "brand_new_field": {"x": 1}}
    async with one(emu) as client:
        msg = await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
        async with client.messages.stream(model=MODEL, max_tokens=8, messages=HELLO) as s:
            streamed = await s.get_final_message()
    dumped = msg.model_dump()
    assert dumped["brand_new_field"] == {"x": 1} and dumped["stop_sequence"] is None
    assert dumped["content"][1] == {"type": "brand_new_block", "x": 1}
    assert dumped["usage"]["new_usage"] == 7
    assert msg.to_dict() == dumped and msg.to_json().startswith('{\n  "id": ')
    assert set(streamed.to_dict()) >= {"id", "type", "role", "model", "content",
                                       "stop_reason", "stop_sequence", "usage"}
    assert streamed.to_dict()["content"] == dumped["content"]


async def test_raw_response_and_raw_events(emu: AnthropicEmulator) -> None:
    """with_raw_response gives status, case-insensitive headers and the parsed message;
    create(stream=True) gives the raw events, closable."""
    async with one(emu) as client:
        raw = await client.messages.with_raw_response.create(model=MODEL, max_tokens=8,
                                                             messages=HELLO)
        msg = await raw.parse()
        assert raw.status_code == 200 and raw.headers["Request-Id"] == raw.request_id
        assert msg.route is not None and (await raw.json())["id"] == msg.id
        count = await client.messages.with_raw_response.count_tokens(model=MODEL,
                                                                     messages=HELLO)
        assert (await count.parse()).input_tokens > 0 and count.request_id
        stream = await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO,
                                              stream=True)
        first = await stream.__anext__()
        await stream.close()
        with pytest.raises(cr.InvalidRequestError, match="^stream"):
            await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO,
                                         stream="yes")  # type: ignore[call-overload]
    assert first.type == "message_start" and stream.route.provider == "anthropic"


async def test_get_final_text_and_a_tool_only_answer(emu: AnthropicEmulator) -> None:
    """get_final_text joins the text; an answer with no text says so."""
    tools = [{"name": "lookup", "input_schema": {"type": "object"}}]
    async with one(emu) as client:
        async with client.messages.stream(model=MODEL, max_tokens=8, messages=HELLO) as s:
            assert await s.get_final_text() == "Echo: Hello there"
        async with client.messages.stream(
                model=MODEL, max_tokens=8, tools=tools,  # type: ignore[arg-type]
                messages=[{"role": "user", "content": "[[tool]] use the tool"}]) as s:
            with pytest.raises(RuntimeError, match="tool_use"):
                await s.get_final_text()

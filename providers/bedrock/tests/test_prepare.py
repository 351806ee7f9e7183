"""Shaping of Bedrock requests (pure): the model id in the path (base ids, inference profiles,
ARNs) encoded so the signed path is the one sent, the native body (version and betas inside),
CountTokens' wrapped body, inference-profile choice per region, SigV4 and bearer headers,
the Messages-API endpoint, capabilities before any network."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec
import pytest
import yarl
from clauderoute_bedrock import BedrockEmulator, BedrockProvider
from clauderoute_bedrock._provider import model_path
from clauderoute_bedrock.emulator import ACCESS_KEY, API_KEY, SECRET_KEY
from hypothesis import given
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute._errors import CapabilityError, ConfigurationError
from clauderoute._provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpRequest
from clauderoute._sse import SSEEventDecoder

MESSAGES = [{"role": "user", "content": "hi"}]
PARAMS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 9, "messages": MESSAGES,
                          "future_field": [1]}
BASE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
ARN = ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"
       "a1b2c3d4e5f6")


def _provider(**kw: Any) -> BedrockProvider:
    kw.setdefault("region", "us-east-1")
    if "access_key" not in kw and "credentials" not in kw:
        kw.setdefault("api_key", API_KEY)
    return BedrockProvider(**kw)


async def _prepare(p: BedrockProvider, operation: str = CREATE, **params: Any) -> HttpRequest:
    return await p.prepare(Call(operation=operation, params={**PARAMS, **params}))


def _path(req: HttpRequest) -> str:
    return urlsplit(req.url).path


@pytest.mark.parametrize(("model", "segment"), [
    (BASE, "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("us." + BASE, "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("global." + BASE, "global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    (ARN, "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile%2Fa1b2c3d4e5f6"),
])
async def test_model_ids_in_the_path(model: str, segment: str) -> None:
    """Base ids, inference profiles and ARNs (their `/` encoded) as one path segment."""
    p = _provider(models={"claude-sonnet-4-5": model})
    req = await _prepare(p)
    assert req.url == f"https://bedrock-runtime.us-east-1.amazonaws.com/model/{segment}/invoke"
    assert unquote(_path(req).split("/")[2]) == model


@given(st.text(min_size=1, max_size=40).filter(
    lambda s: s.partition(";")[0] not in ("", ".", "..")))
def test_signed_path_is_the_path_sent(model_id: str) -> None:
    """For any id, the encoded path survives aiohttp's URL normalisation (yarl) unchanged, so
    the SigV4 signature covers exactly the path that goes on the wire."""
    path = f"/model/{model_path(model_id)}/invoke"
    assert yarl.URL("https://h" + path).raw_path == path
    assert unquote(path.split("/")[2]) == model_id


@pytest.mark.parametrize("bad", ["", ".", "..", ";x"])
def test_dot_segments_refused(bad: str) -> None:
    """An id that would change the path's meaning is refused (as the SDK refuses it)."""
    with pytest.raises(ConfigurationError):
        model_path(bad)


async def test_native_body_version_and_betas() -> None:
    """model and stream leave the body; anthropic_version and the anthropic_beta list go in;
    unknown fields stay; no anthropic-version or anthropic-beta header."""
    p = _provider()
    req = await p.prepare(Call(operation=CREATE, params={**PARAMS, "stream": False},
                               betas=("context-1m-2025-08-07", "effort-2025-11-24"),
                               extra_headers={"x-trace": "t"}))
    assert msgspec.json.decode(req.body) == {
        "max_tokens": 9, "messages": MESSAGES, "future_field": [1],
        "anthropic_version": "bedrock-2023-05-31",
        "anthropic_beta": ["context-1m-2025-08-07", "effort-2025-11-24"]}
    assert req.headers == {"accept": "application/json", "content-type": "application/json",
                           "x-trace": "t", "authorization": "Bearer " + API_KEY}


async def test_version_override_and_extra_body_wins() -> None:
    """anthropic_version is configurable; a caller's own body value wins (as in the SDK)."""
    req = await _prepare(_provider(anthropic_version="bedrock-2025-01-01"))
    assert msgspec.json.decode(req.body)["anthropic_version"] == "bedrock-2025-01-01"
    req = await _prepare(_provider(), anthropic_version="mine")
    assert msgspec.json.decode(req.body)["anthropic_version"] == "mine"


async def test_stream_and_count_tokens_paths() -> None:
    """Streams go to /invoke-with-response-stream; CountTokens wraps the InvokeModel body in
    base64 under input.invokeModel.body."""
    p = _provider(models={"claude-sonnet-4-5": BASE})
    req = await _prepare(p, STREAM)
    assert _path(req) == f"/model/{BASE}/invoke-with-response-stream"
    assert req.headers["accept"] == "application/vnd.amazon.eventstream"
    assert "stream" not in msgspec.json.decode(req.body)
    req = await p.prepare(Call(operation=COUNT_TOKENS, params={
        "model": "claude-sonnet-4-5", "messages": MESSAGES}))
    assert _path(req) == f"/model/{BASE}/count-tokens"
    inner = msgspec.json.decode(req.body)["input"]["invokeModel"]["body"]
    assert msgspec.json.decode(base64.b64decode(inner)) == {
        "messages": MESSAGES, "anthropic_version": "bedrock-2023-05-31", "max_tokens": 1}


@pytest.mark.parametrize(("region", "choice", "model_id"), [
    ("us-east-1", "auto", "us." + BASE),
    ("us-west-2", "auto", "us." + BASE),
    ("eu-central-1", "auto", "eu." + BASE),
    ("ap-northeast-1", "auto", "apac." + BASE),
    ("sa-east-1", "auto", BASE),
    ("eu-west-1", "global", "global." + BASE),
    ("ap-northeast-1", "jp", "jp." + BASE),
    ("us-east-1", "none", BASE),
])
def test_inference_profile_from_region(region: str, choice: str, model_id: str) -> None:
    """The catalog's bedrock_profile models get a cross-region profile chosen from the region
    (or as configured); ids given in models= are used as given."""
    p = _provider(region=region, inference_profile=choice)
    assert p.model_id("claude-sonnet-4-5") == model_id
    assert p.model_id("some-unknown-model") == "some-unknown-model"
    given_id = _provider(region=region, models={"claude-sonnet-4-5": BASE})
    assert given_id.model_id("claude-sonnet-4-5") == BASE


async def test_sigv4_headers_for_the_host_used() -> None:
    """SigV4: Authorization scoped to region and service `bedrock`, X-Amz-Date, every header
    signed including host — for a custom endpoint too; a session token goes in
    X-Amz-Security-Token and is signed."""
    p = _provider(region="eu-west-3", access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                  session_token="tok-123", base_url="https://vpce-1.bedrock.example:8443")
    req = await _prepare(p)
    assert req.url.startswith("https://vpce-1.bedrock.example:8443/model/")
    auth = req.headers["Authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert "/eu-west-3/bedrock/aws4_request" in auth
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert signed == ["accept", "content-type", "host", "x-amz-date", "x-amz-security-token"]
    assert req.headers["X-Amz-Security-Token"] == "tok-123"
    assert SECRET_KEY not in repr(req) and "tok-123" not in repr(req)


def test_credentials_from_settings_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """An API key from AWS_BEARER_TOKEN_BEDROCK; explicit AWS keys win over it; both given
    explicitly is an error; region from AWS_REGION, else us-east-1."""
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", API_KEY)
    assert BedrockProvider().auth.kind == "api_key"
    # an API key never waits in prepare (no timer armed around it); SigV4 may resolve keys
    assert BedrockProvider().prepare_may_block is False
    assert BedrockProvider().region == "us-east-1"
    p = BedrockProvider(access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    assert p.auth.kind == "sigv4" and p.prepare_may_block is True
    with pytest.raises(ConfigurationError, match="api_key or AWS credentials"):
        BedrockProvider(api_key=API_KEY, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert BedrockProvider().base_url == "https://bedrock-runtime.eu-central-1.amazonaws.com"
    with pytest.raises(ConfigurationError, match="region"):
        BedrockProvider(region="us-east-1.evil.com/")
    with pytest.raises(ConfigurationError, match="endpoint"):
        BedrockProvider(endpoint="converse")
    assert API_KEY not in repr(BedrockProvider()) + repr(BedrockProvider().auth)


async def test_mantle_endpoint() -> None:
    """The Messages-API endpoint: Claude API path and body (model kept, version header) at
    bedrock-mantle.{region}.api.aws/anthropic, signed for service bedrock-mantle."""
    p = _provider(region="us-west-2", endpoint="mantle", access_key=ACCESS_KEY,
                  secret_key=SECRET_KEY, models={"claude-sonnet-4-5": "anthropic.claude-x"})
    req = await _prepare(p, STREAM)
    assert req.url == "https://bedrock-mantle.us-west-2.api.aws/anthropic/v1/messages"
    body = msgspec.json.decode(req.body)
    assert body["model"] == "anthropic.claude-x" and body["stream"] is True
    assert "anthropic_version" not in body
    assert "/us-west-2/bedrock-mantle/aws4_request" in req.headers["Authorization"]
    decoder = p.stream_decoder(Call(operation=STREAM, params=PARAMS))
    assert isinstance(decoder, SSEEventDecoder) and decoder.claude_sse  # SSE, forwarded as is


async def test_capabilities_before_network() -> None:
    """A beta Bedrock does not know and an operation it does not serve fail before any
    request, naming the platform."""
    async with BedrockEmulator() as emu:
        p = BedrockProvider(base_url=emu.url, api_key=API_KEY)
        with pytest.raises(CapabilityError, match="Amazon Bedrock.*beta made-up-beta"):
            await p.prepare(Call(operation=CREATE, params=dict(PARAMS),
                                 betas=("made-up-beta",)))
        with pytest.raises(CapabilityError, match="messages.batches.create"):
            await p.prepare(Call(operation="messages.batches.create", params=dict(PARAMS)))
        async with cr.AsyncClient(providers=[p]) as client:
            with pytest.raises(CapabilityError):
                await client.messages.create(model="claude-sonnet-4-5", max_tokens=5,
                                             messages=MESSAGES, betas=["made-up-beta"])
        assert emu.requests == []
        wider = BedrockProvider(base_url=emu.url, api_key=API_KEY, betas=["made-up-beta"])
        req = await wider.prepare(Call(operation=CREATE, params=dict(PARAMS),
                                       betas=("made-up-beta",)))
        assert msgspec.json.decode(req.body)["anthropic_beta"] == ["made-up-beta"]


async def test_from_config_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """kind = "bedrock" in a TOML file: entry-point discovery, typed settings, a working
    client against the emulator."""
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", API_KEY)
    async with BedrockEmulator() as emu:
        path = tmp_path / "clauderoute.toml"
        path.write_text(f'[providers.aws]\nkind = "bedrock"\nregion = "eu-west-1"\n'
                        f'base_url = "{emu.url}"\ninference_profile = "global"\n'
                        f'betas = ["context-1m-2025-08-07"]\n')
        async with cr.AsyncClient.from_config(path) as client:
            (provider,) = client.providers
            assert isinstance(provider, BedrockProvider) and provider.name == "aws"
            msg = await client.messages.create(model="claude-sonnet-4-5", max_tokens=8,
                                               messages=MESSAGES)
        assert msg.text == "Echo: hi"
        assert unquote(emu.requests[0].path) == f"/model/global.{BASE}/invoke"

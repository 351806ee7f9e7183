"""Shaping of Claude Platform on AWS requests (pure): the endpoint from region or base_url, the
Claude API's paths and body with first-party model ids, the workspace header, an API key as a
bearer token or a SigV4 signature (service, region, signed headers), resource routes, the
environment chain and the settings refused before any call."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from clauderoute_aws import AWSProvider
from clauderoute_aws.emulator import ACCESS_KEY, SECRET_KEY

import clauderoute as cr
from clauderoute._config import client_settings
from clauderoute.provider import (
    COUNT_TOKENS,
    CREATE,
    FILES_RETRIEVE,
    MODELS_LIST,
    STREAM,
    Call,
    HttpRequest,
)

KEY = "sk-ant-aws-prepare-" + "p" * 20
WS = "wrkspc_01Prepare"
PARAMS: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 9,
                          "messages": [{"role": "user", "content": "hi"}], "future_field": [1]}
ROOT = "https://aws-external-anthropic.us-west-2.api.aws"
_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)"
                   r"/(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
                   r"Signature=(?P<sig>[0-9a-f]{64})")


async def _prepare(p: AWSProvider, operation: str = CREATE, **params: Any) -> HttpRequest:
    return await p.prepare(Call(operation=operation, params={**PARAMS, **params}))


async def test_api_key_create() -> None:
    """A create: the regional endpoint, the Claude API's path and body (first-party id), the
    key as a bearer token, the workspace header, anthropic-version, no beta."""
    p = AWSProvider(region="us-west-2", workspace_id=WS, api_key=KEY)
    req = await _prepare(p)
    assert (req.method, req.url) == ("POST", ROOT + "/v1/messages")
    assert req.headers == {"accept": "application/json", "content-type": "application/json",
                           "anthropic-version": "2023-06-01", "anthropic-workspace-id": WS,
                           "authorization": "Bearer " + KEY}
    assert msgspec.json.decode(req.body) == PARAMS
    assert p.prepare_may_block is False and p.signs_body is False


async def test_stream_count_tokens_betas_and_models() -> None:
    """Stream adds stream: true, count_tokens has its path, betas and extra headers pass, a
    catalog name keeps its Claude API id, `models` overrides it, and the client's workspace
    wins over a per-call header (as the SDK's)."""
    p = AWSProvider(base_url="https://gw.example.test/", region="eu-west-1", workspace_id=WS,
                    api_key=KEY, models={"claude-opus-4-1": "my-opus"})
    req = await p.prepare(Call(operation=STREAM, params=dict(PARAMS), betas=("b1", "b2"),
                               extra_headers={"x-trace": "t", "anthropic-workspace-id": "other"}))
    body = msgspec.json.decode(req.body)
    assert body["stream"] is True and body["model"] == "claude-haiku-4-5"
    assert req.url == "https://gw.example.test/v1/messages"
    assert req.headers["anthropic-beta"] == "b1,b2" and req.headers["x-trace"] == "t"
    assert req.headers["anthropic-workspace-id"] == WS
    req = await p.prepare(Call(operation=COUNT_TOKENS, params={"model": "claude-opus-4-1",
                                                               "messages": []}))
    assert req.url == "https://gw.example.test/v1/messages/count_tokens"
    assert msgspec.json.decode(req.body) == {"model": "my-opus", "messages": []}
    assert p.model_id("claude-haiku-4-5") == "claude-haiku-4-5"
    assert p.model_id("not-in-the-catalog") == "not-in-the-catalog"


async def test_sigv4_headers() -> None:
    """SigV4: scope (key, today, region, aws-external-anthropic), every header signed plus
    host, the session token sent, the API key header absent; the emulator-independent shape."""
    p = AWSProvider(region="eu-central-1", workspace_id=WS, access_key=ACCESS_KEY,
                    secret_key=SECRET_KEY, session_token="tok-1")
    assert p.prepare_may_block is True  # the keys are not resolved yet: prepare may wait
    req = await _prepare(p)
    assert req.url == "https://aws-external-anthropic.eu-central-1.api.aws/v1/messages"
    m = _AUTH.fullmatch(req.headers["Authorization"])
    assert m is not None
    assert (m["akid"], m["region"], m["service"]) == (ACCESS_KEY, "eu-central-1",
                                                      "aws-external-anthropic")
    assert req.headers["X-Amz-Date"].startswith(m["day"])
    assert req.headers["X-Amz-Security-Token"] == "tok-1"
    assert m["signed"].split(";") == sorted(
        ["accept", "anthropic-version", "anthropic-workspace-id", "content-type", "host",
         "x-amz-date", "x-amz-security-token"])
    assert [k for k in req.headers if k.lower() == "authorization"] == ["Authorization"]
    # resolved static keys are never due: no timer around the next prepare
    assert p.prepare_may_block is False and p.signs_body is True


async def test_sigv4_replaces_a_callers_auth_headers() -> None:
    """Authorization / X-Amz-* passed as extra headers are replaced, not signed twice."""
    p = AWSProvider(region="us-west-2", workspace_id=WS, access_key=ACCESS_KEY,
                    secret_key=SECRET_KEY)
    req = await p.prepare(Call(operation=CREATE, params=dict(PARAMS), extra_headers={
        "authorization": "Bearer stale", "x-amz-date": "19990101T000000Z"}))
    assert {k.lower() for k in req.headers}.isdisjoint({"x-amz-security-token"})
    assert [k for k in req.headers if k.lower() == "authorization"] == ["Authorization"]
    assert [k for k in req.headers if k.lower() == "x-amz-date"] == ["X-Amz-Date"]


async def test_resource_routes() -> None:
    """Models and files use the Claude API's routes under the endpoint, with the workspace."""
    p = AWSProvider(region="us-west-2", workspace_id=WS, api_key=KEY)
    req = await p.prepare(Call(operation=MODELS_LIST, params={"query": {"limit": 5}}))
    assert (req.method, req.url, req.body) == ("GET", ROOT + "/v1/models?limit=5", b"")
    assert "content-type" not in req.headers and req.headers["anthropic-workspace-id"] == WS
    req = await p.prepare(Call(operation=FILES_RETRIEVE,
                               params={"path": {"file_id": "file_a/b"}}))
    assert req.url == ROOT + "/v1/files/file_a%2Fb"


async def test_environment_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS_REGION / AWS_DEFAULT_REGION, ANTHROPIC_AWS_BASE_URL, _API_KEY and _WORKSPACE_ID are
    read; arguments win over them; AWS keys, a profile or credentials win over the key's env."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    monkeypatch.setenv("ANTHROPIC_AWS_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_AWS_WORKSPACE_ID", WS)
    p = AWSProvider()
    assert (p.base_url, p.region, p.workspace_id, p.auth.kind) == (
        "https://aws-external-anthropic.ap-south-1.api.aws", "ap-south-1", WS, "api_key")
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    assert AWSProvider().region == "us-east-2"
    assert AWSProvider(region="sa-east-1", workspace_id="w2").workspace_id == "w2"
    assert AWSProvider(access_key=ACCESS_KEY, secret_key=SECRET_KEY).auth.kind == "sigv4"
    assert AWSProvider(profile="dev").auth.kind == "sigv4"
    monkeypatch.setenv("ANTHROPIC_AWS_BASE_URL", "http://127.0.0.1:9")
    assert AWSProvider().base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(("settings", "match"), [
    ({"region": "us-west-2", "api_key": KEY}, "no workspace"),
    ({"workspace_id": WS, "api_key": KEY}, "no region"),
    ({"workspace_id": WS, "base_url": ROOT}, "SigV4 needs a region"),
    ({"region": "https://x.test", "workspace_id": WS, "api_key": KEY}, "region must be"),
    ({"region": "us-west-2", "workspace_id": "ws\r\nx: y", "api_key": KEY},
     "workspace_id must be"),
    ({"region": "us-west-2", "workspace_id": WS, "access_key": ACCESS_KEY}, "both access_key"),
    ({"region": "us-west-2", "workspace_id": WS, "api_key": KEY, "profile": "p"},
     "api_key or AWS credentials"),
])
def test_bad_settings_are_named(settings: dict[str, Any], match: str) -> None:
    """Missing or contradictory settings fail at construction, naming the setting."""
    with pytest.raises(cr.ConfigurationError, match=match):
        AWSProvider(**settings)


async def test_no_secret_in_reprs() -> None:
    """Neither the key nor the secret, token or signature shows in a repr."""
    p = AWSProvider(region="us-west-2", workspace_id=WS, api_key=KEY)
    req = await _prepare(p)
    assert all(KEY not in t for t in (repr(p), repr(p.auth), repr(req), str(req)))
    assert repr(p) == ("<AWSProvider name='aws' region='us-west-2' "
                       f"workspace_id='{WS}' auth='api_key'>")
    s = AWSProvider(region="us-west-2", workspace_id=WS, access_key=ACCESS_KEY,
                    secret_key=SECRET_KEY, session_token="session-canary-token")
    req = await _prepare(s)
    sig = req.headers["Authorization"].rsplit("=", 1)[1]
    texts = [repr(s), repr(s.auth), repr(req), str(req)]
    assert all(x not in t for t in texts for x in (SECRET_KEY, "session-canary-token", sig))
    assert repr(s.auth) == ("<SigV4Auth kind='sigv4' service='aws-external-anthropic' "
                            "region='us-west-2'>")


def test_platform_facts() -> None:
    """Platform id, request-id header, gen_ai.provider.name (configurable), server address."""
    p = AWSProvider(region="us-west-2", workspace_id=WS, api_key=KEY)
    assert (p.platform, p.genai_provider_name, p.request_id_header) == (
        "aws", "aws.claude_platform", "request-id")
    assert p.server_address() == ("aws-external-anthropic.us-west-2.api.aws", 443)
    q = AWSProvider(region="us-west-2", workspace_id=WS, api_key=KEY,
                    genai_provider_name="anthropic")
    assert q.genai_provider_name == "anthropic"
    assert AWSProvider.genai_provider_name == "aws.claude_platform"


def test_from_config_file(tmp_path: Path) -> None:
    """A [providers.x] table of kind aws builds the provider with the SDK's setting names."""
    cfg = tmp_path / "clauderoute.toml"
    cfg.write_text('[providers.claude_aws]\nkind = "aws"\nregion = "us-west-2"\n'
                   f'workspace_id = "{WS}"\napi_key = "{KEY}"\nmax_retries = 1\n')
    (provider,) = client_settings(cfg)["providers"]
    assert isinstance(provider, AWSProvider) and provider.name == "claude_aws"
    assert (provider.base_url, provider.workspace_id, provider.max_retries) == (ROOT, WS, 1)
    cfg.write_text('[providers.claude_aws]\nkind = "aws"\nregion = "us-west-2"\n'
                   f'workspace_id = "{WS}"\nprofile = "dev"\nworkspace = "x"\n')
    with pytest.raises(cr.ConfigurationError, match=r"providers\.claude_aws\.workspace"):
        client_settings(cfg)

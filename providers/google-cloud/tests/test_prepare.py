"""Shaping of Claude on Google Cloud requests (pure): the gateway root derived from project,
location and workspace (quoted as the SDK quotes path segments), the Claude API's paths and body
with first-party model ids, the bearer token, resource routes, the environment chain and the
settings refused before any call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from clauderoute_google_cloud import GoogleCloudProvider

import clauderoute as cr
from clauderoute._config import client_settings
from clauderoute.provider import COUNT_TOKENS, CREATE, MODELS_LIST, STREAM, Call, HttpRequest

TOKEN = "ya29.prepare-" + "p" * 24
WS = "wrkspc_01Prepare"
PARAMS: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 9,
                          "messages": [{"role": "user", "content": "hi"}], "future_field": [1]}
ROOT = ("https://claude.googleapis.com/v1/projects/my-proj/locations/global/workspaces/"
        f"{WS}/invoke")


def _provider(**kw: Any) -> GoogleCloudProvider:
    kw.setdefault("project", "my-proj")
    kw.setdefault("workspace_id", WS)
    kw.setdefault("access_token", TOKEN)
    return GoogleCloudProvider(**kw)


async def _prepare(p: GoogleCloudProvider, operation: str = CREATE, **params: Any
                   ) -> HttpRequest:
    return await p.prepare(Call(operation=operation, params={**PARAMS, **params}))


async def test_create_request() -> None:
    """A create: the derived workspace root (location global by default), the Claude API's
    path, body and version, the token as a bearer — and no workspace header (it is in the
    path)."""
    req = await _prepare(_provider())
    assert (req.method, req.url) == ("POST", ROOT + "/v1/messages")
    assert req.headers == {"accept": "application/json", "content-type": "application/json",
                           "anthropic-version": "2023-06-01",
                           "authorization": "Bearer " + TOKEN}
    assert msgspec.json.decode(req.body) == PARAMS


async def test_stream_count_tokens_betas_models_and_location() -> None:
    """Stream adds stream: true, count_tokens has its path, betas and extra headers pass, the
    location goes in the path, and `models` overrides the catalog's Claude API id."""
    p = _provider(location="us-east5", models={"claude-opus-4-1": "my-opus"})
    req = await p.prepare(Call(operation=STREAM, params=dict(PARAMS), betas=("b1", "b2"),
                               extra_headers={"x-trace": "t"}))
    root = ROOT.replace("/global/", "/us-east5/")
    assert req.url == root + "/v1/messages"
    assert msgspec.json.decode(req.body)["stream"] is True
    assert req.headers["anthropic-beta"] == "b1,b2" and req.headers["x-trace"] == "t"
    req = await p.prepare(Call(operation=COUNT_TOKENS, params={"model": "claude-opus-4-1",
                                                               "messages": []}))
    assert req.url == root + "/v1/messages/count_tokens"
    assert msgspec.json.decode(req.body) == {"model": "my-opus", "messages": []}
    assert p.model_id("claude-haiku-4-5") == "claude-haiku-4-5"
    req = await p.prepare(Call(operation=MODELS_LIST, params={"query": {"limit": 3}}))
    assert (req.method, req.url) == ("GET", root + "/v1/models?limit=3")


@pytest.mark.parametrize(("settings", "segment"), [
    ({"project": "team/alpha"}, "projects/team%2Falpha/"),
    ({"project": "a b"}, "projects/a%20b/"),
    ({"workspace_id": "ws:1@x"}, "workspaces/ws:1@x/"),
    ({"workspace_id": "%2e"}, "workspaces/%252e/"),  # a literal value, not a dot
    ({"location": "europe-west1"}, "locations/europe-west1/"),
])
async def test_segments_are_quoted(settings: dict[str, str], segment: str) -> None:
    """Each value is one path segment: `/` and spaces encoded, RFC 3986 pchar kept (the SDK's
    path_template; the property test in test_fidelity compares with the SDK itself)."""
    assert segment in _provider(**settings).base_url  # type: ignore[operator]


async def test_base_url_overrides_derivation(monkeypatch: pytest.MonkeyPatch) -> None:
    """base_url (or ANTHROPIC_GOOGLE_CLOUD_BASE_URL) is the root for every route; then no
    project or workspace is needed."""
    p = GoogleCloudProvider(base_url="https://proxy.example.test/claude/", access_token=TOKEN)
    assert (await _prepare(p)).url == "https://proxy.example.test/claude/v1/messages"
    monkeypatch.setenv("ANTHROPIC_GOOGLE_CLOUD_BASE_URL", "http://127.0.0.1:9/x")
    assert GoogleCloudProvider(access_token=TOKEN).base_url == "http://127.0.0.1:9/x"


async def test_environment_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """ANTHROPIC_GOOGLE_CLOUD_PROJECT (else GOOGLE_CLOUD_PROJECT), _LOCATION and _WORKSPACE_ID
    are read, as the SDK reads them; arguments win."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "gcp-proj")
    monkeypatch.setenv("ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID", "env-ws")
    monkeypatch.setenv("ANTHROPIC_GOOGLE_CLOUD_LOCATION", "us")
    p = GoogleCloudProvider(access_token=TOKEN)
    assert p.base_url == ("https://claude.googleapis.com/v1/projects/gcp-proj/locations/us/"
                          "workspaces/env-ws/invoke")
    monkeypatch.setenv("ANTHROPIC_GOOGLE_CLOUD_PROJECT", "anthropic-proj")
    assert GoogleCloudProvider(access_token=TOKEN).project == "anthropic-proj"
    assert _provider(location="eu").location == "eu"


@pytest.mark.parametrize(("settings", "match"), [
    ({"workspace_id": None}, "no workspace"),
    ({"project": None}, "access token does not name one"),
    ({"credentials_file": "/x.json"}, "only one of access_token, credentials_file"),
    ({"project": ".."}, "not a usable path segment"),
    ({"workspace_id": "."}, "not a usable path segment"),
    ({"location": ";x"}, "not a usable path segment"),
])
def test_bad_settings_are_named(settings: dict[str, Any], match: str) -> None:
    """Missing, contradictory or unusable settings fail at construction, naming the setting."""
    with pytest.raises(cr.ConfigurationError, match=match):
        _provider(**settings)


def test_deferred_project_still_checks_the_rest() -> None:
    """With Google credentials the project may come later, but the workspace and location are
    checked now."""
    p = GoogleCloudProvider(workspace_id=WS, credentials_file="/key.json")
    assert p.base_url is None and p.project is None
    with pytest.raises(cr.ConfigurationError, match="workspace_id"):
        GoogleCloudProvider(workspace_id=".", credentials_file="/key.json")


async def test_no_secret_in_reprs() -> None:
    """The token shows in no repr: provider, credential, prepared request, its str."""
    p = _provider()
    req = await _prepare(p)
    assert all(TOKEN not in t for t in (repr(p), repr(p.auth), repr(req), str(req)))
    assert repr(p) == ("<GoogleCloudProvider name='google-cloud' project='my-proj' "
                       f"location='global' workspace_id='{WS}'>")
    assert repr(p.auth) == "<AccessTokenAuth kind='access_token'>"


def test_platform_facts() -> None:
    """Platform id, request-id header, gen_ai.provider.name (configurable), server address,
    the location as the region."""
    p = _provider(location="us-east5")
    assert (p.platform, p.genai_provider_name, p.request_id_header, p.region) == (
        "google-cloud", "gcp.claude", "request-id", "us-east5")
    assert p.server_address() == ("claude.googleapis.com", 443)
    assert _provider(genai_provider_name="anthropic").genai_provider_name == "anthropic"
    assert GoogleCloudProvider.genai_provider_name == "gcp.claude"
    assert p.prepare_may_block is False
    assert GoogleCloudProvider(project="p", workspace_id=WS).prepare_may_block is True


def test_from_config_file(tmp_path: Path) -> None:
    """A [providers.x] table of kind google-cloud builds the provider with the SDK's names."""
    cfg = tmp_path / "clauderoute.toml"
    cfg.write_text('[providers.gcp]\nkind = "google-cloud"\nproject = "my-proj"\n'
                   f'workspace_id = "{WS}"\naccess_token = "{TOKEN}"\n')
    (provider,) = client_settings(cfg)["providers"]
    assert isinstance(provider, GoogleCloudProvider) and provider.name == "gcp"
    assert provider.base_url == ROOT
    cfg.write_text('[providers.gcp]\nkind = "google-cloud"\nproject = "p"\nregion = "x"\n')
    with pytest.raises(cr.ConfigurationError, match=r"providers\.gcp\.region"):
        client_settings(cfg)

"""Shaping of Foundry requests (pure): endpoint from resource or base_url, credentials and their
environment chain, headers and body, and the errors raised before any network call."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from clauderoute_foundry import FoundryProvider

import clauderoute as cr
from clauderoute._config import client_settings
from clauderoute._provider import COUNT_TOKENS, CREATE, STREAM, Call

KEY = "foundry-prepare-key-" + "p" * 20
PARAMS = {"model": "claude-sonnet-4-5", "max_tokens": 9,
          "messages": [{"role": "user", "content": "hi"}], "future_field": [1]}


async def test_create_request_from_resource() -> None:
    """A create goes to the resource's /anthropic root with the key, version and Claude body."""
    p = FoundryProvider(resource="my-res", api_key=KEY)
    req = await p.prepare(Call(operation=CREATE, params=dict(PARAMS)))
    assert (req.method, req.url) == (
        "POST", "https://my-res.services.ai.azure.com/anthropic/v1/messages")
    assert req.headers["api-key"] == KEY and req.headers["x-api-key"] == KEY
    assert "authorization" not in req.headers
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["content-type"] == "application/json"
    assert "anthropic-beta" not in req.headers
    assert msgspec.json.decode(req.body) == PARAMS  # the deployment name is the canonical one


async def test_stream_count_tokens_betas_and_deployment_names() -> None:
    """Stream adds stream: true, count_tokens has its path, betas and extra headers pass,
    and `models` maps a canonical name to a custom deployment name."""
    p = FoundryProvider(base_url="https://gw.example.test/anthropic/", api_key=KEY,
                        models={"claude-sonnet-4-5": "team-sonnet"})
    req = await p.prepare(Call(operation=STREAM, params=dict(PARAMS),
                               betas=("context-1m-2025-08-07", "b2"),
                               extra_headers={"x-trace": "t"}))
    body = msgspec.json.decode(req.body)
    assert body["stream"] is True and body["model"] == "team-sonnet"
    assert req.url == "https://gw.example.test/anthropic/v1/messages"
    assert req.headers["anthropic-beta"] == "context-1m-2025-08-07,b2"
    assert req.headers["x-trace"] == "t"
    req = await p.prepare(Call(operation=COUNT_TOKENS, params={"model": "claude-opus-4-1",
                                                               "messages": []}))
    assert req.url == "https://gw.example.test/anthropic/v1/messages/count_tokens"
    assert msgspec.json.decode(req.body) == {"model": "claude-opus-4-1", "messages": []}


async def test_environment_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """ANTHROPIC_FOUNDRY_RESOURCE, _BASE_URL and _API_KEY are read; arguments win over them."""
    monkeypatch.setenv("ANTHROPIC_FOUNDRY_RESOURCE", "env-res")
    monkeypatch.setenv("ANTHROPIC_FOUNDRY_API_KEY", KEY)
    req = await FoundryProvider().prepare(Call(operation=CREATE, params=dict(PARAMS)))
    assert req.url == "https://env-res.services.ai.azure.com/anthropic/v1/messages"
    assert req.headers["api-key"] == KEY
    assert FoundryProvider(resource="arg-res").base_url == (
        "https://arg-res.services.ai.azure.com/anthropic")
    monkeypatch.setenv("ANTHROPIC_FOUNDRY_BASE_URL", "http://127.0.0.1:9/anthropic")
    assert FoundryProvider().base_url == "http://127.0.0.1:9/anthropic"
    req = await FoundryProvider(api_key="other").prepare(Call(operation=CREATE,
                                                              params=dict(PARAMS)))
    assert req.headers["api-key"] == "other"


def test_missing_endpoint_names_resource() -> None:
    """No resource and no base_url: a ConfigurationError naming `resource`, at construction."""
    with pytest.raises(cr.ConfigurationError, match="set resource") as info:
        FoundryProvider(api_key=KEY)
    assert "ANTHROPIC_FOUNDRY_RESOURCE" in str(info.value)


@pytest.mark.parametrize(("settings", "match"), [
    ({"resource": "r", "base_url": "https://x/anthropic", "api_key": KEY}, "resource or base_url"),
    ({"resource": "https://r.services.ai.azure.com", "api_key": KEY}, "resource must be"),
    ({"resource": "r"}, "api_key"),
    ({"resource": "r", "api_key": KEY, "entra": True}, "api_key or entra"),
    ({"resource": "r", "api_key": KEY, "credential": lambda: "t"}, "api_key or entra"),
])
def test_bad_settings_are_named(settings: dict[str, object], match: str) -> None:
    """Contradictory or malformed settings fail before any call, naming the setting."""
    with pytest.raises(cr.ConfigurationError, match=match):
        FoundryProvider(**settings)  # type: ignore[arg-type]


async def test_no_secret_in_reprs() -> None:
    """The key shows in no repr: provider, credential, prepared request, its str."""
    p = FoundryProvider(resource="r", api_key=KEY)
    req = await p.prepare(Call(operation=CREATE, params=dict(PARAMS)))
    texts = [repr(p), repr(p.auth), repr(req), str(req)]
    assert all(KEY not in t for t in texts)
    assert repr(p.auth) == "<ApiKeyAuth kind='api_key'>"
    assert repr(req).count("[secure]") == 2
    token = "eyJ.entra-token-canary"
    entra = FoundryProvider(resource="r", credential=lambda: token)
    req = await entra.prepare(Call(operation=CREATE, params=dict(PARAMS)))
    assert req.headers["authorization"] == "Bearer " + token
    assert "api-key" not in req.headers and "x-api-key" not in req.headers
    assert all(token not in t for t in [repr(entra), repr(entra.auth), repr(req)])
    assert repr(entra.auth) == "<EntraAuth kind='entra'>"


def test_platform_facts_and_provider_name_setting() -> None:
    """Platform id, request-id header and the configurable gen_ai.provider.name."""
    p = FoundryProvider(resource="r", api_key=KEY)
    assert (p.platform, p.genai_provider_name, p.request_id_header) == (
        "foundry", "azure.ai.foundry", "apim-request-id")
    assert p.server_address() == ("r.services.ai.azure.com", 443)
    q = FoundryProvider(resource="r", api_key=KEY, genai_provider_name="azure.ai.inference")
    assert q.genai_provider_name == "azure.ai.inference"
    assert FoundryProvider.genai_provider_name == "azure.ai.foundry"


def test_from_config_file(tmp_path: Path) -> None:
    """A [providers.x] table of kind foundry builds the provider; a wrong type names the key."""
    cfg = tmp_path / "clauderoute.toml"
    cfg.write_text('[providers.azure]\nkind = "foundry"\nresource = "cfg-res"\n'
                   f'api_key = "{KEY}"\nmodels = {{ "claude-haiku-4-5" = "haiku-prod" }}\n')
    (provider,) = client_settings(cfg)["providers"]
    assert isinstance(provider, FoundryProvider) and provider.name == "azure"
    assert provider.base_url == "https://cfg-res.services.ai.azure.com/anthropic"
    assert provider.model_id("claude-haiku-4-5") == "haiku-prod"
    cfg.write_text('[providers.azure]\nkind = "foundry"\nresource = "r"\nentra = "yes"\n')
    with pytest.raises(cr.ConfigurationError, match=r"line 4: providers\.azure\.entra"):
        client_settings(cfg)

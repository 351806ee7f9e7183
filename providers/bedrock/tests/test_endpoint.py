"""The catalog says which Bedrock endpoint serves a model (``bedrock_endpoint = "mantle"``);
``endpoint = "invoke" | "mantle"`` in config forces one. The catalog entry used here is a test
fixture given through ``CLAUDEROUTE_CATALOG`` (no real Mantle-only model id is invented)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from clauderoute_bedrock import BedrockEmulator, BedrockMantleEmulator, BedrockProvider
from clauderoute_bedrock.emulator import ACCESS_KEY, SECRET_KEY, AwsKey

from clauderoute import AsyncClient
from clauderoute._catalog import CATALOG_ENV, catalog, model_facts
from clauderoute._errors import ConfigurationError

MANTLE_MODEL = "claude-test-mantle"  # a fixture name, not a real model
MANTLE_ID = "anthropic.claude-test-mantle"
INVOKE_MODEL = "claude-sonnet-4-5"
HELLO = [{"role": "user", "content": "hi"}]
EXTRA = f"""
[models.{MANTLE_MODEL}]
bedrock = "{MANTLE_ID}"
bedrock_profile = true
bedrock_endpoint = "mantle"
"""

Emulators = tuple[BedrockEmulator, BedrockMantleEmulator]


@pytest.fixture(autouse=True)
def extra_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(EXTRA, "utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(path))


@pytest.fixture
async def emulators() -> AsyncIterator[Emulators]:
    async with BedrockEmulator() as invoke, BedrockMantleEmulator(
            keys={ACCESS_KEY: AwsKey(SECRET_KEY)}) as mantle:
        yield invoke, mantle


def _provider(emulators: Emulators, **settings: Any) -> BedrockProvider:
    invoke, mantle = emulators
    return BedrockProvider(base_url=invoke.url, mantle_base_url=mantle.url, region="us-east-1",
                           access_key=ACCESS_KEY, secret_key=SECRET_KEY, **settings)


async def test_catalog_chooses_the_endpoint_per_model(emulators: Emulators) -> None:
    """A model the catalog marks as mantle goes to the Messages-API endpoint, signed for
    bedrock-mantle, with its id as given (no inference profile); others go to InvokeModel."""
    invoke, mantle = emulators
    async with AsyncClient(providers=[_provider(emulators)]) as client:
        msg = await client.messages.create(model=MANTLE_MODEL, max_tokens=9, messages=HELLO)
        async with client.messages.stream(model=MANTLE_MODEL, max_tokens=9,
                                          messages=HELLO) as stream:
            final = await stream.get_final_message()
        await client.messages.create(model=INVOKE_MODEL, max_tokens=9, messages=HELLO)
    assert msg.text and final.text == msg.text
    assert [r.path for r in mantle.requests] == ["/anthropic/v1/messages"] * 2
    for req in mantle.requests:
        assert msgspec.json.decode(req.body)["model"] == MANTLE_ID
        assert "/us-east-1/bedrock-mantle/aws4_request" in req.headers["Authorization"]
    (req,) = invoke.requests
    assert req.path == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke"
    assert "/us-east-1/bedrock/aws4_request" in req.headers["Authorization"]


async def test_count_tokens_follows_the_catalog(emulators: Emulators) -> None:
    """Token counting uses the same endpoint as the model's messages."""
    invoke, mantle = emulators
    async with AsyncClient(providers=[_provider(emulators)]) as client:
        count = await client.messages.count_tokens(model=MANTLE_MODEL, messages=HELLO)
    assert count.input_tokens > 0
    assert [r.path for r in mantle.requests] == ["/anthropic/v1/messages/count_tokens"]
    assert not invoke.requests


@pytest.mark.parametrize("forced", ["invoke", "mantle"])
async def test_config_endpoint_wins(emulators: Emulators, forced: str) -> None:
    """``endpoint`` in config sends every model to that endpoint, whatever the catalog says."""
    invoke, mantle = emulators
    async with AsyncClient(providers=[_provider(emulators, endpoint=forced)]) as client:
        for model in (MANTLE_MODEL, INVOKE_MODEL):
            await client.messages.create(model=model, max_tokens=9, messages=HELLO)
    chosen, other = (invoke, mantle) if forced == "invoke" else (mantle, invoke)
    assert len(chosen.requests) == 2 and not other.requests
    if forced == "invoke":  # InvokeModel ids get the catalog's inference profile
        assert invoke.requests[0].path == f"/model/us.{MANTLE_ID}/invoke"


def test_extra_catalog_merges_over_the_shipped_one(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The file adds models and facts, key by key; shipped entries keep their other keys."""
    path = tmp_path / "more.toml"
    path.write_text(f'[models.{INVOKE_MODEL}]\nbedrock_endpoint = "mantle"\n', "utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(path))
    facts = model_facts(INVOKE_MODEL) or {}
    assert facts["bedrock_endpoint"] == "mantle"
    assert facts["bedrock"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert MANTLE_MODEL not in catalog()
    monkeypatch.delenv(CATALOG_ENV)
    assert "bedrock_endpoint" not in (model_facts(INVOKE_MODEL) or {})


@pytest.mark.parametrize("text", ["models = 3", "[models]\nx = 1", "not toml ["])
def test_bad_extra_catalog_is_a_configuration_error(tmp_path: Path, text: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, "utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(path))
    with pytest.raises(ConfigurationError, match=CATALOG_ENV):
        catalog()
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match=CATALOG_ENV):
        catalog()


def test_providers_read_the_catalog_once_per_name(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider looks a name up in the catalog once and keeps the answer (the router resolves
    the model on every call); a provider built after the variable changed sees the new file;
    config ``models`` still win."""
    from clauderoute_anthropic import AnthropicProvider

    for n in (1, 2):
        (tmp_path / f"ids{n}.toml").write_text(
            f'[models.claude-test-ids]\nanthropic = "claude-test-ids-{n}"\n', "utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "ids1.toml"))
    first = AnthropicProvider(api_key="k")
    assert first.model_id("claude-test-ids") == "claude-test-ids-1"
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "ids2.toml"))
    assert first.model_id("claude-test-ids") == "claude-test-ids-1"
    assert AnthropicProvider(api_key="k").model_id("claude-test-ids") == "claude-test-ids-2"
    pinned = AnthropicProvider(api_key="k", models={"claude-test-ids": "mine"})
    assert pinned.model_id("claude-test-ids") == "mine"
    assert first.model_id("claude-unknown-x") == "claude-unknown-x"


async def test_shipped_catalog_sends_newer_models_where_bedrock_serves_them(
        emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> None:
    """With only the shipped catalog: Claude Opus 4.7 goes to the Messages-API endpoint with
    its Bedrock id as given, Claude Sonnet 4.6 to InvokeModel through the region's inference
    profile (ids from the Claude docs' models overview)."""
    monkeypatch.delenv(CATALOG_ENV)
    invoke, mantle = emulators
    async with AsyncClient(providers=[_provider(emulators)]) as client:
        await client.messages.create(model="claude-opus-4-7", max_tokens=9, messages=HELLO)
        await client.messages.create(model="claude-sonnet-4-6", max_tokens=9, messages=HELLO)
    (m,) = mantle.requests
    assert msgspec.json.decode(m.body)["model"] == "anthropic.claude-opus-4-7"
    (i,) = invoke.requests
    assert i.path == "/model/us.anthropic.claude-sonnet-4-6/invoke"

"""Rules that depend on the provider a call may reach, checked before the network: the model's
retirement on each provider's platform (an error naming the replacement; before it, one
ModelDeprecationWarning per model), and the stricter request rules of API version 2026-10-21
on providers that send it (naming the field), while 2023-06-01 providers keep today's rules."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._catalog import CATALOG_ENV
from clauderoute._catalog._lifecycle import _warned
from clauderoute._validate import strict_version, validate_strict

KEY = "test-anthropic-key"
HELLO = [{"role": "user", "content": "hi"}]
# Fixture models (not real ones), dated so that the test never depends on today's date.
EXTRA = """
[models.claude-test-gone]
anthropic = "claude-test-gone"
bedrock = "anthropic.claude-test-gone"
retires = 2000-01-01
replacement = "claude-test-new"
[models.claude-test-soon]
anthropic = "claude-test-soon"
retires = 2999-12-31
replacement = "claude-test-new"
[models.claude-test-bedrock-gone]
anthropic = "claude-test-bedrock-gone"
bedrock_retires = 2000-01-01
"""


@pytest.fixture(autouse=True)
def fixture_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    path = tmp_path / "catalog.toml"
    path.write_text(EXTRA, "utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(path))
    _warned.clear()
    yield
    _warned.clear()


@pytest.fixture
async def emu() -> AsyncIterator[AnthropicEmulator]:
    async with AnthropicEmulator(api_key=KEY) as server:
        yield server


def _client(emu: AnthropicEmulator, *versions: str) -> cr.AsyncClient:
    return cr.AsyncClient(providers=[
        AnthropicProvider(name=f"p{i}", base_url=emu.url, api_key=KEY, anthropic_version=v)
        for i, v in enumerate(versions)])


async def test_retired_model_fails_before_the_network_naming_the_replacement(
        emu: AnthropicEmulator) -> None:
    async with _client(emu, "2023-06-01") as c:
        for call in (lambda: c.messages.create(model="claude-test-gone", max_tokens=5,
                                               messages=HELLO),
                     lambda: c.messages.count_tokens(model="claude-test-gone", messages=HELLO),
                     lambda: c.messages.stream(model="claude-test-gone", max_tokens=5,
                                               messages=HELLO)):
            with pytest.raises(cr.InvalidRequest) as info:
                await call()  # type: ignore[misc]
            assert info.value.field == "model"
            assert "retired on 2000-01-01" in str(info.value)
            assert "'claude-test-new'" in str(info.value) and "'p0'" in str(info.value)
    assert emu.requests == []


async def test_retirement_follows_each_platforms_schedule(emu: AnthropicEmulator) -> None:
    """A model Anthropic retired may still be served where the platform's own schedule
    differs; a route that could reach a provider where it is retired fails and says to pin."""
    bedrock = pytest.importorskip("clauderoute_bedrock")
    async with bedrock.BedrockEmulator() as b:
        bp = bedrock.BedrockProvider(name="aws-east", base_url=b.url, region="us-east-1",
                                     access_key=bedrock.emulator.ACCESS_KEY,
                                     secret_key=bedrock.emulator.SECRET_KEY)
        ap = AnthropicProvider(name="direct", base_url=emu.url, api_key=KEY)
        async with cr.AsyncClient(providers=[ap, bp]) as c:
            msg = await c.messages.create(model="claude-test-gone", max_tokens=5,
                                          messages=HELLO, provider="aws-east")
            assert msg.route is not None and msg.route.provider == "aws-east"
            assert b.requests[-1].path == "/model/anthropic.claude-test-gone/invoke"
            with pytest.raises(cr.InvalidRequest, match=r"'direct'.*pin a provider"):
                await c.messages.create(model="claude-test-gone", max_tokens=5, messages=HELLO)
            with pytest.raises(cr.InvalidRequest, match="'aws-east'"):
                await c.messages.create(model="claude-test-bedrock-gone", max_tokens=5,
                                        messages=HELLO)
            await c.messages.create(model="claude-test-bedrock-gone", max_tokens=5,
                                    messages=HELLO, provider="direct")
    assert len(emu.requests) == 1


async def test_deprecated_model_warns_once_per_process(emu: AnthropicEmulator) -> None:
    async with _client(emu, "2023-06-01") as c:
        with pytest.warns(cr.ModelDeprecationWarning, match="retires on 2999-12-31") as seen:
            await c.messages.create(model="claude-test-soon", max_tokens=5, messages=HELLO)
        assert len(seen) == 1 and seen[0].filename == __file__  # points at the caller
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            await c.messages.create(model="claude-test-soon", max_tokens=5, messages=HELLO)
    assert len(emu.requests) == 2
    assert issubclass(cr.ModelDeprecationWarning, UserWarning)


STRICT_CASES: list[tuple[dict[str, Any], str]] = [
    ({"temperature": 0.5}, "temperature"),
    ({"top_p": 0.9}, "top_p"),
    ({"top_k": 5}, "top_k"),
    ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                        "data": "d"}}]}]}, "messages[1].content[0]"),
    ({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "t", "citations": [{"type": "char_location"}]}]}]},
     "messages[0].content[0].citations"),
    ({"messages": [{"role": "user", "content": [
        {"type": "search_result", "source": "s", "title": "t", "content": [
            {"type": "text", "text": "ok"},
            {"type": "text", "text": "t", "citations": [{"type": "x"}]}]}]}]},
     "messages[0].content[0].content[1].citations"),
]


@pytest.mark.parametrize(("change", "field"), STRICT_CASES)
async def test_2026_10_21_rules_name_the_field(emu: AnthropicEmulator, change: dict[str, Any],
                                               field: str) -> None:
    """What 2026-10-21 refuses fails before the network on a provider that sends it, and is
    sent as is to a provider on 2023-06-01."""
    params = {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": HELLO, **change}
    async with _client(emu, "2026-10-21") as c:
        with pytest.raises(cr.InvalidRequest) as info:
            await c.messages.create(**params)
        assert info.value.field == field and "2026-10-21" in str(info.value)
        assert "'p0'" in str(info.value)
    assert emu.requests == []
    async with _client(emu, "2023-06-01") as c:
        await c.messages.create(**params)
    assert len(emu.requests) == 1


async def test_2026_10_21_allows_what_it_keeps(emu: AnthropicEmulator) -> None:
    """Citations in assistant messages, citations *enabled* on a user document, documents in
    user messages and documents nested in a tool result are still accepted."""
    doc = {"type": "document", "citations": {"enabled": True},
           "source": {"type": "text", "media_type": "text/plain", "data": "d"}}
    messages = [{"role": "user", "content": [doc]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "a", "citations": [{"type": "char_location"}]}]},
                {"role": "user", "content": "next"}]
    async with _client(emu, "2026-10-21") as c:
        await c.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=messages)
        await c.messages.count_tokens(model="claude-haiku-4-5", messages=messages)
        with pytest.raises(cr.InvalidRequest):  # token counting follows the same rules
            await c.messages.count_tokens(model="claude-haiku-4-5", messages=[
                {"role": "user", "content": [{"type": "text", "text": "t",
                                              "citations": [{"type": "x"}]}]}])
    assert [r.headers["anthropic-version"] for r in emu.requests] == ["2026-10-21"] * 2


async def test_a_mixed_route_is_checked_against_every_provider(emu: AnthropicEmulator) -> None:
    """A failover may reach either provider: the stricter one decides, unless pinned away."""
    async with _client(emu, "2023-06-01", "2026-10-21") as c:
        with pytest.raises(cr.InvalidRequest, match="'p1'"):
            await c.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HELLO,
                                    temperature=0.2)
        await c.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HELLO,
                                temperature=0.2, provider="p0")
    assert len(emu.requests) == 1


def test_strict_versions() -> None:
    """A version string is strict from 2026-10-21 on, whatever its prefix."""
    assert strict_version("2026-10-21") and strict_version("2027-01-01")
    assert not strict_version("2023-06-01") and not strict_version("bedrock-2023-05-31")
    assert not strict_version("vertex-2023-10-16") and not strict_version("latest")
    validate_strict({"model": "m", "messages": [{"role": "user", "content": "x"}, 3,
                                                 {"role": "user", "content": [4, "x"]}]}, "")

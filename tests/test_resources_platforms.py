"""Models, Batches, Files and Skills on the platforms that lack them: a CapabilityError that
names the provider, its platform and the missing operation, before any network call; a
Messages request that uses a file id or a skill skips those providers; ``models`` falls back
to the catalog, labelled as such."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._catalog import catalog
from clauderoute._provider import Provider

KEY = "test-anthropic-key"
DEAD = "http://127.0.0.1:9"  # nothing listens: any network call would fail differently


def _others() -> list[Provider]:
    foundry = pytest.importorskip("clauderoute_foundry")
    vertex = pytest.importorskip("clauderoute_vertex")
    bedrock = pytest.importorskip("clauderoute_bedrock")
    return [foundry.FoundryProvider(name="azure", base_url=DEAD + "/anthropic", api_key="k"),
            vertex.VertexProvider(name="gcp", project="p", region="us-east5",
                                  access_token="t", base_url=DEAD + "/v1"),
            bedrock.BedrockProvider(name="aws", region="us-east-1", access_key="AKIAEXAMPLE",
                                    secret_key="s", base_url=DEAD)]


@pytest.fixture
async def others() -> AsyncIterator[cr.AsyncClient]:
    async with cr.AsyncClient(providers=_others()) as c:
        yield c


CALLS: dict[str, Callable[[cr.AsyncClient, str], Awaitable[Any]]] = {
    "batches.create": lambda c, p: c.messages.batches.create(
        provider=p, requests=[{"custom_id": "a", "params": {
            "model": "claude-haiku-4-5", "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}]}}]),
    "batches.retrieve": lambda c, p: c.messages.batches.retrieve("msgbatch_1", provider=p),
    "batches.results": lambda c, p: c.messages.batches.results("msgbatch_1", provider=p),
    "batches.cancel": lambda c, p: c.messages.batches.cancel("msgbatch_1", provider=p),
    "batches.delete": lambda c, p: c.messages.batches.delete("msgbatch_1", provider=p),
    "files.upload": lambda c, p: c.beta.files.upload(file=("a.txt", b"abc"), provider=p),
    "files.retrieve_metadata": lambda c, p: c.beta.files.retrieve_metadata("file_1",
                                                                           provider=p),
    "files.download": lambda c, p: c.beta.files.download("file_1", provider=p),
    "files.delete": lambda c, p: c.beta.files.delete("file_1", provider=p),
    "skills.create": lambda c, p: c.beta.skills.create(
        files=[("s/SKILL.md", b"---\nname: s\ndescription: d\n---\n")], provider=p),
    "skills.retrieve": lambda c, p: c.beta.skills.retrieve("skill_1", provider=p),
    "skills.delete": lambda c, p: c.beta.skills.delete("skill_1", provider=p),
    "models.retrieve": lambda c, p: c.models.retrieve("claude-haiku-4-5", provider=p,
                                                      source="api"),
}
LISTS: dict[str, Callable[[cr.AsyncClient, str], Any]] = {
    "batches.list": lambda c, p: c.messages.batches.list(provider=p),
    "files.list": lambda c, p: c.beta.files.list(provider=p),
    "skills.list": lambda c, p: c.beta.skills.list(provider=p),
    "models.list": lambda c, p: c.models.list(provider=p, source="api"),
}


@pytest.mark.parametrize("operation", sorted(CALLS))
@pytest.mark.parametrize("provider", ["azure", "gcp", "aws"])
async def test_capability_error_names_platform_and_operation(
        others: cr.AsyncClient, operation: str, provider: str) -> None:
    platform = others.router.by_name[provider].platform
    with pytest.raises(cr.CapabilityError) as info:
        await CALLS[operation](others, provider)
    text = str(info.value)
    assert f"{provider} ({platform})" in text and f"operation {operation} is not" in text


@pytest.mark.parametrize("operation", sorted(LISTS))
async def test_list_calls_fail_when_made(others: cr.AsyncClient, operation: str) -> None:
    """A list is refused as soon as it is asked for (before awaiting or iterating)."""
    for provider in ("azure", "gcp", "aws"):
        with pytest.raises(cr.CapabilityError, match=f"operation {operation} is not"):
            LISTS[operation](others, provider)


async def test_unpinned_calls_name_every_provider(others: cr.AsyncClient) -> None:
    with pytest.raises(cr.CapabilityError) as info:
        await others.beta.files.upload(file=("a.txt", b"abc"))
    assert all(f"{p} ({k})" in str(info.value)
               for p, k in (("azure", "foundry"), ("gcp", "vertex"), ("aws", "bedrock")))


async def test_models_fall_back_to_the_catalog_labelled(others: cr.AsyncClient) -> None:
    """No Models API on Vertex: the catalog's Vertex ids, marked origin == 'catalog'."""
    page = await others.models.list(provider="gcp")
    assert page.data and all(m.origin == "catalog" and m.provider == "gcp" for m in page.data)
    assert {m.id for m in page.data} == {f["vertex"] for f in catalog().values()
                                         if "vertex" in f}
    one = await others.models.retrieve("claude-sonnet-4-5", provider="gcp")
    assert one.id == catalog()["claude-sonnet-4-5"]["vertex"] and one.origin == "catalog"
    everything = [m.display_name async for m in others.models.list(provider="azure")]
    assert everything == list(catalog())  # deployment names: every canonical model
    bedrock = [m async for m in others.models.list(provider="aws")]
    assert bedrock and all(m.origin == "catalog" for m in bedrock)
    # ids as this provider sends them: in us-east-1, InvokeModel's profiled models take the
    # us. inference-profile prefix; the Messages-API endpoint's take their id as given
    assert {m.id for m in bedrock} == {
        ("us." if f.get("bedrock_profile") and f.get("bedrock_endpoint") != "mantle" else "")
        + f["bedrock"] for f in catalog().values() if "bedrock" in f}
    assert "anthropic.claude-opus-4-7" in {m.id for m in bedrock}
    with pytest.raises(cr.NotFoundError):
        await others.models.retrieve("gpt-4", provider="gcp")


async def test_models_prefer_a_provider_with_the_api() -> None:
    async with AnthropicEmulator(api_key=KEY) as emu:
        providers = [*_others(), AnthropicProvider(base_url=emu.url, api_key=KEY)]
        async with cr.AsyncClient(providers=providers) as c:
            page = await c.models.list()
            assert page.provider == "anthropic" and page.data[0].origin == "api"
            cat = await c.models.list(source="catalog")
            assert cat.provider == "azure" and cat.data[0].origin == "catalog"
            with pytest.raises(cr.InvalidRequest) as info:
                c.models.list(source="web")  # type: ignore[arg-type]
            assert info.value.field == "source"


async def test_messages_with_a_file_id_or_skill_skip_providers_that_cannot() -> None:
    """The route skips Foundry and Vertex (no Files/Skills) and adds no beta (GA)."""
    doc = {"type": "document", "source": {"type": "file", "file_id": "file_abc"}}
    async with AnthropicEmulator(api_key=KEY) as emu:
        providers = [*_others(), AnthropicProvider(base_url=emu.url, api_key=KEY)]
        async with cr.AsyncClient(providers=providers) as c:
            msg = await c.messages.create(
                model="claude-haiku-4-5", max_tokens=16,
                messages=[{"role": "user", "content": [doc, {"type": "text", "text": "sum"}]}])
            assert msg.route is not None and msg.route.provider == "anthropic"
            assert any("messages.file_reference" in s for s in msg.route.skipped)
            assert "anthropic-beta" not in emu.requests[-1].headers
            msg = await c.messages.create(
                model="claude-haiku-4-5", max_tokens=16, betas=["code-execution-2025-08-25"],
                container={"skills": [{"type": "custom", "skill_id": "skill_1",
                                       "version": "latest"}]},
                messages=[{"role": "user", "content": "go"}])
            assert msg.route is not None and msg.route.provider == "anthropic"
            assert emu.requests[-1].headers["anthropic-beta"] == "code-execution-2025-08-25"
        async with cr.AsyncClient(providers=_others()) as c:
            with pytest.raises(cr.CapabilityError, match="messages.file_reference"):
                await c.messages.create(model="claude-haiku-4-5", max_tokens=16,
                                        messages=[{"role": "user", "content": [doc]}])


@pytest.mark.parametrize("shape", ["later_message", "beside_text", "extra_body"])
async def test_a_file_reference_is_found_next_to_plain_text_messages(shape: str) -> None:
    """Validation tells when every message is plain text, so that the file-reference scan can
    skip them; a file in a later message, a ``source`` beside a string content, or messages
    brought by ``extra_body`` after validation are still found (before any network call)."""
    doc = {"type": "document", "source": {"type": "file", "file_id": "file_abc"}}
    first = {"role": "user", "content": "hello"}
    kw: dict[str, Any] = {"messages": [first, {"role": "assistant", "content": "hi"},
                                       {"role": "user", "content": [doc]}]}
    if shape == "beside_text":
        kw = {"messages": [{**first, "source": doc["source"]}]}
    elif shape == "extra_body":
        kw = {"messages": [first], "extra_body": {"messages": [{"role": "user",
                                                                 "content": [doc]}]}}
    async with cr.AsyncClient(providers=_others()) as c:
        with pytest.raises(cr.CapabilityError, match="messages.file_reference"):
            await c.messages.create(model="claude-haiku-4-5", max_tokens=16, **kw)

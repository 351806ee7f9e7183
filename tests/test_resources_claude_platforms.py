"""Batches, files and skills across the three platforms that serve the whole Claude API — the
Claude API, Claude Platform on AWS and Claude on Google Cloud — in one route: each object is made
where it is pinned (or on the first provider able) and every later call about it goes back to
the platform that holds it, never to another."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute.testing import EmulatorServer

aws = pytest.importorskip("clauderoute_aws")
gcloud = pytest.importorskip("clauderoute_google_cloud")
aws_emulator = pytest.importorskip("clauderoute_aws.emulator")

KEY = "test-anthropic-key"
TOKEN = "ya29.three-platforms"
SKILL = [("helper/SKILL.md", b"---\nname: helper\ndescription: Helps\n---\nUse me.\n")]
PARAMS: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 8,
                          "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def three() -> AsyncIterator[tuple[cr.AsyncClient, dict[str, EmulatorServer]]]:
    emus: dict[str, EmulatorServer] = {
        "direct": AnthropicEmulator(api_key=KEY),
        "aws": aws.AWSEmulator(),
        "gcp": gcloud.GoogleCloudEmulator(tokens=[TOKEN]),
    }
    for e in emus.values():
        await e.start()
    providers = [
        AnthropicProvider(name="direct", base_url=emus["direct"].url, api_key=KEY),
        aws.AWSProvider(name="aws", base_url=emus["aws"].url, region="us-west-2",
                        workspace_id=aws_emulator.WORKSPACE,
                        access_key=aws_emulator.ACCESS_KEY,
                        secret_key=aws_emulator.SECRET_KEY),
        gcloud.GoogleCloudProvider(name="gcp", base_url=emus["gcp"].url, access_token=TOKEN),
    ]
    try:
        async with cr.AsyncClient(providers=providers) as client:
            yield client, emus
    finally:
        for e in emus.values():
            await e.stop()


def _seen(emus: dict[str, EmulatorServer]) -> dict[str, list[str]]:
    return {name: [r.operation for r in e.requests] for name, e in emus.items()}


@pytest.mark.parametrize("home", ["direct", "aws", "gcp"])
async def test_a_file_stays_on_its_platform(
        three: tuple[cr.AsyncClient, dict[str, EmulatorServer]], home: str) -> None:
    """Uploaded through one platform, a file is read, downloaded, listed and deleted there,
    without naming the platform again; the other two never see a request."""
    client, emus = three
    up = await client.beta.files.upload(file=("notes.txt", b"kept at home"), provider=home)
    assert (await client.beta.files.retrieve_metadata(up.id)).filename == "notes.txt"
    assert await (await client.beta.files.download(up.id)).read() == b"kept at home"
    assert (await client.beta.files.delete(up.id)).id == up.id
    assert _seen(emus) == {name: ["files.upload", "files.retrieve_metadata", "files.download",
                                  "files.delete"] if name == home else []
                           for name in emus}


async def test_batches_and_skills_follow_their_objects(
        three: tuple[cr.AsyncClient, dict[str, EmulatorServer]]) -> None:
    """A batch made on AWS and a skill made on Google Cloud are retrieved, listed and used
    there; an unpinned creation goes to the first provider able (the Claude API)."""
    client, emus = three
    batch = await client.messages.batches.create(
        requests=[{"custom_id": "a", "params": PARAMS}], provider="aws")
    skill = await client.beta.skills.create(files=SKILL, provider="gcp")
    first = await client.beta.files.upload(file=("x.txt", b"x"))
    assert (await client.messages.batches.retrieve(batch.id)).processing_status == "ended"
    results = await client.messages.batches.results(batch.id)
    assert [r.custom_id async for r in results] == ["a"]
    version = await client.beta.skills.versions.create(skill.id, files=SKILL)
    assert [v.id async for v in client.beta.skills.versions.list(skill.id)] == [
        version.id, skill.latest_version_id]
    assert (await client.beta.skills.retrieve(skill.id)).latest_version_id == version.id
    assert _seen(emus) == {
        "direct": ["files.upload"],
        "aws": ["batches.create", "batches.retrieve", "batches.results"],
        "gcp": ["skills.create", "skills.versions.create", "skills.versions.list",
                "skills.retrieve"],
    }
    assert first.id not in {f.id async for f in client.beta.files.list(provider="aws")}


async def test_objects_listed_on_a_platform_are_remembered(
        three: tuple[cr.AsyncClient, dict[str, EmulatorServer]]) -> None:
    """An object known only from a list on Google Cloud is then fetched from Google Cloud."""
    client, emus = three
    gcp = emus["gcp"]
    made = await client.beta.files.upload(file=("y.txt", b"y"), provider="gcp")
    other = cr.AsyncClient(providers=client.providers)  # a fresh client: no memory
    try:
        assert [f.id async for f in other.beta.files.list(provider="gcp")] == [made.id]
        await other.beta.files.retrieve_metadata(made.id)
    finally:
        await other.close()
    assert [r.operation for r in gcp.requests][-2:] == ["files.list", "files.retrieve_metadata"]
    assert emus["direct"].requests == [] and emus["aws"].requests == []


def _asks_for(file_id: str) -> dict[str, Any]:
    return {**PARAMS, "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "file", "file_id": file_id}},
        {"type": "text", "text": "Summarise it"}]}]}


@pytest.mark.parametrize("home", ["aws", "gcp"])
async def test_a_message_naming_a_file_goes_to_the_file_s_platform(
        three: tuple[cr.AsyncClient, dict[str, EmulatorServer]], home: str) -> None:
    """A Messages call that names an uploaded file is served by the platform holding the file,
    not the route's first provider (which would answer 404 for a file it never saw); the GA and
    beta namespaces share what they know, and a pin still wins."""
    client, emus = three
    up = await client.files.upload(file=("notes.txt", b"kept at home"), provider=home)
    msg = await client.messages.create(**_asks_for(up.id))
    assert msg.route.provider == home
    beta_up = await client.beta.files.upload(file=("more.txt", b"more"), provider=home)
    async with client.messages.stream(**_asks_for(beta_up.id)) as stream:
        assert (await stream.get_final_message()).route.provider == home
    assert _seen(emus)["direct"] == []
    pinned = await client.messages.create(**_asks_for(up.id), provider="direct")
    assert pinned.route.provider == "direct"


async def test_a_message_naming_files_of_two_platforms_is_refused(
        three: tuple[cr.AsyncClient, dict[str, EmulatorServer]]) -> None:
    """Files held on two different platforms cannot be used in one request: refused before
    the network, naming the field."""
    client, emus = three
    a = await client.files.upload(file=("a.txt", b"a"), provider="aws")
    b = await client.files.upload(file=("b.txt", b"b"), provider="gcp")
    params = _asks_for(a.id)
    params["messages"][0]["content"].append(
        {"type": "document", "source": {"type": "file", "file_id": b.id}})
    before = _seen(emus)
    with pytest.raises(cr.InvalidRequestError) as info:
        await client.messages.create(**params)
    assert info.value.field == "messages" and "aws" in str(info.value)
    assert _seen(emus) == before

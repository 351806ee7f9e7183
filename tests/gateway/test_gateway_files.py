"""The Files and Skills APIs through the gateway with the official SDK: each object is made on a
provider that has the API (Bedrock, first in the route, has neither) and every later call about
it goes there; uploads are held to the body limit, downloads are streamed."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

from clauderoute.testing import Hostile, HostileServer, no_backoff
from tests.official_sdk import SDK_WORKER

SKILL_MD = b"---\nname: helper\ndescription: Helps with things\n---\nUse me.\n"


@SDK_WORKER
async def test_files_through_the_gateway(fleet_of: Any, kit: Any) -> None:
    import anthropic

    fleet = await fleet_of(kinds=["bedrock", "anthropic"])
    async with kit.run_gateway(fleet.providers) as g, anthropic.AsyncAnthropic(
            api_key=kit.KEY, base_url=g.url, max_retries=0) as client:
        content = bytes(range(256)) * 1000  # binary, 256 kB: more than one chunk
        up = await client.files.upload(file=("notes.bin", content, "application/octet-stream"))
        assert up.filename == "notes.bin" and up.size_bytes == len(content)
        raw = await client.files.with_raw_response.retrieve_metadata(up.id)
        assert raw.headers["x-clauderoute-provider"] == fleet.members[1].name
        assert (await raw.parse()).id == up.id
        assert up.id in [f.id async for f in client.files.list()]
        got = await client.files.download(up.id)
        assert await got.read() == content
        assert (await client.files.delete(up.id)).id == up.id
        with pytest.raises(anthropic.NotFoundError):
            await client.files.retrieve_metadata(up.id)
        assert fleet.members[0].emulator.requests == []  # Bedrock saw nothing about files


@SDK_WORKER
async def test_skills_and_versions_through_the_gateway(fleet_of: Any, kit: Any) -> None:
    import anthropic

    fleet = await fleet_of(kinds=["bedrock", "anthropic"])
    async with kit.run_gateway(fleet.providers) as g, anthropic.AsyncAnthropic(
            api_key=kit.KEY, base_url=g.url, max_retries=0) as client:
        skill = await client.skills.create(display_name="Helper",
                                           files=[("helper/SKILL.md", SKILL_MD)])
        assert skill.id and skill.display_name == "Helper"
        assert (await client.skills.retrieve(skill.id)).id == skill.id
        assert skill.id in [s.id async for s in client.skills.list()]
        version = await client.skills.versions.create(
            skill.id, files=[("helper/SKILL.md", SKILL_MD + b"More.\n")])
        listed = [v.id async for v in client.skills.versions.list(skill.id)]
        assert version.id in listed and len(listed) == 2
        again = await client.skills.versions.retrieve(version.id, skill_id=skill.id)
        assert again.id == version.id
        for v in listed:
            await client.skills.versions.delete(v, skill_id=skill.id)
        assert (await client.skills.delete(skill.id)).id == skill.id
        with pytest.raises(anthropic.NotFoundError):
            await client.skills.retrieve(skill.id)
        assert fleet.members[0].emulator.requests == []


@SDK_WORKER
async def test_an_upload_over_the_limit_is_refused_unread(fleet_of: Any, kit: Any) -> None:
    """A declared length over the limit: 413 before the body is read (the client is still
    sending when the answer comes); a chunked one: 413 once it passes the limit. Nothing
    reaches the platform either way."""
    import anthropic

    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers, max_body_mb=1) as g, anthropic.AsyncAnthropic(
            api_key=kit.KEY, base_url=g.url, max_retries=0) as client:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await client.files.upload(file=("big.bin", b"\0" * (2 << 20)))
        assert caught.value.status_code == 413
        body = caught.value.body
        assert isinstance(body, dict) and body["error"]["type"] == "request_too_large"
        # Declared far larger than what is sent: answered without waiting for the rest.
        reader, writer = await asyncio.open_connection("127.0.0.1", g.port)
        writer.write(f"POST /v1/files HTTP/1.1\r\nhost: x\r\nx-api-key: {kit.KEY}\r\n"
                     "content-type: multipart/form-data; boundary=b\r\n"
                     f"content-length: {10 << 30}\r\n\r\n--b\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413")
        writer.close()
        await writer.wait_closed()

        async def endless() -> Any:
            yield (b"--b\r\ncontent-disposition: form-data; name=\"file\"; "
                   b"filename=\"x\"\r\n\r\n")
            while True:
                yield b"\0" * 65536
        async with aiohttp.ClientSession() as s:
            try:
                async with s.post(g.url + "/v1/files", data=endless(), headers={
                        "x-api-key": kit.KEY,
                        "content-type": "multipart/form-data; boundary=b"}) as r:
                    assert r.status == 413
            except aiohttp.ClientOSError:
                pass  # the gateway closed on the rest of the body: also a refusal
        assert fleet.members[0].emulator.requests == []


async def test_an_upload_that_stops_arriving_gets_408(fleet_of: Any, kit: Any) -> None:
    """A form whose file part stalls: 408 once ``body_timeout_s`` passes, nothing forwarded."""
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers, body_timeout_s=0.2) as g:
        reader, writer = await asyncio.open_connection("127.0.0.1", g.port)
        writer.write(f"POST /v1/files HTTP/1.1\r\nhost: x\r\nx-api-key: {kit.KEY}\r\n"
                     "content-type: multipart/form-data; boundary=b\r\n"
                     "content-length: 100000\r\n\r\n--b\r\ncontent-disposition: form-data; "
                     'name="file"; filename="x"\r\n\r\nsome'.encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        writer.close()
        await writer.wait_closed()
    assert fleet.members[0].emulator.requests == []


@SDK_WORKER
async def test_a_wrong_key_gets_401_and_nothing_is_forwarded(
        fleet_of: Any, kit: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Refused before the form is read; the access log names no key, right or wrong."""
    import anthropic

    caplog.set_level(logging.DEBUG)
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers) as g, anthropic.AsyncAnthropic(
            api_key="wrong-key-secret-xyz", base_url=g.url, max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError):
            await client.files.upload(file=("a.txt", b"a"))
        with pytest.raises(anthropic.AuthenticationError):
            await client.skills.list()
        async with anthropic.AsyncAnthropic(api_key=kit.KEY, base_url=g.url,
                                            max_retries=0) as good:
            await good.files.upload(file=("b.txt", b"b"))
    assert [r.operation for r in fleet.members[0].emulator.requests] == ["files.upload"]
    access = [r.getMessage() for r in caplog.records if r.name == "clauderoute.gateway.access"]
    assert [json.loads(line)["status"] for line in access] == [401, 401, 200]
    assert "wrong-key-secret-xyz" not in caplog.text and kit.KEY not in caplog.text


@SDK_WORKER
async def test_an_unknown_id_gets_the_platform_s_404(fleet_of: Any, kit: Any) -> None:
    import anthropic

    fleet = await fleet_of(kinds=["bedrock", "anthropic"])
    async with kit.run_gateway(fleet.providers) as g, anthropic.AsyncAnthropic(
            api_key=kit.KEY, base_url=g.url, max_retries=0) as client:
        for call in (client.files.retrieve_metadata("file_nope"),
                     client.files.download("file_nope"), client.skills.retrieve("skill_nope")):
            with pytest.raises(anthropic.NotFoundError) as caught:
                await call
            body = caught.value.body
            assert isinstance(body, dict) and body["type"] == "error"
            assert body["error"]["type"] == "not_found_error"
        # A pin to a provider without the API is refused by the gateway, in the same shape.
        with pytest.raises(anthropic.BadRequestError):
            await client.files.retrieve_metadata(
                "file_nope", extra_headers={"x-clauderoute-provider": fleet.members[0].name})


async def test_a_bad_form_is_a_400(fleet_of: Any, kit: Any) -> None:
    fleet = await fleet_of(kinds=["anthropic"])
    async with kit.run_gateway(fleet.providers) as g, aiohttp.ClientSession() as s:
        h = {"x-api-key": kit.KEY}
        async with s.post(g.url + "/v1/files", data=b"{}", headers={
                **h, "content-type": "application/json"}) as r:
            assert r.status == 400 and (await r.json())["type"] == "error"
        form = aiohttp.FormData()
        form.add_field("expires_in_seconds", "soon")
        form.add_field("file", b"x", filename="x.txt")
        async with s.post(g.url + "/v1/files", data=form, headers=h) as r:
            assert r.status == 400
            assert "expires_in_seconds" in (await r.json())["error"]["message"]
        form = aiohttp.FormData()
        form.add_field("files[]", b"no SKILL.md here", filename="../../etc/passwd")
        async with s.post(g.url + "/v1/skills", data=form, headers=h) as r:
            assert r.status == 400
    assert fleet.members[0].emulator.requests == []


async def test_a_download_is_streamed_not_buffered(kit: Any) -> None:
    """The platform sends a file's content without end: the client gets the first megabyte
    through the gateway, which it could not if the gateway read the content whole first.
    (The gateway's metadata lookup, endless too, is retried first: without its backoff.)"""
    async with HostileServer(Hostile(mode="endless_body")) as server:
        p = AnthropicProvider(name="hostile", base_url=server.url, api_key="k")
        with no_backoff():
            async with kit.run_gateway([p]) as g, aiohttp.ClientSession() as s, s.get(
                    g.url + "/v1/files/file_x/content", headers={"x-api-key": kit.KEY}) as r:
                assert r.status == 200
                assert r.headers["x-clauderoute-provider"] == "hostile"
                got = 0
                while got < 1 << 20:
                    chunk = await r.content.readany()
                    assert chunk
                    got += len(chunk)
        await server.wait_disconnects()  # leaving frees the platform's connection too


async def test_a_download_broken_off_is_not_passed_off_as_whole(
        kit: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The platform resets the connection after the headers: the gateway has sent its own
    (200, chunked) and then closes without the body's end, so the client sees an error; the
    access log records the request with the error. (The gateway's metadata lookup, reset
    too, is retried first: without its backoff.)"""
    caplog.set_level(logging.INFO, "clauderoute.gateway.access")
    async with HostileServer(Hostile(mode="reset_after_headers")) as server:
        p = AnthropicProvider(name="hostile", base_url=server.url, api_key="k")
        async with kit.run_gateway([p]) as g, aiohttp.ClientSession() as s:
            with no_backoff():
                async with s.get(g.url + "/v1/files/file_x/content",
                                 headers={"x-api-key": kit.KEY}) as r:
                    assert r.status == 200
                    with pytest.raises(aiohttp.ClientError):
                        await r.read()
            async with s.get(g.url + "/healthz") as r:  # the gateway serves on
                assert r.status == 200
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "clauderoute.gateway.access"]
    assert [(d["path"], d["status"], d["provider"]) for d in lines] == [
        ("/v1/files/file_x/content", 200, "hostile")]
    assert lines[0]["error_type"]


@SDK_WORKER
async def test_the_pin_places_an_object_and_later_calls_follow_it(
        kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two providers with the Files API: a file uploaded with the pin header lands on the one
    named, and calls without the pin follow it there; the spooled upload leaves no file."""
    import anthropic

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    emus = [AnthropicEmulator(api_key="k1"), AnthropicEmulator(api_key="k2")]
    for e in emus:
        await e.start()
    try:
        providers = [AnthropicProvider(name="one", base_url=emus[0].url, api_key="k1"),
                     AnthropicProvider(name="two", base_url=emus[1].url, api_key="k2")]
        async with kit.run_gateway(providers) as g, anthropic.AsyncAnthropic(
                api_key=kit.KEY, base_url=g.url, max_retries=0) as client:
            raw = await client.files.with_raw_response.upload(
                file=("a.txt", b"on two"), extra_headers={"x-clauderoute-provider": "two"})
            assert raw.headers["x-clauderoute-provider"] == "two"
            up = await raw.parse()
            assert await (await client.files.download(up.id)).read() == b"on two"
            await client.files.delete(up.id)
            skill = await client.skills.create(files=[("helper/SKILL.md", SKILL_MD)])
            assert (await client.skills.retrieve(skill.id)).id == skill.id
        assert [r.operation for r in emus[1].requests] == [
            "files.upload", "files.download", "files.delete"]
        assert [r.operation for r in emus[0].requests] == ["skills.create", "skills.retrieve"]
        assert list(tmp_path.iterdir()) == []
    finally:
        for e in emus:
            await e.stop()

"""Shaping of Vertex requests (pure): endpoints per region, the model in the URL, the version in
the body, betas, count-tokens; settings from the environment and errors naming the key; the
catalog's region check before any network call; per-call options reaching the emulator."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest
from clauderoute_vertex import VertexEmulator, VertexProvider

import clauderoute as cr
from clauderoute._provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpRequest

TOKEN = "ya29.prepare-" + "p" * 24
PARAMS = {"model": "claude-sonnet-4-5", "max_tokens": 9,
          "messages": [{"role": "user", "content": "hi"}], "future_field": [1]}
MODELS = "publishers/anthropic/models"


def _provider(**kw: object) -> VertexProvider:
    kw.setdefault("project", "my-proj")
    kw.setdefault("access_token", TOKEN)
    return VertexProvider(**kw)  # type: ignore[arg-type]


async def _prepare(p: VertexProvider, operation: str = CREATE) -> HttpRequest:
    return await p.prepare(Call(operation=operation, params=dict(PARAMS)))


@pytest.mark.parametrize(("region", "root"), [
    ("us-east5", "https://us-east5-aiplatform.googleapis.com/v1"),
    ("europe-west1", "https://europe-west1-aiplatform.googleapis.com/v1"),
    ("global", "https://aiplatform.googleapis.com/v1"),
    ("us", "https://aiplatform.us.rep.googleapis.com/v1"),
    ("eu", "https://aiplatform.eu.rep.googleapis.com/v1"),
])
async def test_endpoint_per_region(region: str, root: str) -> None:
    """Regional, global and multi-region endpoints, with the catalog's @date model id."""
    req = await _prepare(_provider(region=region))
    assert req.method == "POST"
    assert req.url == (f"{root}/projects/my-proj/locations/{region}/"
                       f"{MODELS}/claude-sonnet-4-5@20250929:rawPredict")


async def test_create_body_headers_and_betas() -> None:
    """The body loses model and stream, gains anthropic_version, keeps unknown fields; betas go
    in anthropic-beta; no anthropic-version header; the token is a bearer."""
    p = _provider(region="global")
    req = await p.prepare(Call(operation=CREATE, params={**PARAMS, "stream": False},
                               betas=("b1", "b2"), extra_headers={"x-trace": "t"}))
    body = msgspec.json.decode(req.body)
    assert body == {"max_tokens": 9, "messages": PARAMS["messages"], "future_field": [1],
                    "anthropic_version": "vertex-2023-10-16"}
    assert req.headers == {"accept": "application/json", "content-type": "application/json",
                           "anthropic-beta": "b1,b2", "x-trace": "t",
                           "authorization": "Bearer " + TOKEN}


async def test_stream_version_and_count_tokens() -> None:
    """A stream goes to :streamRawPredict with stream: true; the version setting and a caller's
    own anthropic_version apply; count-tokens has one URL and keeps the mapped model."""
    p = _provider(region="us-east5", anthropic_version="vertex-2099-01-01")
    req = await _prepare(p, STREAM)
    assert req.url.endswith(f"{MODELS}/claude-sonnet-4-5@20250929:streamRawPredict")
    body = msgspec.json.decode(req.body)
    assert body["stream"] is True and body["anthropic_version"] == "vertex-2099-01-01"
    assert "model" not in body
    req = await p.prepare(Call(operation=CREATE, params={**PARAMS,
                                                         "anthropic_version": "mine"}))
    assert msgspec.json.decode(req.body)["anthropic_version"] == "mine"
    req = await p.prepare(Call(operation=COUNT_TOKENS, params={
        "model": "claude-haiku-4-5", "messages": PARAMS["messages"]}, betas=("b1",)))
    assert req.url == ("https://us-east5-aiplatform.googleapis.com/v1/projects/my-proj/"
                       f"locations/us-east5/{MODELS}/count-tokens:rawPredict")
    assert msgspec.json.decode(req.body) == {"model": "claude-haiku-4-5@20251001",
                                             "messages": PARAMS["messages"],
                                             "anthropic_version": "vertex-2099-01-01"}
    assert req.headers["anthropic-beta"] == "b1"


async def test_model_ids_and_path_encoding() -> None:
    """Config overrides win over the catalog, unknown names pass through, and a path-unsafe
    model or project is percent-encoded inside its segment."""
    p = _provider(region="us-east5", models={"claude-sonnet-4-5": "claude-sonnet-4-5@20990101"})
    assert (await _prepare(p)).url.endswith("/claude-sonnet-4-5@20990101:rawPredict")
    p = _provider(region="us-east5", project="example.com:proj")
    req = await p.prepare(Call(operation=CREATE, params={**PARAMS, "model": "a/b;c d"}))
    assert req.url.endswith("/projects/example.com:proj/locations/us-east5/"
                            f"{MODELS}/a%2Fb%3Bc%20d:rawPredict")


async def test_base_url_setting_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """base_url (the .../v1 root) overrides the region's endpoint; CLOUD_ML_REGION,
    ANTHROPIC_VERTEX_PROJECT_ID and ANTHROPIC_VERTEX_BASE_URL fill unset settings."""
    req = await _prepare(_provider(region="us-east5", base_url="http://127.0.0.1:9/v1/"))
    assert req.url.startswith("http://127.0.0.1:9/v1/projects/my-proj/locations/us-east5/")
    monkeypatch.setenv("CLOUD_ML_REGION", "europe-west1")
    monkeypatch.setenv("ANTHROPIC_VERTEX_PROJECT_ID", "env-proj")
    p = VertexProvider(access_token=TOKEN)
    assert (p.region, p.project) == ("europe-west1", "env-proj")
    assert (await _prepare(p)).url.startswith(
        "https://europe-west1-aiplatform.googleapis.com/v1/projects/env-proj/")
    monkeypatch.setenv("ANTHROPIC_VERTEX_BASE_URL", "https://gw.example/vertex/v1")
    assert (await _prepare(VertexProvider(access_token=TOKEN))).url.startswith(
        "https://gw.example/vertex/v1/projects/env-proj/locations/europe-west1/")


@pytest.mark.parametrize(("settings", "key"), [
    ({"project": "p", "access_token": TOKEN}, "region"),
    ({"region": "us-east5", "access_token": TOKEN}, "project"),
    ({"region": "https://us-east5-aiplatform.googleapis.com", "project": "p"}, "region"),
    ({"region": "us-east5", "access_token": TOKEN, "credentials_file": "k.json"},
     "access_token, credentials_file"),
])
def test_settings_errors_name_the_key(settings: dict[str, str], key: str) -> None:
    """No region, no project for a bare token, a URL as region, or two credentials: a
    ConfigurationError naming the key when the provider is built."""
    with pytest.raises(cr.ConfigurationError, match=key):
        VertexProvider(**settings)  # type: ignore[arg-type]


async def test_no_secret_in_reprs() -> None:
    """The token appears in no repr: provider, credential (kind only) or prepared request."""
    p = _provider(region="global")
    req = await _prepare(p)
    texts = [repr(p), repr(p.auth), repr(req), str(req)]
    assert not [t for t in texts if TOKEN in t]
    assert repr(p.auth) == "<AccessTokenAuth kind='access_token'>"
    assert "[secure]" in repr(req)
    assert repr(VertexProvider(region="global", project="p").auth) == (
        "<GoogleAuth kind='google' source='adc'>")


async def test_region_the_catalog_excludes_fails_before_network() -> None:
    """A catalog model not offered in the configured region is a CapabilityError from prepare
    and makes the router skip the provider with the reason; an override or an unknown name is
    not checked."""
    async with VertexEmulator(project="my-proj", tokens=[TOKEN]) as emu:
        p = _provider(region="asia-east1", base_url=emu.url)
        with pytest.raises(cr.CapabilityError, match="claude-opus-4-1 is not offered in "
                                                     "Vertex region asia-east1"):
            await p.prepare(Call(operation=CREATE, params={**PARAMS, "model": "claude-opus-4-1"}))
        async with cr.AsyncClient(providers=[p]) as client:
            with pytest.raises(cr.CapabilityError, match="vertex .vertex.: model claude-opus"):
                await client.messages.create(**{**PARAMS, "model": "claude-opus-4-1"})
            ok = _provider(name="vertex-global", region="global", base_url=emu.url)
        async with cr.AsyncClient(providers=[p, ok]) as client:
            msg = await client.messages.create(**{**PARAMS, "model": "claude-opus-4-1"})
            assert msg.route.provider == "vertex-global"
            assert list(msg.route.skipped) == [(
                "vertex (vertex): model claude-opus-4-1 is not offered in Vertex region "
                "asia-east1 (the catalog lists global, us-east5, europe-west1)")]
        assert [r.path.split("/")[5] for r in emu.requests] == ["global"]
        mapped = _provider(region="asia-east1", models={"claude-opus-4-1": "my-tuned@1"})
        assert (await mapped.prepare(Call(operation=CREATE, params={
            **PARAMS, "model": "claude-opus-4-1"}))).url.endswith("/my-tuned@1:rawPredict")


async def test_unserved_operation_is_a_capability_error() -> None:
    """Operations Vertex does not offer through this endpoint fail in prepare, naming them."""
    with pytest.raises(cr.CapabilityError, match="messages.batches.create is not offered"):
        await _prepare(_provider(region="global"), "messages.batches.create")


async def test_per_call_options_reach_the_wire() -> None:
    """extra_headers, extra_body and betas arrive at the emulator; the path names project,
    location and the @date model."""
    async with VertexEmulator(project="my-proj", tokens=[TOKEN]) as emu:
        p = _provider(region="global", base_url=emu.url)
        async with cr.AsyncClient(providers=[p]) as client:
            msg = await client.messages.create(**PARAMS, extra_headers={"x-team": "ml"},
                                               extra_body={"service_tier": "auto"},
                                               betas=["context-1m-2025-08-07"])
        assert msg.id.startswith("msg_vrtx_")
        got = emu.requests[0]
        assert got.path == (f"/v1/projects/my-proj/locations/global/{MODELS}/"
                            "claude-sonnet-4-5@20250929:rawPredict")
        assert got.headers["x-team"] == "ml"
        assert got.headers["anthropic-beta"] == "context-1m-2025-08-07"
        assert got.headers["Authorization"] == "Bearer " + TOKEN
        body = msgspec.json.decode(got.body)
        assert body["service_tier"] == "auto" and body["future_field"] == [1]
        assert body["anthropic_version"] == "vertex-2023-10-16" and "model" not in body


async def test_emulator_routing_checks() -> None:
    """The emulator's front end: wrong project 403, unknown model or location 404, a body with no
    anthropic_version 400 (Claude shape), an unknown path 404; success carries req_vrtx_ ids."""
    async with VertexEmulator(project="my-proj", tokens=[TOKEN], locations={"us-east5"},
                              models={"claude-sonnet-4-5@20250929"}) as emu:
        auth = {"Authorization": "Bearer " + TOKEN}
        base = emu.url + "/projects/{}/locations/{}/" + MODELS + "/{}:rawPredict"
        good = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 4,
                "messages": [{"role": "user", "content": "x"}]}
        cases = [(("other", "us-east5", "claude-sonnet-4-5@20250929"), good, 403,
                  "PERMISSION_DENIED"),
                 (("my-proj", "us-east5", "claude-opus-4-5@20251101"), good, 404, "NOT_FOUND"),
                 (("my-proj", "europe-west1", "claude-sonnet-4-5@20250929"), good, 404,
                  "NOT_FOUND"),
                 (("my-proj", "us-east5", "claude-sonnet-4-5@20250929"),
                  {"max_tokens": 4, "messages": []}, 400, "invalid_request_error")]
        async with aiohttp.ClientSession() as raw:
            for parts, body, status, code in cases:
                async with raw.post(base.format(*parts), json=body, headers=auth) as resp:
                    data = await resp.json()
                    assert resp.status == status
                    assert (data["error"].get("status") or data["error"]["type"]) == code
            async with raw.post(base.format("my-proj", "us-east5", "claude-sonnet-4-5@20250929"),
                                json=good, headers=auth) as resp:
                assert resp.status == 200 and resp.headers["request-id"].startswith("req_vrtx_")
            async with raw.get(emu.url + "/projects/my-proj/models", headers=auth) as resp:
                assert resp.status == 404
                assert (await resp.json())["error"]["status"] == "NOT_FOUND"

"""``clauderoute models --sync``: the configured platforms say what they serve (the Claude API's
GET /v1/models; Bedrock's ListFoundationModels + ListInferenceProfiles through boto3's own
``bedrock`` client), and the overlay written makes a model no release knew routable, with the
platform's id; ``clauderoute models`` says where each entry came from."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import clauderoute as cr
from clauderoute._catalog import CACHE_ENV, catalog, origins, overlay_path, reload
from clauderoute._cli import main

bedrock = pytest.importorskip("clauderoute_bedrock")
from clauderoute_anthropic import AnthropicEmulator
from clauderoute_bedrock.emulator import ACCESS_KEY, SECRET_KEY, AwsKey

KEY = "test-anthropic-key"
NEW = "claude-zephyr-6"  # a fixture model: no release of the catalog knows it
NEW_ID = "anthropic.claude-zephyr-6"
OLD_STYLE = "anthropic.claude-zephyr-6-lite-20261201-v1:0"  # an InvokeModel (versioned) id
HELLO = [{"role": "user", "content": "hi"}]
CLI = [sys.executable, "-m", "clauderoute._cli"]

Servers = tuple[AnthropicEmulator, Any, Any]


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    async with (
        AnthropicEmulator(api_key=KEY) as direct,
        bedrock.BedrockEmulator() as runtime,
        bedrock.BedrockMantleEmulator(keys={ACCESS_KEY: AwsKey(SECRET_KEY)}) as mantle,
    ):
        runtime.announce(NEW_ID, "Claude Zephyr 6")
        runtime.announce(OLD_STYLE, "Claude Zephyr 6 Lite", profile_only=False)
        direct.models.insert(
            0,
            {
                "type": "model",
                "id": NEW,
                "display_name": "Claude Zephyr 6",
                "created_at": "2026-12-01T00:00:00Z",
            },
        )
        yield direct, runtime, mantle


def _config(tmp_path: Path, servers: Servers, extra: str = "") -> Path:
    direct, runtime, mantle = servers
    path = tmp_path / "clauderoute.toml"
    path.write_text(
        f'[providers.direct]\nkind = "anthropic"\nbase_url = "{direct.url}"\napi_key = "{KEY}"\n'
        f'[providers.aws-east]\nkind = "bedrock"\nregion = "us-east-1"\n'
        f'base_url = "{runtime.url}"\nmantle_base_url = "{mantle.url}"\n'
        f'control_base_url = "{runtime.url}"\naccess_key = "{ACCESS_KEY}"\n'
        f'secret_key = "{SECRET_KEY}"\n' + extra,
        "utf-8",
    )
    return path


@pytest.fixture(autouse=True)
def _catalog_read_anew() -> Iterator[None]:
    """The next test reads the catalog files again, not the overlay this one synced."""
    yield
    reload()


@pytest.fixture
def command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Awaitable[tuple[int, str, str]]]:
    """The command's ``main`` in this process, in a thread (it runs an event loop of its own;
    the emulators serve on the test's): (exit code, stdout, stderr). One run below goes through
    a real process instead (``_cli``)."""
    monkeypatch.setenv("COLUMNS", "250")

    async def run(*args: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(main, list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env, "COLUMNS": "250"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_sync_makes_a_new_model_routable_on_bedrock(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: Any
) -> None:
    """Before the sync the name passes through unchanged (Bedrock would not know it); after
    it, the call reaches the Messages-API endpoint with the id Bedrock listed, and an
    InvokeModel model gets its profile."""
    _direct, runtime, mantle = servers
    cfg = _config(tmp_path, servers)
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    async with cr.AsyncClient.from_config(cfg) as c:
        await c.messages.create(model=NEW, max_tokens=5, messages=HELLO, provider="aws-east")
    assert runtime.requests[-1].path == f"/model/{NEW}/invoke"  # unknown: passed through

    code, out, err = await command("models", "--sync", "--config", str(cfg))
    assert code == 0, out + err
    assert "direct (anthropic):" in out and "via GET /v1/models" in out
    assert "aws-east (bedrock):" in out and "ListFoundationModels" in out
    overlay = tomllib.loads((cache / "catalog.toml").read_text("utf-8"))
    entry = overlay["models"][NEW]
    assert entry["bedrock"] == NEW_ID and entry["anthropic"] == NEW
    assert entry["bedrock_endpoint"] == "mantle" and entry["bedrock_profile"] is True
    assert entry["bedrock_profiles"] == ["apac", "eu", "global", "us"]
    assert entry["sources"]["bedrock"] == "sync:aws-east"
    assert "ListFoundationModels" in overlay["sources"]["sync:aws-east"]
    assert "claude-haiku-4-5" not in overlay["models"]  # the shipped data agrees: not repeated
    # bedrock-runtime's control plane was asked through boto3, signed for service bedrock.
    listed = [r for r in runtime.requests if r.operation.startswith("bedrock.list")]
    assert [r.operation for r in listed] == [
        "bedrock.list_foundation_models",
        "bedrock.list_inference_profiles",
    ]
    assert "/us-east-1/bedrock/aws4_request" in listed[0].headers["Authorization"]

    reload()
    assert origins(NEW) == (str(overlay_path()),)
    async with cr.AsyncClient.from_config(cfg) as c:
        await c.messages.create(model=NEW, max_tokens=5, messages=HELLO, provider="aws-east")
        await c.messages.create(
            model="claude-zephyr-6-lite", max_tokens=5, messages=HELLO, provider="aws-east"
        )
    assert mantle.requests[-1].path == "/anthropic/v1/messages"
    assert json.loads(mantle.requests[-1].body)["model"] == NEW_ID
    assert runtime.requests[-1].path == f"/model/{OLD_STYLE}/invoke"  # on demand: no profile


async def test_models_shows_where_each_entry_came_from(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: Any
) -> None:
    """The table printed right after a sync (in the process that wrote the overlay), and the
    JSON of a later process (which reads it from the cache), name each entry's origin."""
    cfg = _config(tmp_path, servers, 'models = { claude-opus-5 = "my-opus" }\n')
    env = {CACHE_ENV: str(tmp_path / "cache")}
    monkeypatch.setenv(CACHE_ENV, env[CACHE_ENV])
    code, out, err = await command(
        "models", "--sync", "--config", str(cfg), "--platform", "bedrock"
    )
    assert code == 0, err
    assert "aws-east (bedrock):" in out and "ListFoundationModels" in out  # the sync's report
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
    assert "synced" in rows[NEW] and "config:aws-east" in rows["claude-opus-5"]
    code, out, err = await _cli("models", "--json", "--config", str(cfg), env=env)
    assert code == 0, err
    data = json.loads(out)
    assert data[NEW]["from"] == "synced" and data["claude-opus-4-7"]["from"] == "shipped"


async def test_a_provider_that_cannot_be_asked_is_reported(tmp_path: Path, command: Any) -> None:
    """A platform with no listing is skipped and said to be; one that cannot be reached
    makes the sync exit 1, naming it; what the others said is still written."""
    async with AnthropicEmulator(api_key=KEY) as direct:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[providers.direct]\nkind = "anthropic"\nbase_url = "{direct.url}"\n'
            f'api_key = "{KEY}"\n[providers.azure]\nkind = "foundry"\n'
            f'base_url = "{direct.url}/anthropic"\napi_key = "k"\n'
            f'[providers.gone]\nkind = "anthropic"\nbase_url = "http://127.0.0.1:9"\n'
            f'api_key = "{KEY}"\nmax_retries = 0\n',
            "utf-8",
        )
        out_file = tmp_path / "overlay.toml"
        code, out, err = await command(
            "models", "--sync", "--config", str(cfg), "--output", str(out_file)
        )
    assert code == 1, out + err
    assert "azure (foundry): skipped, the platform offers no model listing" in out
    assert "gone (anthropic): skipped, ConnectError" in out
    assert KEY not in out + err
    assert "direct" in tomllib.loads(out_file.read_text())["sources"]["sync:direct"]


async def test_boto3_bedrock_client_reads_the_emulated_listings() -> None:
    """boto3's own bedrock client parses both listings (every profile page) from the
    emulator, which verified its signatures."""
    boto3 = pytest.importorskip("boto3")
    async with bedrock.BedrockEmulator() as runtime:
        runtime.announce(NEW_ID)
        runtime.profiles_page_size = 3

        def listing() -> tuple[Any, list[Any]]:
            client = boto3.client(
                "bedrock",
                region_name="us-east-1",
                endpoint_url=runtime.url,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
            )
            try:
                models = client.list_foundation_models(byProvider="anthropic")
                pages = client.get_paginator("list_inference_profiles").paginate(
                    typeEquals="SYSTEM_DEFINED"
                )
                return models, [p for page in pages for p in page["inferenceProfileSummaries"]]
            finally:
                client.close()

        models, profiles = await asyncio.to_thread(listing)
    ids = [m["modelId"] for m in models["modelSummaries"]]
    assert NEW_ID in ids and all(
        isinstance(m["modelLifecycle"]["status"], str) for m in models["modelSummaries"]
    )
    assert f"global.{NEW_ID}" in {p["inferenceProfileId"] for p in profiles}
    assert len(profiles) > 3  # more than one page was followed
    assert all(p["createdAt"].year == 2026 for p in profiles)  # timestamps parsed
    assert NEW not in catalog()  # the emulator's announcement alone changes nothing

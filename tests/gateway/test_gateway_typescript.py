"""The official TypeScript SDK (``@anthropic-ai/sdk`` from npm, run by node) against the
gateway: create, stream (an SSE platform and Bedrock's event-stream turned into SSE),
count_tokens, models, and a wrong key."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import ssl
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCRIPT = r"""
import Anthropic from '@anthropic-ai/sdk';
const [url, key] = process.argv.slice(2);
const client = new Anthropic({ apiKey: key, baseURL: url, maxRetries: 0 });
const out = {};
const prompt = [{ role: 'user', content: 'hello from typescript' }];
const { data: msg, response } = await client.messages
  .create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: prompt }).withResponse();
out.text = msg.content[0].text;
out.provider = response.headers.get('x-clauderoute-provider');
out.streams = {};
for (const pin of ['anthropic', 'bedrock']) {
  const stream = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 16,
    messages: prompt }, { headers: { 'x-clauderoute-provider': pin } });
  out.streams[pin] = await stream.finalText();
}
out.count = (await client.messages.countTokens({ model: 'claude-haiku-4-5',
  messages: prompt })).input_tokens;
out.models = (await client.models.list()).data.length;
try {
  await new Anthropic({ apiKey: 'wrong', baseURL: url, maxRetries: 0 }).messages
    .create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: prompt });
  out.wrong = 'accepted';
} catch (e) { out.wrong = [e.status, e.error?.error?.type]; }
console.log(JSON.stringify(out));
"""


# Read at import: the suite's clean_environ removes CLAUDEROUTE_* variables around each test.
_REQUIRED = os.environ.get("CLAUDEROUTE_REQUIRE_NODE") == "1"
_ORIGINAL_SSL_CERT_FILE = os.environ.get("SSL_CERT_FILE")  # (clean_environ replaces it)


# Where npm installs the SDK, kept between runs (git-ignored), as mypy keeps its cache. Every run
# asks the registry for the newest @anthropic-ai/sdk and runs npm install when the one here is
# not that one (~3 s of CPU for a fresh install). When it is, npm is not started at all: npm
# install of an installed version still costs ~0.65 s of CPU and ~1 s of waiting, against
# ~0.05 s for the one request below. When the registry cannot be asked that way (no network, a
# registry only npm's own configuration names), npm install runs and decides, as before.
SDK_DIR = Path(__file__).resolve().parents[2] / ".ts-sdk"
_REGISTRY = os.environ.get("npm_config_registry", "https://registry.npmjs.org/")


def _installed_version() -> str | None:
    try:
        package = SDK_DIR / "node_modules" / "@anthropic-ai" / "sdk" / "package.json"
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _latest_version() -> str | None:
    """The version the registry's ``latest`` tag names, or None if it could not be read."""
    url = _REGISTRY.rstrip("/") + "/@anthropic-ai%2Fsdk/latest"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        # The certificate authorities of the machine (see _npm_environ), not the suite's file.
        if _ORIGINAL_SSL_CERT_FILE is not None:
            context = ssl.create_default_context(cafile=_ORIGINAL_SSL_CERT_FILE)
        else:
            default = ssl.get_default_verify_paths()
            context = ssl.create_default_context(
                cafile=default.openssl_cafile if os.path.exists(default.openssl_cafile) else None,
                capath=default.openssl_capath if os.path.isdir(default.openssl_capath) else None,
            )
        with urllib.request.urlopen(request, timeout=60, context=context) as answer:
            return str(json.loads(answer.read())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _npm_environ() -> dict[str, str]:
    """The environment npm runs in: the test's, with the certificate authorities of the
    machine. The suite points ``SSL_CERT_FILE`` at a file trusting no public server (every
    test stays on loopback), but npm reaches the registry, and a node built to use OpenSSL's
    default store would honour that variable; the value the run started with is restored."""
    env = dict(os.environ)
    env.pop("SSL_CERT_FILE", None)
    if _ORIGINAL_SSL_CERT_FILE is not None:
        env["SSL_CERT_FILE"] = _ORIGINAL_SSL_CERT_FILE
    return env


@pytest.fixture
def ts_sdk() -> Iterator[Path]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed to run the official TypeScript SDK"
        if _REQUIRED:
            pytest.fail(reason + "; CI sets CLAUDEROUTE_REQUIRE_NODE=1 and must not skip this")
        pytest.skip(reason)
    SDK_DIR.mkdir(exist_ok=True)
    with (SDK_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs of one checkout take turns
        (SDK_DIR / "package.json").write_text('{"type": "module", "private": true}')
        installed = _installed_version()
        if installed is None or installed != _latest_version():
            done = subprocess.run(
                [npm, "install", "--silent", "--no-audit", "--no-fund", "@anthropic-ai/sdk@latest"],
                cwd=SDK_DIR,
                capture_output=True,
                timeout=600,
                check=False,
                env=_npm_environ(),
            )
            assert done.returncode == 0, done.stderr.decode()[-2000:]
        (SDK_DIR / "run.mjs").write_text(SCRIPT)
        yield SDK_DIR  # (held until the test is done with it)


async def test_typescript_sdk_through_the_gateway(ts_sdk: Path, fleet_of: Any, kit: Any) -> None:
    fleet = await fleet_of(kinds=["anthropic", "bedrock"])
    async with kit.run_gateway(fleet.providers) as g:
        proc = await asyncio.create_subprocess_exec(
            "node",
            "run.mjs",
            g.url,
            kit.KEY,
            cwd=ts_sdk,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    expected = "Echo: hello from typescript"
    assert result["text"] == expected and result["provider"] == "anthropic"
    assert result["streams"] == {"anthropic": expected, "bedrock": expected}
    assert result["count"] > 0 and result["models"] > 0
    assert result["wrong"] == [401, "authentication_error"]

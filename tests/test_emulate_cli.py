"""``clauderoute emulate`` as a user runs it: a subprocess serving every installed emulator on
fixed ports, whose printed config and credentials reach each platform through
``AsyncClient.from_config``, strict about model names, stopped by SIGTERM with exit 0 (issue 17
item 7); and what Bedrock's ``base_url`` and a DNS failure do with those emulators."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import clauderoute
from clauderoute import AsyncClient
from clauderoute._cli._emulate import PLATFORMS
from clauderoute._registry import EMULATORS, installed

MODEL = "claude-haiku-4-5"
HELLO: Any = [{"role": "user", "content": "hello emulator"}]


def _ephemeral_low() -> int:
    """The first port the kernel hands out to outgoing connections (Linux's setting, else
    its default)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free_base(span: int) -> int:
    """A first port with ``span`` free ports after it (checked by binding each), below the
    ports the kernel gives outgoing connections: a connection of a test running alongside
    cannot take one between this check and the emulators' bind."""
    top = max(20000 + span + 1, _ephemeral_low() - span)
    for _ in range(50):
        base = random.randrange(20000, top)
        socks = []
        try:
            for port in range(base, base + span):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


class Emulate:
    """A running ``clauderoute emulate`` and what it printed."""

    def __init__(self, proc: asyncio.subprocess.Process, lines: list[str]) -> None:
        self.proc, self.lines = proc, lines
        self.env = dict(
            line[len("export ") :].split("=", 1) for line in lines if line.startswith("export ")
        )
        start = lines.index("# clauderoute.toml:") + 1
        self.toml = "\n".join(lines[start : lines.index("# ready")]) + "\n"


async def _start(*args: str) -> Emulate:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clauderoute._cli",
        "emulate",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ.copy(),
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "# ready":
        raw = await asyncio.wait_for(proc.stdout.readline(), 60)  # a guard, not a timing
        if not raw:
            err = await proc.stderr.read() if proc.stderr else b""
            pytest.fail(f"emulate exited early: {err.decode()[-2000:]}")
        lines.append(raw.decode().rstrip("\n"))
    return Emulate(proc, lines)


async def _stop(emu: Emulate) -> tuple[int, str]:
    emu.proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(emu.proc.communicate(), 60)
    assert emu.proc.returncode is not None
    return emu.proc.returncode, err.decode()


async def _started_on_free_ports() -> tuple[Emulate, int]:
    base = _free_base(len(PLATFORMS))
    return await _start("--port", str(base), "--strict"), base


@asynccontextmanager
async def _client_of(
    emu: Emulate, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[AsyncClient]:
    """A client on ``emu``'s printed configuration and credentials."""
    for name, value in emu.env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "clauderoute.toml"
    path.write_text(emu.toml)
    async with AsyncClient.from_config(path, max_retries=0) as client:
        yield client


@pytest.fixture
async def emulate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[tuple[Emulate, AsyncClient, int]]:
    """A process of this test's own (it stops it)."""
    emu, base = await _started_on_free_ports()
    try:
        async with _client_of(emu, monkeypatch, tmp_path) as client:
            yield emu, client, base
    finally:
        if emu.proc.returncode is None:
            emu.proc.kill()
            await emu.proc.wait()


@pytest.fixture(scope="module")
async def shared_process() -> AsyncIterator[Emulate]:
    """One process for the tests that only call it (each start is ~0.4 s of CPU); SIGTERM at
    the end must stop it with 0 as well."""
    emu, _ = await _started_on_free_ports()
    try:
        yield emu
        code, err = await _stop(emu)
        assert code == 0, err
    finally:
        if emu.proc.returncode is None:
            emu.proc.kill()
            await emu.proc.wait()


# The tests on the shared process, on one pytest-xdist worker (so it starts once).
_SHARED = pytest.mark.xdist_group("emulate-shared-process")


@pytest.fixture
async def shared_client(
    shared_process: Emulate, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[AsyncClient]:
    async with _client_of(shared_process, monkeypatch, tmp_path) as client:
        yield client


async def test_printed_config_reaches_every_platform_then_sigterm_exits_0(
    emulate: tuple[Emulate, AsyncClient, int],
) -> None:
    """Each installed platform answers a real call on its fixed port; SIGTERM stops it all."""
    emu, client, base = emulate
    kinds = [k for k in PLATFORMS if k in installed(EMULATORS)]
    assert emu.toml.count("[providers.") == len(kinds) >= 1
    for kind in kinds:
        assert f":{base + PLATFORMS[kind].offset}" in emu.toml
        msg = await client.messages.create(
            model=MODEL, max_tokens=16, messages=HELLO, provider=kind
        )
        assert msg.route.provider == kind and msg.text == "Echo: hello emulator"
        async with client.messages.stream(
            model=MODEL, max_tokens=16, messages=HELLO, provider=kind
        ) as s:
            assert await s.get_final_text() == "Echo: hello emulator"
    code, err = await _stop(emu)
    assert code == 0, err
    assert "Traceback" not in err


@_SHARED
async def test_strict_rejects_a_typo_in_the_platforms_own_shape(shared_client: AsyncClient) -> None:
    """--strict: a misspelt model is refused by each platform, as that platform refuses it."""
    client = shared_client
    for kind in [k for k in PLATFORMS if k in installed(EMULATORS)]:
        with pytest.raises(clauderoute.APIStatusError) as caught:
            await client.messages.create(
                model="claude-haiku-4-55", max_tokens=8, messages=HELLO, provider=kind
            )
        # Bedrock's InvokeModel answers an unknown id with a 400 ValidationException.
        expected = clauderoute.BadRequestError if kind == "bedrock" else clauderoute.NotFoundError
        assert isinstance(caught.value, expected), (kind, caught.value)


@_SHARED
async def test_bedrock_base_url_reaches_messages_api_models(shared_client: AsyncClient) -> None:
    """claude-opus-4-7 (a Messages-API model on Bedrock) goes to base_url, not bedrock-mantle."""
    if "bedrock" not in installed(EMULATORS):
        pytest.skip("clauderoute-bedrock is not installed")
    client = shared_client
    msg = await client.messages.create(
        model="claude-opus-4-7", max_tokens=16, messages=HELLO, provider="bedrock"
    )
    assert msg.route.provider == "bedrock" and msg.text == "Echo: hello emulator"


async def test_dns_failure_names_the_host() -> None:
    """A host that cannot resolve is named in the error (RFC 2606: .invalid never resolves)."""
    from clauderoute_anthropic import AnthropicProvider

    provider = AnthropicProvider(
        base_url="https://no-such-host.invalid:8080/x?k=v", api_key="k", max_retries=0
    )
    async with AsyncClient(providers=[provider]) as client:
        with pytest.raises(clauderoute.APIConnectionError) as caught:
            await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    text = str(caught.value)
    assert "no-such-host.invalid:8080" in text and "k=v" not in text


def test_unknown_platform_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--platforms with a name that is no platform: exit 2, the flag named."""
    from clauderoute._cli import main

    assert main(["emulate", "--platforms", "anthropic,bedrok"]) == 2
    assert "--platforms" in capsys.readouterr().err


async def test_strict_is_opt_in_and_knows_dated_ids() -> None:
    """Not strict: any name is served; strict: the catalog's names and dated ids still are."""
    from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

    for strict in (False, True):
        async with AnthropicEmulator(api_key="k", strict=strict) as emu:
            provider = AnthropicProvider(base_url=emu.url, api_key="k", max_retries=0)
            async with AsyncClient(providers=[provider]) as client:
                for model in ("claude-haiku-4-5", "claude-haiku-4-5-20251001"):
                    await client.messages.create(model=model, max_tokens=8, messages=HELLO)
                call = client.messages.create(
                    model="claude-haiku-4-55", max_tokens=8, messages=HELLO
                )
                if strict:
                    with pytest.raises(clauderoute.NotFoundError, match="claude-haiku-4-55"):
                        await call
                else:
                    assert (await call).text == "Echo: hello emulator"


async def test_ctrl_c_exits_0_and_write_config(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) stops cleanly with 0; --write-config writes the printed TOML."""
    path = tmp_path / "emu.toml"
    emu = await _start("--platforms", "anthropic", "--port", "0", "--write-config", str(path))
    assert path.read_text() == emu.toml
    assert emu.env == {"ANTHROPIC_API_KEY": "test-anthropic-key"}
    emu.proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(emu.proc.communicate(), 60)
    assert emu.proc.returncode == 0, err.decode()

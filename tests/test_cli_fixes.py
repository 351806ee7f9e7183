"""Small CLI fixes of issue 17 item 9, run as a user runs the command: an interrupted bench keeps
what it measured, the demo works with one platform installed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "clauderoute._cli", *args]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_interrupted_bench_writes_partial_results(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """SIGINT/SIGTERM mid-run: run.json and requests.jsonl are written, marked partial, exit
    130; every record kept is a finished request.

    The bench measures this test's emulator, one request at a time (one warm-up): when the
    emulator has received the third request, the second (a measured one) has finished, and the
    third is cut off by the signal."""
    from clauderoute_anthropic import AnthropicEmulator

    from clauderoute.testing import LatencyProfile

    async with AnthropicEmulator(api_key="k", latency=LatencyProfile(ttft_s=0.02)) as emu:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[providers.direct]\nkind = "anthropic"\nbase_url = "{emu.url}"\napi_key = "k"\n'
        )
        proc = await asyncio.create_subprocess_exec(
            *_cli(
                "bench",
                "--config",
                str(cfg),
                "--concurrency",
                "1",
                "--warmup",
                "1",
                "--requests",
                "100000",
                "--no-plot",
                "--out",
                str(tmp_path),
                "--run-id",
                "cut",
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(120):
                while len(emu.requests) < 3:
                    assert proc.returncode is None, await proc.communicate()
                    await asyncio.sleep(0.01)
                proc.send_signal(sig)
                out_b, err_b = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    out, err = out_b.decode(), err_b.decode()
    assert proc.returncode == 130, err
    assert "partial" in out
    run = json.loads((tmp_path / "cut" / "run.json").read_text())
    lines = (tmp_path / "cut" / "requests.jsonl").read_text().splitlines()
    assert run["partial"] is True
    records = [json.loads(x) for x in lines]
    assert any(not r["warmup"] for r in records), "nothing measured before the interrupt"
    assert all(r["status"] != "cancelled" for r in records)
    assert sum(g["started"] for g in run["groups"]) == sum(not r["warmup"] for r in records)


def test_demo_succeeds_with_one_platform() -> None:
    """Only the Claude API's emulator (as after `pip install clauderoute`): the demo's faults
    are absorbed by retries and it exits 0."""
    done = subprocess.run(
        _cli("demo", "--quick", "--platforms", "anthropic"),
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 platform emulated" in done.stdout
    assert "0 failed" in done.stdout and "retry" in done.stdout


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["demo", "--calls", "0"], "--calls"),
        (["demo", "--per-platform", "-1"], "--per-platform"),
        (["demo", "--platforms", "nowhere"], "--platforms"),
        (["bench", "--requests", "0"], "--requests"),
        (["bench", "--rate", "nan"], "--rate"),
        (["bench", "--max-tokens", "-3"], "--max-tokens"),
        (["bench", "--concurrency", "0"], "--concurrency"),
    ],
)
def test_usage_errors_name_the_flag(
    args: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad option value: exit 2, and the message names that flag (and only that one)."""
    from clauderoute._cli import main

    assert main(args) == 2
    err = capsys.readouterr().err
    assert flag in err
    others = {
        "--calls",
        "--per-platform",
        "--requests",
        "--rate",
        "--max-tokens",
        "--concurrency",
    } - {flag}
    assert others.isdisjoint(err.replace(",", " ").split())


@pytest.mark.parametrize("command", ["demo", "emulate", "bench", "models", "check"])
def test_help_has_no_rest_markup(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`clauderoute COMMAND --help` shows plain text, not reST double backticks."""
    from clauderoute._cli import main

    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert command in out and "``" not in out


def test_missing_kind_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider table without kind is refused, naming the table, not read as its name."""
    # Wide enough that the message's table cell is not cut whatever the length of tmp_path
    # (under pytest-xdist it is longer and the 120-column table cut the message).
    monkeypatch.setenv("COLUMNS", "250")
    import clauderoute
    from clauderoute._cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text('[providers.anthropic]\napi_key = "k"\n')
    with pytest.raises(clauderoute.ConfigurationError, match=r'providers\.anthropic.*"kind"'):
        clauderoute.AsyncClient.from_config(cfg)
    assert main(["check", "--config", str(cfg)]) == 2
    assert 'missing "kind"' in capsys.readouterr().out


async def test_stream_interrupted_names_the_provider_once() -> None:
    """A stream cut after content: "[direct]" and the request id appear once each."""
    from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

    import clauderoute
    from clauderoute.testing import Fault

    async with AnthropicEmulator(api_key="k") as emu:
        emu.faults.add(Fault(after_events=4, cut=True))
        provider = AnthropicProvider(name="direct", base_url=emu.url, api_key="k", max_retries=0)
        async with clauderoute.AsyncClient(providers=[provider]) as client:
            with pytest.raises(clauderoute.StreamInterruptedError) as caught:
                async with client.messages.stream(
                    model="claude-haiku-4-5",
                    max_tokens=30,
                    messages=[{"role": "user", "content": "one two three four five"}],
                ) as s:
                    async for _ in s.text_stream:
                        pass
    text = str(caught.value)
    assert text.count("[direct]") == 1 and text.count("request id") == 1, text

"""``clauderoute serve`` as a process: SIGTERM drains streams then exits 0, SIGHUP reloads
without dropping streams, ``--workers`` restarts a crashed worker, and a non-loopback address
without keys is refused."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from clauderoute.testing import LatencyProfile
from tests.official_sdk import SDK_WORKER

KEY, NEW_KEY = "proc-key-0123456789", "proc-new-key-9876543210"
PROMPT = [{"role": "user", "content": "word " * 40}]
LISTEN = re.compile(rb"pid (\d+) listening on http://127\.0\.0\.1:(\d+)")


class Serve:
    """A ``clauderoute serve`` subprocess and the lines of its stderr."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[bytes] = []
        self.termed = False
        self._new = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.lines.append(line)
            self._new.set()

    async def line(self, pattern: bytes, after: int = 0, limit: float = 60) -> re.Match[bytes]:
        """The first stderr line from index ``after`` on that matches ``pattern``."""

        async def find() -> re.Match[bytes]:
            i = after
            while True:
                while i < len(self.lines):
                    m = re.search(pattern, self.lines[i])
                    i += 1
                    if m:
                        return m
                if self._reader.done():
                    raise AssertionError(b"".join(self.lines).decode())
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(find(), limit)

    def kill(self, sig: int) -> None:
        """Send ``sig`` unless the process is known to be gone. Not through
        ``proc.send_signal``: it first polls (``waitpid(WNOHANG)``), which reaps a process that
        has just exited before asyncio's child watcher does; the watcher then finds no child
        and reports exit code 255 instead of the real one. An exited but unreaped process keeps
        its pid, so ``os.kill`` cannot reach another process."""
        if self.proc.returncode is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def term(self) -> None:
        """SIGTERM, once: a second one that lands after the drain, once the loop has closed
        and the default action is back, kills the exiting process (exit -15, not 0)."""
        if not self.termed:
            self.kill(signal.SIGTERM)
            self.termed = True

    async def stop(self) -> int:
        self.term()
        code = await asyncio.wait_for(self.proc.wait(), 60)
        await self._reader
        return code

    async def insist(self) -> int:
        """Stop it as a supervisor that insists does: SIGTERM every few ms until the process
        is gone (before, during and after its drain); returns the exit code. A clean drain
        must not turn into death by signal: closing the loop after the drain restored
        SIGTERM's default action, and a late one killed the process (-15)."""
        async with asyncio.timeout(60):
            while self.proc.returncode is None:
                self.kill(signal.SIGTERM)
                try:
                    await asyncio.wait_for(asyncio.shield(self.proc.wait()), 0.002)
                except TimeoutError:
                    pass
        self.termed = True
        return await self.stop()


def _config(path: Path, url: str, secret: str, keys: list[str]) -> None:
    quoted = ", ".join(f'"{k}"' for k in keys)
    path.write_text(
        f'[providers.direct]\nkind = "anthropic"\nbase_url = "{url}"\n'
        f'api_key = "{secret}"\nmax_retries = 0\n\n[gateway]\n'
        f"api_keys = [{quoted}]\ndrain_timeout_s = 30\n"
    )


async def _serve(config: Path, *args: str, stdout: int = asyncio.subprocess.DEVNULL) -> Serve:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clauderoute._cli",
        "serve",
        "--config",
        str(config),
        "--port",
        "0",
        *args,
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    return Serve(proc)


@pytest.fixture
async def emulator(fleet_of: Any) -> Any:
    fleet = await fleet_of(kinds=["anthropic"])
    return fleet.members[0]


@SDK_WORKER
async def test_sigterm_drains_a_stream_then_exits_0(emulator: Any, tmp_path: Path) -> None:
    import anthropic

    emulator.emulator.latency = LatencyProfile(per_token_s=0.02)  # ~1 s of tokens
    cfg = tmp_path / "c.toml"
    _config(cfg, emulator.emulator.url, emulator.secret, [KEY])
    serve = await _serve(cfg)
    try:
        port = int((await serve.line(LISTEN.pattern)).group(2))
        client = anthropic.AsyncAnthropic(
            api_key=KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0
        )
        async with client.messages.stream(
            model="claude-haiku-4-5", max_tokens=40, messages=PROMPT
        ) as s:
            texts = [await anext(s.text_stream)]
            serve.term()  # mid-stream
            texts += [t async for t in s.text_stream]
            final = await s.get_final_message()
        assert final.stop_reason == "max_tokens" and len("".join(texts).split()) == 40
        await client.close()
    finally:
        code = await serve.stop()
    assert code == 0
    await serve.line(rb"drained \(0 request")


@SDK_WORKER
async def test_sighup_reloads_without_dropping_a_stream(emulator: Any, tmp_path: Path) -> None:
    import anthropic

    emulator.emulator.latency = LatencyProfile(per_token_s=0.02)
    cfg = tmp_path / "c.toml"
    _config(cfg, emulator.emulator.url, emulator.secret, [KEY])
    serve = await _serve(cfg)
    try:
        url = f"http://127.0.0.1:{int((await serve.line(LISTEN.pattern)).group(2))}"
        old = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)
        new = anthropic.AsyncAnthropic(api_key=NEW_KEY, base_url=url, max_retries=0)
        with pytest.raises(anthropic.AuthenticationError):
            await new.messages.create(model="claude-haiku-4-5", max_tokens=4, messages=PROMPT)
        async with old.messages.stream(
            model="claude-haiku-4-5", max_tokens=40, messages=PROMPT
        ) as s:
            await anext(s.text_stream)
            _config(cfg, emulator.emulator.url, emulator.secret, [NEW_KEY])
            mark = len(serve.lines)
            serve.proc.send_signal(signal.SIGHUP)
            await serve.line(rb"reloaded", after=mark)
            final = await s.get_final_message()  # the old stream goes on to its end
        assert final.stop_reason == "max_tokens"
        msg = await new.messages.create(model="claude-haiku-4-5", max_tokens=4, messages=PROMPT)
        assert msg.content
        with pytest.raises(anthropic.AuthenticationError):
            await old.messages.create(model="claude-haiku-4-5", max_tokens=4, messages=PROMPT)
        await old.close()
        await new.close()
    finally:
        assert await serve.stop() == 0


@SDK_WORKER
async def test_workers_share_a_port_and_a_crashed_one_restarts(
    emulator: Any, tmp_path: Path
) -> None:
    """Two workers on one port; one killed is restarted and both serve. Then SIGTERM, again
    and again until the supervisor is gone: it still exits 0 (``Serve.insist``). The single
    process's insisting stop is in the access-log test (one process for both: each start
    costs ~0.4 s of CPU, a supervised one three times that)."""
    import anthropic

    cfg = tmp_path / "c.toml"
    _config(cfg, emulator.emulator.url, emulator.secret, [KEY])
    serve = await _serve(cfg, "--workers", "2")
    try:
        first = await serve.line(LISTEN.pattern)
        second = await serve.line(
            LISTEN.pattern,
            after=serve.lines.index(next(l for l in serve.lines if LISTEN.search(l))) + 1,
        )
        assert first.group(2) == second.group(2) and first.group(1) != second.group(1)
        url = f"http://127.0.0.1:{int(first.group(2))}"
        victim = int(first.group(1))
        mark = len(serve.lines)
        os.kill(victim, signal.SIGKILL)
        await serve.line(rb"exited with -9; restarting", after=mark)
        again = await serve.line(LISTEN.pattern, after=mark)
        assert int(again.group(1)) not in (victim, int(second.group(1)))
        client = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)
        for _ in range(6):  # new connections each time, spread over both workers
            msg = await client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=4,
                messages=PROMPT,
                extra_headers={"connection": "close"},
            )
            assert msg.content
        await client.close()
    finally:
        assert await serve.insist() == 0
    await serve.line(rb"drained \(0 request")


async def test_refuses_non_loopback_without_keys(emulator: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    _config(cfg, emulator.emulator.url, emulator.secret, [])
    serve = await _serve(cfg, "--host", "0.0.0.0")
    assert await asyncio.wait_for(serve.proc.wait(), 60) == 2
    await serve.line(rb"gateway.api_keys: refusing to listen on '0.0.0.0'")
    await serve.stop()


@SDK_WORKER
async def test_the_access_log_is_one_json_line_per_request_on_stdout(
    emulator: Any, tmp_path: Path
) -> None:
    """Written straight to stdout (not through a logging record): one line per request, in
    order, naming the key and never its value, and flushed as each request ends. Stopped by
    insisting SIGTERMs: still exit 0 (``Serve.insist``)."""
    import anthropic

    cfg = tmp_path / "c.toml"
    _config(cfg, emulator.emulator.url, emulator.secret, [KEY])
    serve = await _serve(cfg, stdout=asyncio.subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{int((await serve.line(LISTEN.pattern)).group(2))}"
        client = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)
        wrong = anthropic.AsyncAnthropic(api_key="wrong-key-000", base_url=url, max_retries=0)
        assert serve.proc.stdout is not None
        await client.messages.create(model="claude-haiku-4-5", max_tokens=4, messages=PROMPT)
        first = json.loads(await asyncio.wait_for(serve.proc.stdout.readline(), 60))
        with pytest.raises(anthropic.AuthenticationError):
            await wrong.messages.create(model="claude-haiku-4-5", max_tokens=4, messages=PROMPT)
        second = json.loads(await asyncio.wait_for(serve.proc.stdout.readline(), 60))
        assert (first["key"], first["status"], first["provider"]) == ("key-1", 200, "direct")
        assert first["output_tokens"] == 4 and first["request_id"] != second["request_id"]
        assert (second["key"], second["status"]) == ("-", 401)
        await client.close()
        await wrong.close()
    finally:
        assert await serve.insist() == 0
    await serve.line(rb"drained \(0 request")
    rest = await serve.proc.stdout.read()
    assert KEY.encode() not in rest


async def test_each_log_line_is_one_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers of ``--workers N`` share one stderr: a line written as its text and then its
    newline (what ``print`` does) interleaves with another worker's (seen as two "listening"
    lines on one, and a test waiting 60 s for the missing one). Every line goes out whole."""
    from clauderoute.gateway import _serve

    class Recording:
        def __init__(self) -> None:
            self.writes: list[str] = []

        def write(self, text: str) -> int:
            self.writes.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    err = Recording()
    monkeypatch.setattr(sys, "stderr", err)
    bad = tmp_path / "bad.toml"
    bad.write_text("[providers.x]\nkind = 42\n")
    running = {"host": "127.0.0.1", "port": 0, "workers": 1}
    await _serve._reload(None, str(bad), running, frozenset())  # type: ignore[arg-type]
    assert err.writes and all(w.endswith("\n") and w.count("\n") == 1 for w in err.writes)
    assert "reload refused" in err.writes[0]

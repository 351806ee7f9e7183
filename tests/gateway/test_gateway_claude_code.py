"""Claude Code headless (``claude -p``) pointed at ``clauderoute serve`` with
``ANTHROPIC_BASE_URL`` and a gateway key: it finishes with the platform's answer, streamed
through the gateway. Runs when ``claude`` is on PATH (``npm install -g
@anthropic-ai/claude-code``); skipped otherwise."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest
from clauderoute_anthropic import AnthropicEmulator

from tests.gateway.test_serve_process import LISTEN, _serve

CLAUDE = shutil.which("claude")
pytestmark = pytest.mark.skipif(CLAUDE is None, reason="claude (Claude Code) is not on PATH")
KEY = "claude-code-gw-key-0123456789"


async def test_claude_p_through_the_gateway(tmp_path: Path) -> None:
    assert CLAUDE is not None
    async with AnthropicEmulator(api_key="platform-key") as emu:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[providers.direct]\nkind = "anthropic"\nbase_url = "{emu.url}"\n'
            f'api_key = "platform-key"\nmax_retries = 0\n[gateway]\napi_keys = ["{KEY}"]\n'
        )
        serve = await _serve(cfg, stdout=asyncio.subprocess.PIPE)
        try:
            port = int((await serve.line(LISTEN.pattern)).group(2))
            env = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": str(tmp_path),
                "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
                "ANTHROPIC_API_KEY": KEY,
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            }
            proc = await asyncio.create_subprocess_exec(
                CLAUDE, "-p", "say hello", env=env, cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                out, err = await asyncio.wait_for(proc.communicate(), 180)  # a guard, not timing
            except TimeoutError:
                proc.kill()
                await proc.wait()
                pytest.fail(f"claude did not finish; the platform saw {len(emu.requests)}")
        finally:
            assert await serve.stop() == 0
        assert serve.proc.stdout is not None
        access = [json.loads(line) for line in (await serve.proc.stdout.read()).splitlines()]
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert out.decode().strip() == "Echo: say hello"
    messages = [r for r in emu.requests if r.path.startswith("/v1/messages")]
    assert 1 <= len(messages) <= 3
    assert all(r.headers.get("x-api-key") == "platform-key" for r in messages)  # not KEY
    served = [a for a in access if a["path"] == "/v1/messages"]
    assert served and all(a["status"] == 200 and a["provider"] == "direct" for a in served)

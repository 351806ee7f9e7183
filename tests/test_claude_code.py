"""Claude Code, pointed at the Claude API emulator, finishes a one-shot prompt instead of looping
on tool calls (issue 17 item 7). Runs when ``claude`` is on PATH (``npm install -g
@anthropic-ai/claude-code``); skipped otherwise."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from clauderoute_anthropic import AnthropicEmulator

CLAUDE = shutil.which("claude")
pytestmark = pytest.mark.skipif(CLAUDE is None, reason="claude (Claude Code) is not on PATH")


async def test_claude_p_say_hello_ends(tmp_path: Path) -> None:
    """`claude -p "say hello"` exits 0 with the emulator's text after one or two requests."""
    assert CLAUDE is not None
    async with AnthropicEmulator(api_key="test-anthropic-key") as emu:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
               "ANTHROPIC_BASE_URL": emu.root, "ANTHROPIC_API_KEY": "test-anthropic-key",
               "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
        proc = await asyncio.create_subprocess_exec(
            CLAUDE, "-p", "say hello", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            # A guard against the old endless loop, not a timing assertion.
            out, err = await asyncio.wait_for(proc.communicate(), 120)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            sent = sum(r.path.startswith("/v1/messages") for r in emu.requests)
            pytest.fail(f"claude did not finish; {sent} Messages requests so far")
    messages = [r for r in emu.requests if r.path.startswith("/v1/messages")]
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert out.decode().strip() == "Echo: say hello"
    assert 1 <= len(messages) <= 3

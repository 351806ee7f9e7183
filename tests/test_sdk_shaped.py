"""Code written for the official SDK runs on clauderoute with only the names swapped.

``tests/sdk_shaped/examples.py`` is SDK code in the shapes of the SDK README (create, stream,
raw events, count_tokens, tool use, errors, ``with_options``, raw responses, the sync client,
threads). Each example runs twice against the bundled Claude API emulator, configured only
through ``ANTHROPIC_BASE_URL``/``ANTHROPIC_API_KEY`` as an SDK user configures the API: as
written, with the official SDK, and with the names swapped token by token to clauderoute's.
Both runs must observe the same thing.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import io
import threading
import tokenize
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator

from tests.official_sdk import SDK_WORKER

EXAMPLES = Path(__file__).parent / "sdk_shaped" / "examples.py"
SWAP = {"anthropic": "clauderoute", "AsyncAnthropic": "AsyncClient", "Anthropic": "Client"}


def swapped(source: str) -> str:
    """``source`` with the SDK's names replaced by clauderoute's: names only, never strings."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in SWAP:
            tok = tok._replace(string=SWAP[tok.string])
        out.append(tok)
    return tokenize.untokenize(out)


def load(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(EXAMPLES)
    exec(compile(source, str(EXAMPLES), "exec"), module.__dict__)  # noqa: S102 - our own file
    return module


@pytest.fixture(scope="module")
def emulator() -> Iterator[AnthropicEmulator]:
    """The Claude API emulator, on its own loop thread (the sync examples block theirs)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emu = AnthropicEmulator()
    asyncio.run_coroutine_threadsafe(emu.start(), loop).result()
    yield emu
    asyncio.run_coroutine_threadsafe(emu.stop(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


@pytest.fixture
def sdk_env(emulator: AnthropicEmulator, monkeypatch: pytest.MonkeyPatch,
            tmp_path: Path) -> AnthropicEmulator:
    """The environment an SDK user sets; no clauderoute.toml in the working directory."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-anthropic-key")
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path))  # the SDK's profiles: none
    monkeypatch.chdir(tmp_path)
    return emulator


def run(module: types.ModuleType, name: str) -> Any:
    fn = getattr(module, name)
    return asyncio.run(fn()) if inspect.iscoroutinefunction(fn) else fn()


def example_names(source: str) -> list[str]:
    """The names listed in the examples' ``EXAMPLES``, read from the source: running it here
    would import the SDK while collecting (``tests/official_sdk.py``)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "EXAMPLES":
            assert isinstance(node.value, ast.List), ast.unparse(node.value)
            return [ast.unparse(e) for e in node.value.elts]
    raise AssertionError(f"no EXAMPLES list in {EXAMPLES}")


SOURCE = EXAMPLES.read_text()
NAMES = example_names(SOURCE)


def test_examples_are_sdk_code() -> None:
    """The examples' code names only the SDK, and the swap changes names, never strings."""
    code = SOURCE[SOURCE.index('"""', 3) + 3:]  # after the module docstring
    assert "clauderoute" not in code.lower()
    ours = swapped(SOURCE)
    assert "import clauderoute" in ours and "AsyncClient()" in ours and "Client()" in ours
    ours_code = ours[ours.index('"""', 3) + 3:]
    assert "anthropic" not in ours_code.replace("Anthropic-RateLimit", "")  # a header name
    assert len(NAMES) >= 15


@SDK_WORKER
@pytest.mark.parametrize("name", NAMES)
def test_sdk_code_runs_with_names_swapped(sdk_env: AnthropicEmulator, name: str) -> None:
    """Each example observes the same with the official SDK and with clauderoute."""
    theirs = run(load("sdk_examples", SOURCE), name)
    before = len(sdk_env.requests)
    ours = run(load("sdk_examples_swapped", swapped(SOURCE)), name)
    assert ours == theirs
    assert len(sdk_env.requests) > before or name == "sync_errors"


def test_default_headers_reach_the_platform(sdk_env: AnthropicEmulator) -> None:
    """default_headers given to the constructor are sent (the with_options example)."""
    module = load("sdk_examples_swapped", swapped(SOURCE))
    before = len(sdk_env.requests)
    run(module, "async_with_options_and_raw_response")
    sent = sdk_env.requests[before:]
    assert sent and all(r.headers.get("X-Custom") == "1" for r in sent)

"""Provider and emulator discovery through entry points: lazy, cached, first-party and
third-party through the same door, bypassed by an explicit mapping."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute import _registry
from clauderoute._registry import emulator_class, installed, provider_class

FIRST_PARTY = ["bedrock", "vertex", "foundry"]
ROOT = Path(__file__).resolve().parent.parent


def run(code: str, *, path: Path | None = None) -> None:
    """Run ``code`` in a fresh interpreter (a clean import state), optionally with ``path``
    on sys.path; fail with its stderr."""
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_bundled_platform_found() -> None:
    """The Claude API provider and emulator are found under their entry-point name."""
    assert provider_class("anthropic") is AnthropicProvider
    assert emulator_class("anthropic") is AnthropicEmulator
    assert "anthropic" in installed()
    assert "anthropic" in installed(_registry.EMULATORS)


@pytest.mark.parametrize("kind", FIRST_PARTY)
def test_first_party_platforms(kind: str) -> None:
    """A first-party platform loads when installed; otherwise the error gives the pip line."""
    if kind in installed():
        cls = provider_class(kind)
        assert issubclass(cls, cr.Provider) and cls.platform == kind
        assert emulator_class(kind).platform == kind
    else:
        with pytest.raises(cr.UnknownPlatformError, match=rf'pip install "clauderoute\[{kind}\]"'):
            provider_class(kind)
        with pytest.raises(cr.UnknownPlatformError, match=rf'"clauderoute\[{kind}\]"'):
            emulator_class(kind)


def test_unknown_third_party_name() -> None:
    """A name no extra provides points at the entry-point group instead of a pip extra."""
    with pytest.raises(cr.UnknownPlatformError) as info:
        provider_class("nosuchcloud")
    text = str(info.value)
    assert "'clauderoute.providers'" in text and "pip install" not in text
    assert "installed: " in text and "anthropic" in text


def test_explicit_mapping_bypasses_discovery() -> None:
    """An explicit mapping is the only source: its classes are used, nothing else is found."""

    class Mine(AnthropicProvider):
        platform = "mine"

    assert provider_class("mine", {"mine": Mine}) is Mine
    with pytest.raises(cr.UnknownPlatformError, match="explicit mapping.*has: mine"):
        provider_class("anthropic", {"mine": Mine})
    with pytest.raises(cr.ConfigurationError, match="not a Provider subclass"):
        provider_class("bad", {"bad": dict})  # type: ignore[dict-item]
    with pytest.raises(cr.ConfigurationError, match="not an EmulatorServer subclass"):
        emulator_class("bad", {"bad": AnthropicProvider})  # type: ignore[dict-item]


def test_scan_is_cached() -> None:
    """The entry-point scan runs once per group however many lookups follow."""
    _registry._entry_points.cache_clear()
    _registry._load.cache_clear()
    for _ in range(3):
        provider_class("anthropic")
        emulator_class("anthropic")
        installed()
    assert _registry._entry_points.cache_info().misses == 2  # providers, emulators


def test_discovery_is_lazy(tmp_path: Path) -> None:
    """Importing clauderoute (and its config module) scans nothing, nor does building a client
    from a file with an explicit mapping (the entry-point code is never loaded); the first
    lookup by name scans. One interpreter for the three steps, in that order."""
    (tmp_path / "clauderoute.toml").write_text('[providers.a]\nkind = "anthropic"\napi_key = "k"\n')
    run(
        """
        import sys
        import clauderoute, clauderoute._config, clauderoute._registry as r
        assert 'importlib.metadata' not in sys.modules, 'import'
        from clauderoute import AsyncClient
        from clauderoute_anthropic import AnthropicProvider
        client = AsyncClient.from_config(providers_registry={'anthropic': AnthropicProvider})
        assert client.providers[0].name == 'a'
        assert 'importlib.metadata' not in sys.modules, 'from_config with a mapping'
        r.provider_class('anthropic')
        assert 'importlib.metadata' in sys.modules
    """,
        path=tmp_path,
    )


def fake_distribution(root: Path, entry_points: str) -> None:
    """An installed distribution on ``root`` declaring ``entry_points`` (what pip leaves)."""
    info = root / "thirdcloud-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdcloud\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_third_party_plugin_through_the_same_door(tmp_path: Path) -> None:
    """A separately installed distribution adds a platform that config can name as kind."""
    (tmp_path / "thirdcloud.py").write_text(
        textwrap.dedent("""
        from clauderoute_anthropic import AnthropicProvider
        class ThirdProvider(AnthropicProvider):
            platform = "thirdcloud"
    """)
    )
    fake_distribution(
        tmp_path,
        "[clauderoute.providers]\nthirdcloud = thirdcloud:ThirdProvider\n"
        "broken = thirdcloud_missing_module:Nothing\n",
    )
    (tmp_path / "clauderoute.toml").write_text(
        '[providers.third]\nkind = "thirdcloud"\napi_key = "k"\n'
        '[providers.bad]\nkind = "broken"\n[route]\nproviders = ["third"]\n'
    )
    run(
        """
        import clauderoute as cr
        client = cr.AsyncClient.from_config()
        assert client.providers[0].platform == 'thirdcloud', client.providers
        try:
            from clauderoute._registry import provider_class
            provider_class('broken')
        except cr.UnknownPlatformError:
            raise AssertionError('an installed but broken plugin is not "unknown"')
        except cr.ConfigurationError as exc:
            assert 'could not be loaded' in str(exc) and 'thirdcloud_missing_module' in str(exc)
        else:
            raise AssertionError('no error')
    """,
        path=tmp_path,
    )

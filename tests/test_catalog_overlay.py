"""An overlay catalog file (``CLAUDEROUTE_CATALOG``) whose model keys name no known platform or
fact is refused, naming the file, the model and the key, with the likely platform meant, instead
of growing a platform column nobody reads (issue #11, item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

import clauderoute as cr
from clauderoute._catalog import CATALOG_ENV, catalog, resolve_model, table


def _overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "overlay.toml"
    path.write_text(text, "utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(path))
    return path


@pytest.mark.parametrize(("key", "meant"), [("bedrok", "bedrock"), ("vertx_locations", "vertex"),
                                            ("anthropc", "anthropic"), ("google_cloud", "")])
def test_typo_in_a_platform_key_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            key: str, meant: str) -> None:
    path = _overlay(tmp_path, monkeypatch, f'[models.claude-opus-5-5]\n{key} = "x"\n')
    with pytest.raises(cr.ConfigurationError) as info:
        catalog()
    text = str(info.value)
    assert CATALOG_ENV in text and str(path) in text
    assert f"[models.claude-opus-5-5] '{key}'" in text
    if meant:
        assert f"did you mean '{meant}'?" in text


def test_known_keys_and_declared_platforms_are_accepted(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Platform ids, ``{platform}_`` facts, plain facts, and a platform the overlay declares
    with a ``[platforms.NAME]`` table all load; the new platform gets its column."""
    _overlay(tmp_path, monkeypatch,
             '[platforms.othercloud]\nids = "own"\n'
             '[models.claude-opus-5-5]\nbedrock_endpoint = "mantle"\nvertex = "v-id"\n'
             'retires = "2999-01-01"\nothercloud = "oc-id"\n"google-cloud" = "gc-id"\n')
    assert resolve_model("othercloud", "claude-opus-5-5") == "oc-id"
    assert resolve_model("google-cloud", "claude-opus-5-5") == "gc-id"
    row = dict(table())["claude-opus-5-5"]
    assert row["othercloud"] == "oc-id" and "bedrok" not in row


def test_deeply_nested_overlay_is_a_configuration_error(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _overlay(tmp_path, monkeypatch, "a = " + "[" * 3000 + "]" * 3000)
    with pytest.raises(cr.ConfigurationError, match="nested too deeply"):
        catalog()


@pytest.mark.parametrize(("table_name", "meant"), [("bedrok", "bedrock"), ("vertx", "vertex"),
                                                   ("foundy", "foundry")])
def test_typo_in_a_declared_platform_table_is_an_error(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       table_name: str, meant: str) -> None:
    """``[platforms.bedrok]`` would make the misspelt model key ``bedrok`` look valid: a new
    platform one slip away from a known one is refused, naming the file and the likely one."""
    path = _overlay(tmp_path, monkeypatch, f'[platforms.{table_name}]\nids = "own"\n'
                    f'[models.claude-opus-5-5]\n{table_name} = "x"\n')
    with pytest.raises(cr.ConfigurationError) as info:
        catalog()
    text = str(info.value)
    assert str(path) in text and f"[platforms.{table_name}]" in text
    assert f"did you mean [platforms.{meant}]?" in text


def test_unknown_key_in_a_platform_table_is_an_error(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _overlay(tmp_path, monkeypatch, '[platforms.bedrock]\nlifecyle = "anthropic"\n')
    with pytest.raises(cr.ConfigurationError, match="'lifecyle' is not a platform setting"):
        catalog()

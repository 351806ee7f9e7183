"""Today's models: every model name the newest official SDK knows is in the catalog, every
platform id and fact there has a source, the Claude API's dated ids and the platforms that use
the Claude API's ids resolve, and the retirement dates agree with the SDK's deprecation table."""

from __future__ import annotations

import datetime as dt
import re
import typing
from pathlib import Path

import pytest

from clauderoute._catalog import (
    CACHE_ENV,
    CATALOG_ENV,
    SHIPPED,
    catalog,
    model_facts,
    origins,
    overlay_path,
    platform_facts,
    reload,
    resolve_model,
    sources,
)
from clauderoute._catalog._lifecycle import retirement
from tests.official_sdk import SDK_WORKER

# Keys whose value needs no source: the citation table itself, and display-only facts.
_UNSOURCED = {"sources", "display_name", "vertex_locations"}


def _sdk_names() -> list[str]:
    from anthropic.types import ModelParam

    literal = next(a for a in typing.get_args(ModelParam) if typing.get_origin(a) is
                   typing.Literal)
    return list(typing.get_args(literal))


@SDK_WORKER
def test_every_model_param_of_the_newest_sdk_is_known() -> None:
    """Each name in the SDK's ModelParam Literal resolves to catalog facts and a Claude API id
    equal to itself."""
    names = _sdk_names()
    assert len(names) >= 20 and "claude-opus-5-5" in names
    for name in names:
        assert model_facts(name) is not None, name
        assert resolve_model("anthropic", name) == name


@pytest.mark.parametrize("model", list(catalog()))
def test_every_shipped_id_and_fact_has_a_source(model: str) -> None:
    """Every key of a shipped entry names a [sources] entry, which says where and when."""
    facts = catalog()[model]
    cited = facts.get("sources", {})
    known = sources()
    for key in facts:
        if key in _UNSOURCED:
            continue
        assert key in cited, f"{model}.{key} has no source"
        assert cited[key] in known, f"{model}.{key} cites unknown {cited[key]!r}"
        assert re.search(r"checked \d{4}-\d{2}-\d{2}|SDK's ModelParam",
                         known[cited[key]]), cited[key]


def test_dated_ids_are_aliases() -> None:
    """A dated id is known, keeps itself on the Claude API and its model's id elsewhere."""
    assert resolve_model("anthropic", "claude-haiku-4-5-20251001") == "claude-haiku-4-5-20251001"
    assert resolve_model("bedrock", "claude-haiku-4-5-20251001") == resolve_model(
        "bedrock", "claude-haiku-4-5")
    assert "claude-haiku-4-5-20251001" not in catalog()  # not listed twice
    assert origins("claude-haiku-4-5-20251001") == (SHIPPED,)


@pytest.mark.parametrize("platform", ["aws", "google-cloud"])
def test_platforms_on_first_party_ids(platform: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Claude Platform on AWS and Claude on Google Cloud take the Claude API's ids (dated ones
    included); an entry naming the platform itself wins; others pass through."""
    assert platform_facts(platform) == {"ids": "anthropic", "lifecycle": "anthropic"}
    assert resolve_model(platform, "claude-opus-5-5") == "claude-opus-5-5"
    assert resolve_model(platform, "claude-opus-4-5-20251101") == "claude-opus-4-5-20251101"
    assert resolve_model(platform, "not-in-catalog") == "not-in-catalog"
    assert resolve_model("bedrock", "claude-fable-5") == "claude-fable-5"  # "own" ids only
    extra = tmp_path / "extra.toml"
    extra.write_text(f'[models.claude-opus-5-5]\n"{platform}" = "special-id"\n', "utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(extra))
    assert resolve_model(platform, "claude-opus-5-5") == "special-id"


def _sdk_date(text: str) -> dt.date:
    return dt.datetime.strptime(re.sub(r"(\d)(st|nd|rd|th)", r"\1", text), "%B %d, %Y").date()


@SDK_WORKER
def test_retirement_dates_match_the_sdk_table() -> None:
    """Each model of the SDK's deprecation table that the catalog knows retires on that day
    on the Claude API; Bedrock and Vertex keep their own schedules (none given here)."""
    from anthropic._data import DEPRECATED_MODELS

    checked = 0
    for name, when in DEPRECATED_MODELS.items():
        if model_facts(name) is None:
            continue
        found = retirement("anthropic", name)
        assert found is not None and found[0] == _sdk_date(when), name
        assert retirement("aws", name) == found and retirement("foundry", name) == found
        assert retirement("bedrock", name) is None and retirement("vertex", name) is None
        assert found[1] is not None and model_facts(found[1]) is not None  # a known replacement
        checked += 1
    assert checked >= 3


def test_overlay_files_layer_and_say_where_entries_came_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The synced cache file, then CLAUDEROUTE_CATALOG, merge over the shipped data; origins
    names each layer that set an entry; reload() sees a file written after first use."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    assert overlay_path() == cache / "catalog.toml"
    assert "claude-new-1" not in catalog()
    cache.mkdir()
    overlay_path().write_text('[models.claude-new-1]\nbedrock = "anthropic.claude-new-1"\n'
                              '[models.claude-opus-5-5]\nvertex = "claude-opus-5-5"\n', "utf-8")
    assert "claude-new-1" not in catalog()  # looked at once per setting ...
    reload()  # ... until told to look again
    assert catalog()["claude-new-1"]["bedrock"] == "anthropic.claude-new-1"
    assert origins("claude-new-1") == (str(overlay_path()),)
    assert origins("claude-opus-5-5") == (SHIPPED, str(overlay_path()))
    extra = tmp_path / "extra.toml"
    extra.write_text('[models.claude-new-1]\nbedrock = "anthropic.claude-new-1-v2"\n', "utf-8")
    monkeypatch.setenv(CATALOG_ENV, str(extra))
    assert catalog()["claude-new-1"]["bedrock"] == "anthropic.claude-new-1-v2"
    assert origins("claude-new-1") == (str(overlay_path()), str(extra))
    assert model_facts("claude-opus-5-5")["vertex"] == "claude-opus-5-5"  # type: ignore[index]


def test_a_broken_cache_file_is_a_configuration_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from clauderoute import ConfigurationError

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    (tmp_path / "catalog.toml").write_text("[models]\nx = 1\n", "utf-8")
    reload()
    with pytest.raises(ConfigurationError, match="catalog cache"):
        catalog()
    (tmp_path / "catalog.toml").write_text("not toml [", "utf-8")
    reload()
    with pytest.raises(ConfigurationError, match="catalog cache"):
        catalog()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert catalog()

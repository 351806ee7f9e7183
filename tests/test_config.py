"""Configuration: TOML files and the environment into working clients over loopback emulators,
and errors that name the key and its line without repeating secrets."""

from __future__ import annotations

import json
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
from hypothesis import given
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute._catalog import table
from clauderoute._config_source import line_of
from clauderoute.routing import Failover, LatencyAware, Pinned, Weighted
from clauderoute.testing import Fault

KEY = "cfg-test-key-" + "z" * 20
CANARY = "sk-canary-" + "q" * 24
HELLO = [{"role": "user", "content": "Hello config"}]


class NOWHERE:
    """Stands for an emulator that is never called (tests that fail before the network)."""

    url = "http://127.0.0.1:9"


class OtherCloud(AnthropicProvider):
    """A second platform id that speaks the Claude API (a stand-in third-party provider)."""

    platform = "othercloud"


REGISTRY: dict[str, type[cr.Provider]] = {"anthropic": AnthropicProvider,
                                          "othercloud": OtherCloud}


@pytest.fixture
async def regions() -> AsyncIterator[tuple[AnthropicEmulator, AnthropicEmulator]]:
    us, eu = AnthropicEmulator(api_key=KEY), AnthropicEmulator(api_key=KEY)
    await us.start()
    await eu.start()
    try:
        yield us, eu
    finally:
        await us.stop()
        await eu.stop()


def two_regions(us: Any, eu: Any, route: str = "") -> str:
    """The example config: one platform in two regions, routed eu first."""
    return f"""
[providers.us]
kind = "anthropic"
base_url = "{us.url}"
api_key = "${{CFG_TEST_KEY}}"
timeout_s = 5
max_retries = 0
models = {{ claude-haiku-4-5 = "claude-haiku-4-5-20251001" }}

[providers.eu]
kind = "anthropic"
base_url = "{eu.url}"
api_key = "{KEY}"
max_retries = 0

[route]
policy = "failover"
providers = ["eu", "us"]
deadline_s = 30
first_token_timeout_s = 10
timeout_s = 20
hedge_after = "p95"
{route}
[tracing]
"""


def write(directory: Path, text: str, name: str = "clauderoute.toml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


async def ask(client: cr.AsyncClient) -> Any:
    async with client:
        return await client.messages.create(model="claude-haiku-4-5", max_tokens=16,
                                            messages=HELLO)


def line_with(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


async def test_full_config_builds_working_client(regions: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every [route] and provider setting of a full file reaches the client, which serves."""
    us, eu = regions
    monkeypatch.setenv("CFG_TEST_KEY", KEY)
    client = cr.AsyncClient.from_config(write(tmp_path, two_regions(us, eu)))
    assert [p.name for p in client.providers] == ["eu", "us"]
    router = client.router
    assert (router.deadline_s, router.first_token_timeout_s, router.timeout_s) == (30, 10, 20)
    assert isinstance(router.policy, Failover)
    assert router.hedging is not None and router.hedging.quantile == pytest.approx(0.95)
    first = router.by_name["us"]
    assert (first.timeout_s, first.max_retries) == (5, 0)
    assert first.model_id("claude-haiku-4-5") == "claude-haiku-4-5-20251001"
    msg = await ask(client)
    assert msg.route.provider == "eu"
    assert msg.content[0].text == "Echo: Hello config"


async def test_route_order_fails_over_to_second_region(regions: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A 529 from the first provider of route.providers makes the second one serve."""
    us, eu = regions
    monkeypatch.setenv("CFG_TEST_KEY", KEY)
    eu.faults.add(Fault(status=529))
    msg = await ask(cr.AsyncClient.from_config(write(tmp_path, two_regions(us, eu))))
    assert msg.route.provider == "us"
    assert [a.provider for a in msg.route.attempts] == ["eu", "us"]
    # The catalog override of `us` decided the model id on the wire.
    assert json.loads(us.requests[-1].body)["model"] == "claude-haiku-4-5-20251001"


async def test_provider_env_pins_by_name(regions: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """CLAUDEROUTE_PROVIDER=<name> with a file routes to that provider alone."""
    us, eu = regions
    monkeypatch.setenv("CFG_TEST_KEY", KEY)
    monkeypatch.setenv("CLAUDEROUTE_PROVIDER", "us")
    client = cr.AsyncClient.from_config(write(tmp_path, two_regions(us, eu)))
    assert [p.name for p in client.providers] == ["us"]
    assert (await ask(client)).route.provider == "us"
    assert eu.requests == []


async def test_provider_env_switches_platform_by_kind(regions: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """CLAUDEROUTE_PROVIDER=<kind> switches the platform with no code change, even to a
    provider the route does not list."""
    us, eu = regions
    text = f"""
[providers.direct]
kind = "anthropic"
base_url = "{us.url}"
api_key = "{KEY}"
[providers.alt]
kind = "othercloud"
base_url = "{eu.url}"
api_key = "{KEY}"
[route]
providers = ["direct"]
"""
    path = write(tmp_path, text)
    plain = cr.AsyncClient.from_config(path, providers_registry=REGISTRY)
    assert (await ask(plain)).route.provider == "direct"
    monkeypatch.setenv("CLAUDEROUTE_PROVIDER", "othercloud")
    switched = cr.AsyncClient.from_config(path, providers_registry=REGISTRY)
    msg = await ask(switched)
    assert (msg.route.provider, msg.route.platform) == ("alt", "othercloud")


async def test_environment_only(regions: Any, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file anywhere, one Claude API provider comes from the platform's variables."""
    us, _ = regions
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", us.url)
    client = cr.AsyncClient.from_config()
    assert [(p.name, p.platform) for p in client.providers] == [("anthropic", "anthropic")]
    assert (await ask(client)).route.provider == "anthropic"


async def test_environment_only_other_kind(regions: Any, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file, CLAUDEROUTE_PROVIDER picks the kind built from the environment."""
    us, _ = regions
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", us.url)
    monkeypatch.setenv("CLAUDEROUTE_PROVIDER", "othercloud")
    client = cr.AsyncClient.from_config(providers_registry=REGISTRY)
    assert (await ask(client)).route.platform == "othercloud"


def test_environment_only_unknown_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown CLAUDEROUTE_PROVIDER names the variable and the platform."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLAUDEROUTE_PROVIDER", "nosuchcloud")
    with pytest.raises(cr.UnknownPlatformError, match="CLAUDEROUTE_PROVIDER.*'nosuchcloud'"):
        cr.AsyncClient.from_config()


def test_config_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit path beats $CLAUDEROUTE_CONFIG, which beats ./clauderoute.toml."""
    def named(name: str) -> str:
        return f'[providers.{name}]\nkind = "anthropic"\napi_key = "{KEY}"\n'

    monkeypatch.chdir(tmp_path)
    write(tmp_path, named("cwd"))
    env_file = write(tmp_path, named("fromenv"), "elsewhere.toml")
    explicit = write(tmp_path, named("explicit"), "explicit.toml")
    assert cr.AsyncClient.from_config().providers[0].name == "cwd"
    monkeypatch.setenv("CLAUDEROUTE_CONFIG", str(env_file))
    assert cr.AsyncClient.from_config().providers[0].name == "fromenv"
    assert cr.AsyncClient.from_config(explicit).providers[0].name == "explicit"


def test_missing_files_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config file that does not exist is an error naming where its path came from."""
    monkeypatch.setenv("CLAUDEROUTE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(cr.ConfigurationError, match="CLAUDEROUTE_CONFIG.*nope.toml"):
        cr.AsyncClient.from_config()
    with pytest.raises(cr.ConfigurationError, match="other.toml.*not found"):
        cr.AsyncClient.from_config(tmp_path / "other.toml")


BROKEN = {
    "wrong type": ("timeout_s = 5", "timeout_s = \"soon\"", "providers.us.timeout_s",
                   cr.ConfigurationError),
    "negative": ("timeout_s = 5", "timeout_s = -1", "providers.us.timeout_s",
                 cr.ConfigurationError),
    "unknown kind": ('kind = "anthropic"', 'kind = "nosuchcloud"', "providers.us.kind",
                     cr.UnknownPlatformError),
    "provider's own type": ('api_key = "${CFG_TEST_KEY}"', "api_key = 12345",
                            "providers.us.api_key", cr.ConfigurationError),
    "unknown policy": ('policy = "failover"', 'policy = "fastest"', "route.policy",
                       cr.ConfigurationError),
    "unknown provider key": ("max_retries = 0\nmodels", 'regoin = "us-east-1"\nmodels',
                             "providers.us.regoin", cr.ConfigurationError),
    "undefined route provider": ('["eu", "us"]', '["eu", "ghost"]', "route.providers[1]",
                                 cr.ConfigurationError),
    "duplicate route provider": ('["eu", "us"]', '["eu", "eu"]', "route.providers[1]",
                                 cr.ConfigurationError),
    "unknown route key": ("deadline_s = 30", "deadlin_s = 30", "route.deadlin_s",
                          cr.ConfigurationError),
    "bad hedge": ('hedge_after = "p95"', 'hedge_after = "soon"', "route.hedge_after",
                  cr.ConfigurationError),
    "models type": ('models = {', 'models = { x = 1, ', "providers.us.models",
                    cr.ConfigurationError),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_errors_name_key_and_line(case: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kind of mistake raises before any network call, naming the key and its line."""
    monkeypatch.setenv("CFG_TEST_KEY", KEY)
    old, new, key, exc_type = BROKEN[case]
    good = two_regions(NOWHERE, NOWHERE)
    assert old in good
    text = good.replace(old, new, 1)
    line = line_with(text, new.split("\n")[0])
    with pytest.raises(exc_type) as info:
        cr.AsyncClient.from_config(write(tmp_path, text))
    assert f"clauderoute.toml, line {line}: {key}" in str(info.value)


def test_undefined_weight_and_missing_variable(tmp_path: Path) -> None:
    """route.weights naming no provider, and an unset ${VAR}, are errors at their key."""
    base = f'[providers.a]\napi_key = "{KEY}"\nkind = "anthropic"\n'
    path = write(tmp_path, base + '[route]\npolicy = "weighted"\nweights = { a = 2, zz = 1 }\n')
    with pytest.raises(cr.ConfigurationError, match=r"line 6: route\.weights\.zz"):
        cr.AsyncClient.from_config(path)
    path = write(tmp_path, base.replace(KEY, "${CFG_UNSET_VAR}"))
    with pytest.raises(cr.ConfigurationError, match=r"line 2: providers\.a\.api_key.*CFG_UNSET"):
        cr.AsyncClient.from_config(path)


def test_syntax_error_names_line(tmp_path: Path) -> None:
    """A TOML syntax error names the file, line and column."""
    path = write(tmp_path, '[route]\npolicy = "failover"\ndeadline_s = 3 4\n')
    with pytest.raises(cr.ConfigurationError, match=r"clauderoute.toml: invalid TOML.*line 3"):
        cr.AsyncClient.from_config(path)


SECRET_CASES = [
    f'[providers.a]\nkind = "anthropic"\napi_key = ["{CANARY}"]\n',
    f'[providers.a]\nkind = "anthropic"\napi_key = {{ value = "{CANARY}" }}\n',
    f'[providers.a]\nkind = "anthropic"\nauth_token = 1\napi_key = "{CANARY}\n',
    f'[providers.a]\nkind = "anthropic"\nsecret_key = "{CANARY}"\n',
    f'[providers.a]\nkind = "nosuchcloud"\napi_key = "{CANARY}"\n',
    f'[providers.a]\nkind = "anthropic"\napi_key = "{CANARY}"\ntimeout_s = "x"\n',
]


@pytest.mark.parametrize("text", SECRET_CASES)
def test_secret_never_echoed(text: str, tmp_path: Path) -> None:
    """No error about a credential slot, or near one, repeats the secret's value."""
    with pytest.raises(cr.ConfigurationError) as info:
        cr.AsyncClient.from_config(write(tmp_path, text))
    seen = [str(info.value), repr(info.value)]
    cause = info.value.__cause__
    seen += [str(cause), repr(cause)] if cause is not None else []
    assert not any(CANARY in s for s in seen), seen
    assert "clauderoute.toml" in str(info.value)


@pytest.mark.parametrize("value", [f"{CANARY}\r\n", f"\t{CANARY}\u2028", f"{CANARY}\\x"])
def test_env_value_hidden_also_when_quoted_escaped(value: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``${VAR}`` value an error quotes with ``!r`` (control characters escaped) is hidden
    too: the fuzz test found an AWS region from the environment with a trailing CR/LF repeated
    in the 'must be an AWS region' message, because only the raw text was looked for."""
    monkeypatch.setenv("CFG_TEST_REGION", value)
    text = '[providers.a]\nkind = "aws"\nregion = "${CFG_TEST_REGION}"\napi_key = "k-123"\n'
    with pytest.raises(cr.ConfigurationError) as info:
        cr.AsyncClient.from_config(write(tmp_path, text))
    assert CANARY not in str(info.value) and CANARY not in repr(info.value), str(info.value)
    assert "${CFG_TEST_REGION}" in str(info.value)


def test_env_value_hidden_also_when_cut_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that quotes only a refused value's start (Bedrock's endpoint: 40 characters)
    hides that start too: the fuzz test found a 41-character ``${VAR}`` value whose first 40
    characters were repeated in the message, because only the whole value was looked for."""
    value = "https://" + CANARY + ".example.com"
    monkeypatch.setenv("CFG_TEST_ENDPOINT", value)
    text = '[providers.a]\nkind = "bedrock"\nendpoint = "${CFG_TEST_ENDPOINT}"\n'
    with pytest.raises(cr.ConfigurationError, match="endpoint must be one of") as info:
        cr.AsyncClient.from_config(write(tmp_path, text))
    shown = str(info.value) + repr(info.value)
    assert value[:16] not in shown and "${CFG_TEST_ENDPOINT}" in str(info.value), shown


def test_secret_not_in_client_repr(tmp_path: Path) -> None:
    """A client built from a file shows no credential in its repr or its providers'."""
    text = f'[providers.a]\nkind = "anthropic"\napi_key = "{CANARY}"\n'
    client = cr.AsyncClient.from_config(write(tmp_path, text))
    shown = repr(client) + repr(client.providers) + repr(client.providers[0].auth)
    assert CANARY not in shown
    assert "providers=[a]" in shown


@pytest.mark.parametrize(("policy", "cls"), [("failover", Failover), ("weighted", Weighted),
                                             ("latency", LatencyAware), ("pinned", Pinned)])
def test_policies_by_name(policy: str, cls: type, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """route.policy builds the named policy; weights reach the weighted one."""
    monkeypatch.setenv("CFG_TEST_KEY", KEY)
    text = two_regions(NOWHERE, NOWHERE, route="weights = { eu = 3, us = 1 }\n")
    text = text.replace('policy = "failover"', f'policy = "{policy}"')
    client = cr.AsyncClient.from_config(write(tmp_path, text))
    assert type(client.router.policy) is cls
    if cls is Weighted:
        assert client.router.policy.weights == {"eu": 3, "us": 1}


async def test_pinned_policy_does_not_fail_over(regions: Any, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """policy = "pinned" keeps every call on the first provider, even when it fails."""
    us, eu = regions
    monkeypatch.setenv("CFG_TEST_KEY", KEY)
    text = two_regions(us, eu).replace('policy = "failover"', 'policy = "pinned"')
    eu.faults.add(Fault(status=529))
    with pytest.raises(cr.ClauderouteError):
        await ask(cr.AsyncClient.from_config(write(tmp_path, text)))
    assert us.requests == []


def test_overrides_and_unrouted_providers(tmp_path: Path) -> None:
    """Keyword overrides win over the file; a provider the route omits is never built."""
    text = (f'[providers.a]\nkind = "anthropic"\napi_key = "{KEY}"\n'
            '[providers.later]\nkind = "nosuchcloud"\nregion = 3\n'
            '[route]\nproviders = ["a"]\ndeadline_s = 60\n')
    client = cr.AsyncClient.from_config(write(tmp_path, text), deadline=2.5)
    assert client.router.deadline_s == 2.5
    assert [p.name for p in client.providers] == ["a"]


def test_provider_constructor_error_is_located(tmp_path: Path) -> None:
    """A provider's own configuration error (no credential) is prefixed with its table's line."""
    path = write(tmp_path, '\n[providers.nokey]\nkind = "anthropic"\n')
    with pytest.raises(cr.ConfigurationError, match=r"line 2: providers\.nokey: .*credential"):
        cr.AsyncClient.from_config(path)


def test_catalog_table() -> None:
    """The catalog table lists each canonical name with every platform's id."""
    rows = dict(table())
    assert rows["claude-sonnet-4-5"]["bedrock"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert rows["claude-sonnet-4-5"]["vertex"] == "claude-sonnet-4-5@20250929"
    assert "dated" not in rows["claude-sonnet-4-5"]
    assert "bedrock_profile" not in rows["claude-sonnet-4-5"]
    chosen = dict(table(["anthropic", "foundry"]))
    assert chosen["claude-haiku-4-5"] == {"anthropic": "claude-haiku-4-5",
                                          "foundry": "claude-haiku-4-5"}


BARE = st.text("abcxyz019_-", min_size=1, max_size=8)


@given(st.dictionaries(BARE, st.lists(BARE, min_size=1, max_size=4, unique=True), min_size=1,
                       max_size=4), st.lists(st.sampled_from(["", "# note", "  "]), max_size=3))
def test_line_of_finds_every_key(tables: dict[str, list[str]], filler: list[str]) -> None:
    """For any file of tables and keys (with blank and comment lines), each key's line is found."""
    lines, where = list(filler), {}
    for name, keys in tables.items():
        lines.append(f"[providers.{name}]")
        where[("providers", name)] = len(lines)
        for key in keys:
            lines += [*filler, f"{key} = 1"]
            where[("providers", name, key)] = len(lines)
    text = "\n".join(lines)
    tomllib_ok = tomllib.loads(text)  # the generated file is valid TOML
    assert set(tomllib_ok["providers"]) == set(tables)
    for path, line in where.items():
        assert line_of(text, path) == line
        assert line_of(text, (*path, "missing", 0)) == line  # nearest enclosing key

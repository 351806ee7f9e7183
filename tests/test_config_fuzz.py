"""Fuzzing configuration loading and provider construction: whatever a file, the environment or
a constructor's string settings hold, the only exceptions a user sees are clauderoute's own,
and none repeats a secret (issue #11, item 7: "every error a user sees is clauderoute's own
type, names the field or key")."""

from __future__ import annotations

import inspect
import math
import os
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicProvider
from clauderoute_aws import AWSProvider
from clauderoute_bedrock import BedrockProvider
from clauderoute_foundry import FoundryProvider
from clauderoute_google_cloud import GoogleCloudProvider
from clauderoute_vertex import VertexProvider
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute._config import client_settings
from tests.examples import examples

CLASSES: dict[str, type[cr.Provider]] = {
    "anthropic": AnthropicProvider,
    "bedrock": BedrockProvider,
    "aws": AWSProvider,
    "foundry": FoundryProvider,
    "vertex": VertexProvider,
    "google-cloud": GoogleCloudProvider,
}
SECRET = "zq-secret-canary-7781"
# Settings that read files or the network when given (a profile, a key file, a credential
# object): fuzzed through the config path, where a string is all they can be.
ENV = "CLAUDEROUTE_FUZZ_VALUE"


def _string_settings(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for p in inspect.signature(init).parameters.values():
            if (
                p.kind is p.KEYWORD_ONLY
                and str(p.annotation) in ("str", "str | None")
                and p.name not in names
            ):
                names.append(p.name)
    return names


# Strings that have broken things before: URL and header specials, control characters, lone
# surrogates (an environment variable with undecodable bytes), huge and empty values.
_TRICKY = st.sampled_from(
    [
        "",
        " ",
        "\r\n",
        "x\ny",
        "\x00",
        "\udcff",
        "http://u:p@h",
        "https://h:99999",
        "ftp://h",
        "http://[::1",
        "https://h/\r\nx: y",
        "%00",
        "${NOPE}",
        "../../etc/passwd",
        "a" * 5000,
        "us-east-1",
        "global",
        "https://example.com",
        "http://10.0.0.1",
        "inf",
        "nan",
        "-1",
    ]
)
_TEXT = st.one_of(
    _TRICKY, st.text(max_size=40), st.text(alphabet="hpst:/@[]%.-_ 1\r\n", max_size=30)
)
_VALUE = st.recursive(
    st.one_of(_TEXT, st.integers(-(10**20), 10**20), st.floats(allow_nan=False), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

_PROBLEMS = (cr.ClauderouteError,)
# No "explain" phase: it writes a patch with libcst, whose import warns (warnings are errors).
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]


@pytest.mark.parametrize("kind", sorted(CLASSES))
@settings(
    max_examples=examples(60),
    deadline=None,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_constructor_string_settings(
    kind: str, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any strings in a provider's string settings: built, or a clauderoute error."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    cls = CLASSES[kind]
    names = [n for n in _string_settings(cls) if n not in ("name",)]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=4))
    kwargs = {n: data.draw(_TEXT, label=n) for n in chosen}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cr.InsecureTransportWarning)
        try:
            provider = cls(**kwargs)
        except _PROBLEMS as exc:
            assert SECRET not in str(exc)
            return
    repr(provider)  # a built provider can always be shown


def _toml_value(value: Any) -> str:
    """``value`` as a TOML value (strings escaped for TOML; lone surrogates cannot be written
    and go through the environment instead)."""
    if isinstance(value, str):
        return (
            '"'
            + "".join(
                c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value
            )
            + '"'
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f'"{k.encode("unicode_escape").decode()}" = {_toml_value(v)}'
                for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "0.0"
    return str(value)


_KEYS = sorted(
    {
        "base_url",
        "timeout_s",
        "max_retries",
        "anthropic_version",
        "models",
        "region",
        "project",
        "api_key",
        "access_token",
        "credentials_file",
        "profile",
        "workspace_id",
        "resource",
        "endpoint",
        "inference_profile",
        "betas",
        "mantle_base_url",
        "control_base_url",
        "location",
        "entra",
        "kind",
        "name",
        "access_key",
        "secret_key",
        "auth_token",
        "nonsense",
    }
)
_ROUTE_KEYS = [
    "policy",
    "providers",
    "deadline_s",
    "first_token_timeout_s",
    "timeout_s",
    "hedge_after",
    "weights",
    "bogus",
]


_SECRETS = st.sampled_from(
    [
        SECRET,
        "\udcff" + SECRET,
        f"https://{SECRET}.example.com",
        f"ftp://{SECRET}",
        f"{SECRET}\r\n",
        f"p{SECRET}",
    ]
)
# An environment cannot hold NUL.
_ENV_VALUE = st.one_of(_TEXT, _SECRETS).filter(lambda v: "\x00" not in v)
_KINDS = st.lists(st.sampled_from(sorted(CLASSES)), min_size=1, max_size=3)
_PROVIDER_KEYS = st.lists(st.sampled_from(_KEYS), unique=True, max_size=5)
_ROUTE_KEY_LISTS = st.lists(st.sampled_from(_ROUTE_KEYS), unique=True, max_size=3)


@st.composite
def config_files(draw: st.DrawFn) -> tuple[str, str]:
    """A config file of providers of random kinds and keys, values written as TOML or as
    ``${VAR}``, and the variable's value. The strategies are built once, above: one built in a
    draw is a new object whose properties hypothesis works out anew, every example."""
    env_value = draw(_ENV_VALUE)
    lines = []
    for i, kind in enumerate(draw(_KINDS)):
        lines.append(f"[providers.p{i}]")
        lines.append(f'kind = "{kind}"')
        for key in draw(_PROVIDER_KEYS):
            if key == "kind":
                continue
            use_env = draw(st.booleans())
            value = f'"${{{ENV}}}"' if use_env else _toml_value(draw(_VALUE))
            lines.append(f'"{key}" = {value}')
    if draw(st.booleans()):
        lines.append("[route]")
        for key in draw(_ROUTE_KEY_LISTS):
            lines.append(f'"{key}" = {_toml_value(draw(_VALUE))}')
    return "\n".join(lines) + "\n", env_value


def _through(kind: str, *keys: str) -> str:
    """A provider of ``kind`` with each of ``keys`` set through ``${VAR}``."""
    return f'[providers.p]\nkind = "{kind}"\n' + "".join(f'"{k}" = "${{{ENV}}}"\n' for k in keys)


@settings(
    max_examples=examples(150),
    deadline=None,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=config_files())
# Always, whatever the count: a secret through the environment refused by each kind of check
# (not UTF-8, not an http(s) URL, not a resource name, not a region, a line break in a URL or a
# key): the message shows ``${VAR}``, never the value.
@example(config=(_through("bedrock", "region"), "\udcff" + SECRET))
@example(config=(_through("anthropic", "base_url"), f"ftp://{SECRET}"))
@example(config=(_through("foundry", "resource"), f"https://{SECRET}.example.com"))
@example(config=(_through("vertex", "region", "project"), f"{SECRET}\r\n"))
@example(config=(_through("aws", "region", "workspace_id"), f"https://{SECRET}.example.com"))
@example(config=(_through("bedrock", "base_url"), f"https://{SECRET}.example.com\r\n"))
@example(config=(_through("anthropic", "api_key"), f"{SECRET}\r\n"))
def test_config_file_loading(
    config: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config file of random keys and values, some through ``${VAR}`` (which may hold what
    TOML cannot: a lone surrogate, a secret): loads, or raises a ConfigurationError; the
    variable's value is never in the message."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.delenv("CLAUDEROUTE_PROVIDER", raising=False)
    text, env_value = config
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # our writer made something TOML refuses: not the case under test
    path = tmp_path / "fuzz.toml"
    path.write_text(text, "utf-8")
    monkeypatch.setitem(os.environ, ENV, env_value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cr.InsecureTransportWarning)
        try:
            client_settings(path)
        except cr.ConfigurationError as exc:
            assert SECRET not in str(exc)

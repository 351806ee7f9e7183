"""Settings refused where they are given, in clauderoute's own words (issue #11, items 7 and 12):
base URLs that are not http(s), that carry ``user:pass@`` or that go over plain http to another
host; header values with line breaks or undecodable characters; a missing AWS profile; deeply
nested TOML; ``${VAR}`` values kept out of every error; a quantile out of range."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
from clauderoute_aws import AWSProvider
from clauderoute_bedrock import BedrockProvider
from clauderoute_foundry import FoundryProvider
from clauderoute_google_cloud import GoogleCloudProvider
from clauderoute_vertex import VertexProvider
from hypothesis import example, given, settings
from hypothesis import strategies as st

import clauderoute as cr
from clauderoute._config import client_settings
from clauderoute.provider import InsecureTransportWarning, check_base_url, check_header_value
from tests.examples import examples

SECRET = "hunter2-" + "s" * 16
KEY = "sk-ant-settings-" + "k" * 16

# Every bundled provider, built with a base_url and a string credential where it takes one.
PROVIDERS: dict[str, Callable[..., cr.Provider]] = {
    "anthropic": lambda url, key=KEY: AnthropicProvider(base_url=url, api_key=key),
    "bedrock": lambda url, key=KEY: BedrockProvider(base_url=url, api_key=key),
    "aws": lambda url, key=KEY: AWSProvider(
        base_url=url, api_key=key, region="us-west-2", workspace_id="wrkspc_x"
    ),
    "foundry": lambda url, key=KEY: FoundryProvider(base_url=url, api_key=key),
    "vertex": lambda url, key=KEY: VertexProvider(
        base_url=url, access_token=key, project="p", region="global"
    ),
    "google-cloud": lambda url, key=KEY: GoogleCloudProvider(
        base_url=url, access_token=key, project="p"
    ),
}
KEY_FIELD = {"vertex": "access_token", "google-cloud": "access_token"}


@pytest.mark.parametrize("platform", sorted(PROVIDERS))
def test_credentials_in_base_url_are_refused(platform: str) -> None:
    """``https://user:pass@host`` is refused, naming base_url and where credentials go, never
    showing the password (it would be sent as Basic auth and appear in every repr)."""
    with pytest.raises(cr.ConfigurationError, match="base_url: credentials in the URL") as info:
        PROVIDERS[platform](f"https://admin:{SECRET}@gateway.example.com/v1")
    assert SECRET not in str(info.value) and "api_key" in str(info.value)


@pytest.mark.parametrize("platform", sorted(PROVIDERS))
@pytest.mark.parametrize(
    "url",
    [
        "ftp://gateway.example.com",
        "gateway.example.com",
        "http://",
        "https://host:99999",
        "file:///etc/passwd",
        "https://host/\r\nx-injected: 1",
        "https://ho st",
    ],
)
def test_base_url_that_is_not_an_http_url_is_refused(platform: str, url: str) -> None:
    """Not an http(s) URL with a host: a ConfigurationError naming base_url when the provider
    is built, not aiohttp's ValueError or InvalidURL at the first call."""
    with pytest.raises(cr.ConfigurationError, match="^base_url: "):
        PROVIDERS[platform](url)


@pytest.mark.parametrize("platform", sorted(PROVIDERS))
def test_plain_http_to_another_host_warns(platform: str) -> None:
    """http:// to a host other than this machine warns (credentials would cross the network in
    the clear); loopback and https stay quiet."""
    with pytest.warns(InsecureTransportWarning, match="plain http:// to gateway.example.com"):
        PROVIDERS[platform]("http://gateway.example.com")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for url in (
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "https://gateway.example.com",
        ):
            PROVIDERS[platform](url)
    assert issubclass(InsecureTransportWarning, UserWarning)
    assert cr.InsecureTransportWarning is InsecureTransportWarning


@pytest.mark.parametrize("platform", sorted(PROVIDERS))
@pytest.mark.parametrize("bad", ["key\r\nx-injected: 1", "key\n", "ke\x00y", "key\udcff"])
def test_credential_that_cannot_be_a_header_is_refused(platform: str, bad: str) -> None:
    """A key with a line break (header injection), a NUL or a lone surrogate (an environment
    variable with undecodable bytes) fails when the provider is built, naming the setting."""
    field = KEY_FIELD.get(platform, "api_key")
    with pytest.raises(cr.ConfigurationError, match=f"^{field}: ") as info:
        PROVIDERS[platform]("https://gateway.example.com", bad)
    assert "key" not in str(info.value).replace(field, "")  # the value is not repeated


@pytest.mark.parametrize("where", ["default_headers", "extra_headers"])
async def test_header_with_line_break_is_an_invalid_request(where: str) -> None:
    """``default_headers`` and ``extra_headers`` go straight to the wire: a line break in one is
    an InvalidRequest naming the header, before anything is sent (aiohttp would raise a bare
    ValueError)."""
    headers = {"x-trace": f"abc\r\nx-injected: {SECRET}"}
    async with AnthropicEmulator(api_key=KEY) as emu:
        provider = AnthropicProvider(base_url=emu.url, api_key=KEY)
        client_kw: dict[str, Any] = (
            {"default_headers": headers} if where == "default_headers" else {}
        )
        call_kw: dict[str, Any] = {"extra_headers": headers} if where == "extra_headers" else {}
        async with cr.AsyncClient(providers=[provider], **client_kw) as client:
            with pytest.raises(cr.InvalidRequest, match=r"headers\['x-trace'\]") as info:
                await client.messages.create(
                    model="claude-haiku-4-5",
                    max_tokens=4,
                    messages=[{"role": "user", "content": "hi"}],
                    **call_kw,
                )
        assert emu.requests == []
    assert SECRET not in str(info.value)


def test_bedrock_profile_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's ProfileNotFound never escapes ``BedrockProvider(profile=...)``."""
    (tmp_path / "config").write_text("[profile real]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(
        cr.ConfigurationError,
        match="profile: no such AWS profile "
        r"\(ProfileNotFound\)",
    ) as info:
        BedrockProvider(profile="typo")
    assert info.value.__cause__ is not None
    assert BedrockProvider(profile="real").region == "eu-west-1"


def test_bedrock_extra_urls_are_checked() -> None:
    with pytest.raises(cr.ConfigurationError, match="^mantle_base_url: credentials"):
        BedrockProvider(api_key=KEY, mantle_base_url=f"https://u:{SECRET}@mantle.example.com")
    with pytest.raises(cr.ConfigurationError, match="^control_base_url: must be an http"):
        BedrockProvider(api_key=KEY, control_base_url="bedrock.example.com")


def test_check_helpers_return_what_they_accept() -> None:
    assert check_base_url("https://h.example.com/x", "url") == "https://h.example.com/x"
    assert check_header_value("tok\ten", "token") == "tok\ten"  # a tab is a legal header char
    with pytest.raises(cr.ConfigurationError, match="^token: expected a string, not int"):
        check_header_value(5, "token")  # type: ignore[arg-type]


# --- the config file -----------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clauderoute.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "nested", ["a = " + "[" * 3000 + "]" * 3000, "a = " + "{b=" * 3000 + "1" + "}" * 3000]
)
def test_deeply_nested_toml_is_a_configuration_error(tmp_path: Path, nested: str) -> None:
    with pytest.raises(cr.ConfigurationError, match="nested too deeply"):
        client_settings(_write(tmp_path, nested))


@pytest.mark.parametrize("after", ["p999", "p0", "p100", "p-5", "pfast", "95"])
def test_hedge_quantile_out_of_range(tmp_path: Path, after: str) -> None:
    """``p999`` is not silently the 9.99th quantile: only 0 < NN < 100 is a quantile."""
    text = (
        f'[providers.a]\nkind = "anthropic"\napi_key = "{KEY}"\n[route]\nhedge_after = "{after}"\n'
    )
    with pytest.raises(
        cr.ConfigurationError,
        match=r"line 5: route.hedge_after: expected "
        "seconds or a quantile",
    ):
        client_settings(_write(tmp_path, text))


def test_hedge_quantile_with_decimals(tmp_path: Path) -> None:
    text = f'[providers.a]\nkind = "anthropic"\napi_key = "{KEY}"\n[route]\nhedge_after = "p99.9"\n'
    assert client_settings(_write(tmp_path, text))["hedging"].quantile == pytest.approx(0.999)


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('kind = "anthropic"\napi_key = "k-123"\nbase_url = "${V}"', "base_url"),
        ('kind = "bedrock"\napi_key = "k-123"\nregion = "${V}"', "region"),
        ('kind = "vertex"\naccess_token = "t-123"\nproject = "p"\nregion = "${V}"', "region"),
        ('kind = "anthropic"\napi_key = "k-123"\nendpoint = "${V}"', "endpoint"),
    ],
)
def test_environment_values_never_appear_in_errors(
    tmp_path: Path, table: str, needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value put in by ``${V}`` is shown as ``${V}``, whichever check refuses it, and is not
    in the chained exceptions either."""
    monkeypatch.setenv("V", f"ftp://{SECRET}_x")
    with pytest.raises(cr.ConfigurationError, match=needle) as info:
        client_settings(_write(tmp_path, f"[providers.x]\n{table}\n"))
    shown, cause = str(info.value), info.value.__cause__
    while cause is not None:
        shown += str(cause)
        cause = cause.__cause__
    assert SECRET not in shown


def test_lone_surrogate_from_environment_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment variable with bytes that are not UTF-8 (Python decodes them to lone
    surrogates) fails at load naming the key and the variable, not as a UnicodeEncodeError
    (msgspec's, or aiohttp's at send time)."""
    monkeypatch.setenv("K", "sk-\udcff\udcfe")
    with pytest.raises(
        cr.ConfigurationError,
        match=r"providers\.x\.api_key: environment variable K is not valid UTF-8",
    ):
        client_settings(_write(tmp_path, '[providers.x]\nkind = "anthropic"\napi_key = "${K}"\n'))


@settings(max_examples=examples(200))
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=24), max_size=5))
# Always, whatever the count: each kind of unsendable character in a name and in a value, behind
# sendable headers (the first culprit is named), and non-ASCII text that encodes (sendable).
@example({"x-a": "1", "x-b\r\nx-c": "2", "x-d": "\x00"})
@example({"x-a": "caf\u00e9", "x-b": "line\nbreak"})
@example({"x-\udcff": "1", "x-b": "\r"})
@example({"x-a": "ok", "x-b": "\ud800tail"})
@example({"n\u00e4me": "v\u00e4lue \u2713", "": ""})
def test_header_check_refuses_exactly_the_unsendable(headers: dict[str, str]) -> None:
    """The engine passes printable-ASCII headers in one check and reads the rest one by one:
    whatever the headers, it refuses exactly those holding a line break, a NUL or a character
    that cannot be encoded, naming the first such header."""
    from clauderoute._engine import _check_headers

    def bad(text: str) -> bool:
        return any(c in text for c in "\r\n\x00") or any(0xD800 <= ord(c) < 0xE000 for c in text)

    culprits = [n for n, v in headers.items() if bad(n) or bad(v)]
    for passed in (None, _PASSED):  # alone, and with the sets that passed before (as the engine)
        if not culprits:
            _check_headers(headers, passed)
            continue
        with pytest.raises(cr.InvalidRequest) as info:
            _check_headers(headers, passed)
        assert info.value.field == f"headers[{culprits[0][:60]!r}]"
    if not culprits and all(n.isascii() and v.isascii() for n, v in headers.items()):
        assert _PASSED[0] == headers  # remembered, so the next equal set is compared only


# Shared by the examples: a set that passed never excuses another.
_PASSED: list[dict[str, str]] = []

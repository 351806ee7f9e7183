"""The provider API's ``BearerToken`` on its own, as a third-party provider subclasses it, and as
the five bundled static-token credentials use it: the header sent over loopback, the token
checked as a header value with the subclass's setting named and the value never shown, and no
repr that shows it."""

from __future__ import annotations

import pytest
from clauderoute_anthropic import AnthropicProvider
from clauderoute_anthropic._auth import BearerAuth as AnthropicBearer
from clauderoute_anthropic.emulator import AnthropicEmulator
from clauderoute_aws._auth import ApiKeyAuth as AwsApiKey
from clauderoute_bedrock._auth import BearerAuth as BedrockBearer
from clauderoute_google_cloud._auth import AccessTokenAuth as GoogleCloudToken
from clauderoute_vertex._auth import AccessTokenAuth as VertexToken

from clauderoute import AsyncClient, AuthenticationError
from clauderoute.provider import Auth, BearerToken, ConfigurationError, HttpRequest

SECRET = "tok-Zq81-secret"


class AcmeToken(BearerToken):
    kind = "acme_token"
    setting = "acme_token"


def _request() -> HttpRequest:
    return HttpRequest(
        method="POST",
        url="https://example.invalid/v1/x",
        headers={"authorization": "Basic stale"},
        body=b"{}",
    )


def test_sign_sets_the_bearer_header_and_keeps_the_rest() -> None:
    req = _request()
    req.headers["x-other"] = "kept"
    out = AcmeToken(SECRET).sign(req)
    assert out.headers == {"authorization": f"Bearer {SECRET}", "x-other": "kept"}
    assert out.body == b"{}"


@pytest.mark.parametrize("bad", [f"{SECRET}\r\nx-evil: 1", f"{SECRET}\n", "a\x00b", "a\x7fb"])
def test_a_token_that_could_inject_a_header_is_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        AcmeToken(bad)
    assert "acme_token" in str(info.value)
    assert SECRET not in str(info.value) and "evil" not in str(info.value)


@pytest.mark.parametrize("bad", [None, 12, b"bytes"])
def test_a_token_that_is_not_text_is_refused(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="acme_token: expected a string"):
        AcmeToken(bad)  # type: ignore[arg-type]


def test_repr_shows_the_kind_never_the_token() -> None:
    auth = AcmeToken(SECRET)
    assert repr(auth) == "<AcmeToken kind='acme_token'>"
    assert SECRET not in repr(auth) and SECRET not in str(auth)


@pytest.mark.parametrize(
    ("cls", "kind", "setting"),
    [
        (AnthropicBearer, "bearer", "auth_token"),
        (BedrockBearer, "api_key", "api_key"),
        (AwsApiKey, "api_key", "api_key"),
        (VertexToken, "access_token", "access_token"),
        (GoogleCloudToken, "access_token", "access_token"),
    ],
)
def test_the_bundled_static_tokens_are_bearer_tokens(
    cls: type[Auth], kind: str, setting: str
) -> None:
    assert issubclass(cls, BearerToken)
    assert cls(SECRET).sign(_request()).headers["authorization"] == f"Bearer {SECRET}"
    assert cls.kind == kind
    with pytest.raises(ConfigurationError, match=f"^{setting}: contains a control character"):
        cls("x\ny")


async def test_a_provider_with_a_bearer_token_is_served_over_loopback() -> None:
    """The emulator accepts its key as a bearer token and refuses another one: the header is
    the one that reached the server."""
    async with AnthropicEmulator(api_key=SECRET) as emu:
        good = AnthropicProvider(name="good", base_url=emu.url, api_key="unused")
        good.auth = AcmeToken(SECRET)
        bad = AnthropicProvider(name="bad", base_url=emu.url, api_key="unused", max_retries=0)
        bad.auth = AcmeToken("not-the-key")
        params = {
            "model": "claude-haiku-4-5",
            "max_tokens": 16,
            "messages": [{"role": "user", "content": "hi"}],
        }
        async with AsyncClient(providers=[good], tracing=False) as client:
            msg = await client.messages.create(**params)
            assert msg.route.provider == "good"
        async with AsyncClient(providers=[bad], tracing=False) as client:
            with pytest.raises(AuthenticationError):
                await client.messages.create(**params)

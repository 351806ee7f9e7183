"""The provider API's ``SigV4Auth`` for a provider that brings its own credential source (no
botocore): loading once, renewing when the source says so (its "not due" trusted one second by
the clock), errors translated by the subclass, static keys, and signatures equal to the
``SigV4Signer``'s for the credentials current at each call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from clauderoute.provider import (
    ConfigurationError,
    CredentialsError,
    HttpRequest,
    SigV4Auth,
    SigV4Signer,
    StaticCredentials,
)

URL = "https://runtime.example.test/model/m/invoke"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Rotating:
    """A source whose keys change each time it is due and asked for them."""

    def __init__(self) -> None:
        self.generation = 0
        self.due = False
        self.asked = 0  # refresh_needed calls

    def refresh_needed(self) -> bool:
        self.asked += 1
        return self.due

    def get_frozen_credentials(self) -> StaticCredentials:
        if self.due:
            self.generation += 1
            self.due = False
        return StaticCredentials(f"AK{self.generation}", f"secret{self.generation}", "tok")


class ChainAuth(SigV4Auth):
    platform = "myplatform"
    default_service = "svc"

    def __init__(self, source: Any, clock: Clock) -> None:
        super().__init__(region="eu-west-3", clock=clock)
        self.source = source
        self.loads = 0

    def load_credentials(self) -> Any:
        self.loads += 1
        if self.source is None:
            raise LookupError("no chain configured: secret-looking text")
        return self.source

    def credentials_error(self, exc: Exception) -> Exception | None:
        if isinstance(exc, LookupError):
            return CredentialsError("myplatform: the chain is empty")
        return None


class Plain(SigV4Auth):
    """Nothing but a platform name: static keys or a given source only."""

    platform = "p"


def _signed(auth: SigV4Auth, body: bytes = b"{}") -> dict[str, str]:
    return auth.sign(HttpRequest("POST", URL, {"content-type": "application/json"}, body)).headers


def _expected(access: str, secret: str, token: str | None, now: float) -> dict[str, str]:
    return SigV4Signer("eu-west-3", "svc").sign(
        "POST",
        URL,
        {"content-type": "application/json"},
        b"{}",
        access_key=access,
        secret_key=secret,
        token=token,
        now=now,
    )


async def test_loads_once_and_renews_when_due() -> None:
    clock, source = Clock(), Rotating()
    auth = ChainAuth(source, clock)
    assert not auth.ready()
    await asyncio.gather(*(auth.refresh() for _ in range(20)))
    assert (auth.loads, auth.resolutions) == (1, 1)
    assert _signed(auth) == _expected("AK0", "secret0", "tok", clock.now)

    assert auth.ready()  # the source says: not due
    asked = source.asked
    source.due = True
    assert auth.ready()  # a "not due" from this second is still trusted
    assert source.asked == asked
    clock.now += 2.5  # past refresh()'s own trust (a ready() just before it still holds)
    assert not auth.ready()  # asked again: due
    await auth.refresh()
    assert (auth.loads, auth.resolutions, source.generation) == (1, 2, 1)
    assert _signed(auth) == _expected("AK1", "secret1", "tok", clock.now)
    assert auth.ready() and auth.credentials().access_key == "AK1"


async def test_a_failing_chain_is_the_subclass_error() -> None:
    auth = ChainAuth(None, Clock())
    with pytest.raises(CredentialsError, match="^myplatform: the chain is empty$") as info:
        await auth.refresh()
    assert isinstance(info.value.__cause__, LookupError)
    with pytest.raises(ConfigurationError, match="refresh"):
        _signed(auth)


async def test_an_untranslated_error_is_named_by_type_only() -> None:
    class Broken:
        def get_frozen_credentials(self) -> Any:
            raise OSError("/home/me/.secret-config line 3")

    auth = ChainAuth(Broken(), Clock())
    with pytest.raises(CredentialsError) as info:
        await auth.refresh()
    assert "OSError" in str(info.value) and "secret-config" not in str(info.value)
    assert str(info.value).startswith("myplatform:")


async def test_static_keys_need_no_chain() -> None:
    clock = Clock()
    auth = Plain(
        region="eu-west-3",
        service="svc",
        access_key="AKSTATIC",
        secret_key="static/secret",
        clock=clock,
    )
    await auth.refresh()
    assert auth.ready() and auth.resolutions == 1
    headers = _signed(auth)
    assert headers == _expected("AKSTATIC", "static/secret", None, clock.now)
    assert "X-Amz-Security-Token" not in headers
    other = auth.sign(HttpRequest("POST", URL, {}, b""), service="other").headers
    assert "/eu-west-3/other/aws4_request" in other["Authorization"]
    text = repr(auth) + repr(auth.credentials())
    assert "static/secret" not in text and "AKSTATIC" in text


def test_both_keys_or_neither() -> None:
    with pytest.raises(ConfigurationError, match="^p: set both access_key and secret_key"):
        Plain(region="r", access_key="AK")


async def test_no_source_and_no_chain_is_a_credentials_error() -> None:
    auth = Plain(region="r")
    with pytest.raises(CredentialsError, match="^p: no SigV4 credentials"):
        await auth.refresh()

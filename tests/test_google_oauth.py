"""The provider API's ``GoogleOAuth`` on its own, as a third-party provider would subclass it:
where it reads the project from, a key file's token fetched from a token endpoint over loopback
and sent as a bearer token, its errors naming the subclass's platform, and google-auth imported
at the first refresh only (a missing google-auth is our own error with the install hint)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from clauderoute.provider import ConfigurationError, CredentialsError, GoogleOAuth, HttpRequest
from clauderoute.testing import EmulatorServer, GoogleTokenEndpoint


class AcmeAuth(GoogleOAuth):
    platform = "acme"
    product = "Acme on Google"
    install_hint = "pip install acme-google"
    project_attrs = ("project_id", "quota_project_id")


class _Creds:
    """Credentials as google-auth's look to GoogleOAuth: ``token``, ``expiry``, ``refresh`` and
    the projects they name in attributes."""

    def __init__(self, **attrs: Any) -> None:
        self.token: str | None = None
        self.expiry = None
        self.__dict__.update(attrs)

    def refresh(self, request: Any) -> None:
        self.token = "ya29.given"


class TokenEmulator(GoogleTokenEndpoint, EmulatorServer):
    def __init__(self) -> None:
        super().__init__()
        self.init_token_endpoint()

    def routes(self) -> list[web.RouteDef]:
        return self.token_routes()


def _request() -> HttpRequest:
    return HttpRequest(method="POST", url="https://example.invalid/v1/x", headers={}, body=b"")


@pytest.mark.parametrize(
    ("attrs", "acme", "base"),
    [
        ({"project_id": "p1", "quota_project_id": "q1"}, "p1", "p1"),
        ({"project_id": "", "quota_project_id": "q1"}, "q1", None),
        ({"quota_project_id": "q1"}, "q1", None),
        ({"project_id": 7}, None, None),
        ({}, None, None),
    ],
)
def test_project_is_the_first_named_attribute(
    attrs: dict[str, Any], acme: str | None, base: str | None
) -> None:
    """Given credentials name the project by the first ``project_attrs`` holding a non-empty
    string: the subclass reads two attributes, the base class ``project_id`` only."""
    assert AcmeAuth(credentials=_Creds(**attrs)).project == acme
    assert GoogleOAuth(credentials=_Creds(**attrs)).project == base
    assert AcmeAuth.project_of(_Creds(**attrs)) == acme


async def test_given_credentials_refresh_and_sign() -> None:
    auth = AcmeAuth(credentials=_Creds(quota_project_id="q1"))
    with pytest.raises(ConfigurationError, match=r"^acme: no access token: refresh\(\) was not"):
        auth.sign(_request())
    await auth.refresh()
    assert auth.sign(_request()).headers["authorization"] == "Bearer ya29.given"
    assert repr(auth) == "<AcmeAuth kind='google' source='credentials'>"


async def test_key_file_token_from_the_endpoint(tmp_path: Path) -> None:
    """A service-account key file: loaded with the cloud-platform scope at the first refresh,
    its project taken from the file, the minted token sent as a bearer token and kept until
    invalidated; the repr names the subclass and no secret."""
    async with TokenEmulator() as emu:
        key = tmp_path / "key.json"
        key.write_text(json.dumps(emu.service_account_key("key-project")))
        auth = AcmeAuth(credentials_file=str(key))
        assert auth.project is None and auth.source == "credentials_file"
        await auth.refresh()
        await auth.refresh()  # fresh: no second grant
        assert auth.project == "key-project"
        assert len(emu.minted) == 1 and emu.grants[0]["scope"] == GoogleOAuth.scope
        assert auth.sign(_request()).headers["authorization"] == "Bearer " + emu.minted[0]
        auth.invalidate()
        await auth.refresh()
        assert len(emu.minted) == 2
        assert auth.sign(_request()).headers["authorization"] == "Bearer " + emu.minted[1]
        assert repr(auth) == "<AcmeAuth kind='google' source='credentials_file'>"
        assert all(t not in repr(auth) for t in emu.minted)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "acme: cannot read credentials_file (JSONDecodeError)"),
        (
            '{"type": "external_account"}',
            (
                "acme: credentials_file must be a service_account or authorized_user key, not "
                "'external_account'; name other kinds in GOOGLE_APPLICATION_CREDENTIALS"
            ),
        ),
    ],
)
async def test_unusable_key_file(tmp_path: Path, content: str, message: str) -> None:
    key = tmp_path / "key.json"
    key.write_text(content)
    with pytest.raises(CredentialsError) as info:
        await AcmeAuth(credentials_file=str(key)).refresh()
    assert str(info.value) == message


_NO_GOOGLE_AUTH = """
import asyncio, sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "google.auth" or name.startswith("google.auth."):
            raise ImportError("blocked: " + name)
        return None

sys.meta_path.insert(0, Blocker())
import clauderoute.provider
from clauderoute.provider import CredentialsError, GoogleOAuth
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "google")
assert loaded == [], loaded

class AcmeAuth(GoogleOAuth):
    platform = "acme"
    product = "Acme on Google"
    install_hint = "pip install acme-google"

try:
    asyncio.run(AcmeAuth().refresh())
except CredentialsError as exc:
    assert isinstance(exc.__cause__, ImportError), repr(exc.__cause__)
    print(exc)
"""


def test_missing_google_auth_is_our_error_and_core_does_not_load_it() -> None:
    """With google-auth unimportable, ``import clauderoute.provider`` loads nothing of
    ``google`` and the first refresh raises a CredentialsError with the subclass's install
    hint, the ImportError chained."""
    done = subprocess.run(
        [sys.executable, "-c", _NO_GOOGLE_AUTH], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "acme: Acme on Google needs google-auth[requests]; install it with: "
        "pip install acme-google\n"
    )

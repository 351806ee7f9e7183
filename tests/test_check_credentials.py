"""``clauderoute check`` without ``--ping`` resolves every provider's credentials as a call
would (the whole AWS chain, a Google key file, an Entra token) and exits 2 on any configuration
error: the file, a provider's settings, or credentials that cannot be had (issue #11, item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clauderoute._cli import main

KEY = "check-secret-0123456789"


@pytest.fixture(autouse=True)
def _no_ambient_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS or Google credentials from this machine: an empty chain, no metadata server."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_BEARER_TOKEN_BEDROCK", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    code = main(["check", "--config", str(cfg), "--timeout", "10"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_vertex_credentials_file_that_does_not_exist(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(tmp_path, '[providers.v]\nkind = "vertex"\nproject = "p"\n'
                       f'region = "global"\ncredentials_file = "{tmp_path}/absent.json"\n'
                       '[providers.ok]\nkind = "anthropic"\n'
                       f'api_key = "{KEY}"\n', capsys)
    assert code == 2
    assert "CredentialsError" in out and "credentials_file" in out
    assert "1 of 2 provider(s) failing" in out and KEY not in out


def test_bedrock_with_an_empty_credential_chain(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(tmp_path, '[providers.b]\nkind = "bedrock"\nregion = "us-east-1"\n',
                       capsys)
    assert code == 2
    assert "no AWS credentials found" in out


def test_resolvable_credentials_pass_without_ping(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Static AWS keys and an API key resolve without any network: exit 0, the auth named."""
    code, out = _check(tmp_path, '[providers.b]\nkind = "bedrock"\nregion = "us-east-1"\n'
                       'access_key = "AKIAEXAMPLE"\nsecret_key = "' + KEY + '"\n'
                       '[providers.a]\nkind = "anthropic"\napi_key = "' + KEY + '"\n', capsys)
    assert code == 0, out
    assert "resolved (SigV4Auth, sigv4)" in out and "resolved (ApiKeyAuth, api_key)" in out
    assert KEY not in out


def test_hedge_quantile_out_of_range_exits_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _check(tmp_path, '[providers.a]\nkind = "anthropic"\napi_key = "' + KEY + '"\n'
                       '[route]\nhedge_after = "p999"\n', capsys)
    assert code == 2 and "route.hedge_after" in out

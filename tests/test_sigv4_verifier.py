"""``clauderoute.testing.SigV4Verifier``, the emulators' check of a client's SigV4 signature
(botocore's steps as the reference): a request signed for its key, region, service and time
passes, and each way to fail names the AWS exception a SigV4 front end answers with. The
emulators' own tests reach the wrong key, secret, token, region, service and clock through a
provider; these reach the rest, which no provider sends: no or a malformed ``Authorization``, an
unreadable date, a date outside the credential's scope, ``host`` left unsigned."""

from __future__ import annotations

import pytest

from clauderoute.provider import SigV4Signer
from clauderoute.testing import AwsKey, SigV4Verifier

NOW = 1_764_633_600  # 2025-12-02T00:00:00Z
HOST = "127.0.0.1:8080"
PATH = "/model/m/invoke?b=2&a=1"
BODY = b'{"max_tokens": 1}'
KEYS = {"AKID": AwsKey("secret"), "ASIA": AwsKey("temp-secret", "tok")}


def verifier() -> SigV4Verifier:
    return SigV4Verifier(KEYS, "us-east-1", "bedrock", clock=lambda: NOW)


def signed(
    access_key: str = "AKID", secret_key: str = "secret", token: str | None = None, now: float = NOW
) -> dict[str, str]:
    """The headers our signer sends, lower-cased as an emulator hands them to the verifier."""
    headers = SigV4Signer("us-east-1", "bedrock").sign(
        "POST",
        f"http://{HOST}{PATH}",
        {"content-type": "application/json"},
        BODY,
        access_key=access_key,
        secret_key=secret_key,
        token=token,
        now=now,
    )
    return {k.lower(): v for k, v in headers.items()}


def verify(headers: dict[str, str], body: bytes = BODY) -> tuple[str, str] | None:
    return verifier().verify(method="POST", host=HOST, raw_path=PATH, headers=headers, body=body)


def test_a_signed_request_passes_and_a_changed_one_does_not() -> None:
    assert verify(signed()) is None
    assert verify(signed("ASIA", "temp-secret", "tok")) is None
    assert verify(signed(now=NOW + 299)) is None  # within AWS's five minutes
    name, message = verify(signed(), body=BODY + b" ") or ("", "")
    assert name == "InvalidSignatureException" and "signature we calculated" in message


@pytest.mark.parametrize(
    ("change", "name", "text"),
    [
        ({"authorization": ""}, "MissingAuthenticationTokenException", "Missing Authentication"),
        (
            {"authorization": "AWS4-HMAC-SHA256 Credential=AKID"},
            "IncompleteSignatureException",
            "requires 'Credential', 'Signature' and 'SignedHeaders'",
        ),
        ({"x-amz-date": "yesterday"}, "InvalidSignatureException", "ISO-8601 'basic format'"),
        (
            {"x-amz-date": "20251203T000000Z"},
            "InvalidSignatureException",
            "Date in Credential scope does not match",
        ),
    ],
)
def test_each_malformed_request_names_its_exception(
    change: dict[str, str], name: str, text: str
) -> None:
    headers = {**signed(), **change}
    problem = verify(headers)
    assert problem is not None and problem[0] == name and text in problem[1], problem


def test_host_must_be_signed() -> None:
    headers = signed()
    auth = headers["authorization"]
    start = auth.index("SignedHeaders=") + len("SignedHeaders=")
    end = auth.index(",", start)
    names = [n for n in auth[start:end].split(";") if n != "host"]
    assert len(names) < len(auth[start:end].split(";"))  # host was signed, and is now left out
    headers["authorization"] = auth[:start] + ";".join(names) + auth[end:]
    assert verify(headers) == ("InvalidSignatureException", "'Host' must be a 'SignedHeader'.")


def test_a_date_more_than_five_minutes_off_is_expired() -> None:
    for now in (NOW - 301, NOW + 301):
        problem = verify(signed(now=now))
        assert problem is not None and problem[0] == "InvalidSignatureException"
        assert "Signature expired" in problem[1]

"""Server-side SigV4 verification for emulators of platforms that sign requests this way (Amazon
Bedrock, Claude Platform on AWS): the signature recomputed with botocore's public ``SigV4Auth``
steps from the request as received (method, raw path, query, the signed headers, body), for one
region and service. botocore, not clauderoute's own signer, is the reference here, so that an
emulator checks the client's signatures independently; it is imported when a request is first
verified (the platforms' distributions depend on it).

A failure names the AWS exception a SigV4 front end uses for it: no or malformed
``Authorization`` (``MissingAuthenticationTokenException`` / ``IncompleteSignatureException``),
an unknown key or a missing or wrong session token (``UnrecognizedClientException``), a wrong
region, service or date scope, a date more than five minutes off, or a signature mismatch
(``InvalidSignatureException``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

import msgspec

from .._errors import ConfigurationError

__all__ = ["AwsKey", "SigV4Verifier"]

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/\s]+)/(?P<day>\d{8})/(?P<region>[^/\s]+)/"
    r"(?P<service>[^/\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})")
_BAD_TOKEN = ("UnrecognizedClientException",
              "The security token included in the request is invalid.")
_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
             "Check your AWS Secret Access Key and signing method. Consult the service "
             "documentation for details.")
MAX_SKEW_S = 300.0  # AWS rejects signatures more than 5 minutes from its clock
_FMT = "%Y%m%dT%H%M%SZ"


class AwsKey(msgspec.Struct, frozen=True):
    """A test credential an emulator accepts: secret and, for temporary keys, the token.

    .. versionadded:: 0.3
    """

    secret_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return "AwsKey([secure])"


class SigV4Verifier:
    """Checks SigV4 ``Authorization`` headers against known keys, a region and a service.

    .. versionadded:: 0.3
    """

    def __init__(self, keys: Mapping[str, AwsKey], region: str, service: str,
                 clock: Callable[[], float]) -> None:
        self.keys = dict(keys)
        self.region = region
        self.service = service
        self.clock = clock

    def verify(self, *, method: str, host: str, raw_path: str, headers: Mapping[str, str],
               body: bytes) -> tuple[str, str] | None:
        """``None`` if the signature verifies, else ``(exception name, message)``; ``headers``
        have lower-case names."""
        auth = headers.get("authorization", "")
        if not auth:
            return "MissingAuthenticationTokenException", "Missing Authentication Token"
        m = _AUTH.fullmatch(auth.strip())
        if m is None:
            return ("IncompleteSignatureException",
                    ("Authorization header requires 'Credential', 'Signature' and "
                     f"'SignedHeaders' parameters. Authorization={auth.split(' ')[0][:40]}"))
        key = self.keys.get(m["akid"])
        if key is None or headers.get("x-amz-security-token") != key.session_token:
            return _BAD_TOKEN
        if m["region"] != self.region:
            return "InvalidSignatureException", "Credential should be scoped to a valid region."
        if m["service"] != self.service:
            return ("InvalidSignatureException",
                    f"Credential should be scoped to correct service: '{self.service}'.")
        amz_date = headers.get("x-amz-date", "")
        problem = self._check_date(amz_date, m["day"])
        if problem is not None:
            return "InvalidSignatureException", problem
        signed = m["signed"].split(";")
        if "host" not in signed:  # SigV4 requires it signed
            return "InvalidSignatureException", "'Host' must be a 'SignedHeader'."
        expected = _signature(method, host, raw_path, headers, body, signed, amz_date,
                              (m["akid"], key), (self.region, self.service))
        if expected != m["signature"]:
            return "InvalidSignatureException", _MISMATCH
        return None

    def _check_date(self, amz_date: str, day: str) -> str | None:
        try:
            when = dt.datetime.strptime(amz_date, _FMT).replace(tzinfo=dt.UTC)
        except ValueError:
            return f"Date must be in ISO-8601 'basic format'. Got '{amz_date[:40]}'."
        if amz_date[:8] != day:
            return (f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                    f"of date from HTTP: '{day}' != '{amz_date[:8]}', from '{amz_date}'.")
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        if abs((now - when).total_seconds()) > MAX_SKEW_S:
            limit = now - dt.timedelta(seconds=MAX_SKEW_S)
            return (f"Signature expired: {amz_date} is now earlier than {limit.strftime(_FMT)} "
                    f"({now.strftime(_FMT)} - 5 min.)")
        return None


def _signature(method: str, host: str, raw_path: str, headers: Mapping[str, str], body: bytes,
               signed: list[str], amz_date: str, credential: tuple[str, AwsKey],
               scope: tuple[str, str]) -> str:
    """botocore's signature for the request as received, over the headers it says it signed."""
    try:
        from botocore.auth import SigV4Auth  # type: ignore[import-untyped]  # lazy
        from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
        from botocore.credentials import Credentials  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - the signing platforms depend on botocore
        raise ConfigurationError("verifying SigV4 signatures needs botocore: pip install boto3"
                                 ) from exc

    picked = {name: headers.get(name, "") for name in signed}
    picked["host"] = headers.get("host", host)
    request = AWSRequest(method=method, url=f"http://{host}{raw_path}", headers=picked,
                         data=body)
    request.context["timestamp"] = amz_date
    akid, key = credential
    signer = SigV4Auth(Credentials(akid, key.secret_key, key.session_token), scope[1], scope[0])
    canonical = signer.canonical_request(request)
    return str(signer.signature(signer.string_to_sign(request, canonical), request))

"""AWS Signature Version 4 (``AWS4-HMAC-SHA256``) over the exact request sent, in plain
``hmac``/``hashlib``: the one signer of every provider that signs this way (through
``SigV4Auth``, which keeps the credentials fresh; ``clauderoute.provider`` exports both).

Why not botocore's signer: its ``SigV4Auth`` rebuilds everything on every request (the URL split
and path normalisation, a case-insensitive header map built twice, four HMACs to derive a key
that changes once a day) — ~80 µs per call, the largest cost of a Bedrock create. Here the
derived signing key is kept per (secret, date, region, service), the canonical path, query and
host per URL, the rest of the canonical request (its start as a SHA-256 state already fed it)
and the headers to send per (method, URL, headers, session token), the timestamp, scope and key
(its inner HMAC state already fed the string to sign up to the canonical request's hash) per
second and credential, and per request form and second the canonical request hashed up to the
payload hash and the headers to send: a request costs four SHA-256 (the body, the end of the
canonical request, the two halves of the HMAC) over nothing but 64-character hashes and the body
(~5 µs, most of it in hashlib; under callgrind 44,000 instructions with ``SigV4Auth.sign``
around it, from 49,800 when the date and the string to sign were hashed per request). awscrt's
``aws_sign_request`` was measured at ~38 µs a signature, request objects included.

The algorithm is AWS's ("Create a signed AWS API request", AWS IAM user guide); where the
specification leaves a choice, this signer chooses as botocore does — the same headers left
unsigned, the path with dot segments and repeated slashes removed and then percent-encoded
(already-encoded ``%`` included), the query's pairs sorted as written, header values with their
whitespace runs folded, a ``Date`` header replaced rather than ``X-Amz-Date`` added — and
``tests/test_sigv4.py`` proves every signature equal to botocore's ``SigV4Auth`` for generated
requests, credentials and dates. Where credentials come from is not this module's business.

Nothing here logs: the canonical request carries the session token, and the signature is a
credential for the few minutes it is valid.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["SigV4Signer"]

_ALGORITHM = "AWS4-HMAC-SHA256"
# Headers a proxy or the HTTP client may change on the way: never signed (botocore's list).
_UNSIGNED = frozenset(
    {
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
# Set by the signer itself; a caller's copy is replaced (Authorization always, the token when
# the credentials carry one, X-Amz-Date unless a Date header is used instead).
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CACHE = 256  # URLs (and request forms) remembered per signer: a provider sends to a handful
# (second, access key, secret, timestamp, "AWS4-HMAC-SHA256 Credential=…, ", the signing key's
# inner HMAC state already fed the string to sign up to the canonical request's hash, its outer)
_Second = tuple[int, str, str, str, str, Any, Any]
# (the _Second it is for, the SHA-256 state fed the canonical request but the payload hash, the
# headers to send but Authorization, "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=")
_Dated = tuple["_Second | None", Any, dict[str, str], str]


# Copies of initialised SHA-256 states: ``hashlib.sha256()`` makes OpenSSL 3 look the digest up
# on every call (its provider store), which inside a busy event loop costs several times the
# hashing itself (benchmarks/README.md); ``copy()`` of a ready state does not.
_SHA256 = hashlib.sha256()


def _hmac_states(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256 (RFC 2104) with ``key`` (a derived signing key: 32 bytes, under the 64-byte
    block) as its two hash states, each already fed its padded key: a MAC is then two copies
    and two updates."""
    key = key.ljust(64, b"\0")
    inner, outer = _SHA256.copy(), _SHA256.copy()
    inner.update(bytes(b ^ 0x36 for b in key))
    outer.update(bytes(b ^ 0x5C for b in key))
    return inner, outer


def _canonical_path(path: str) -> str:
    """RFC 3986 dot-segment removal, empty segments dropped (AWS services require it), then
    percent-encoding of everything but ``/`` and the unreserved characters."""
    if not path:
        return "/"
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment and segment != ".":
            out.append(segment)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and out else ""
    return quote(first + "/".join(out) + last, safe="/~")


def _canonical_query(query: str) -> str:
    """The query's ``key=value`` pairs sorted by key, then value, as written in the URL."""
    if not query:
        return ""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join(f"{key}={value}" for key, value in pairs)


def _host(scheme: str, hostname: str | None, port: int | None) -> str:
    host = hostname or ""
    if ":" in host:  # an IPv6 literal: bracketed again
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return host


def _parse(url: str) -> tuple[str, str, str]:
    """(canonical path, canonical query, host header) of ``url``."""
    parts = urlsplit(url)
    return (
        _canonical_path(parts.path),
        _canonical_query(parts.query),
        _host(parts.scheme, parts.hostname, parts.port),
    )


class _Form:
    """One request form (method, URL, headers, session token): everything of its signature but
    the date, the body's hash and the key, built once; and what a second and a credential add
    to it, built once per second (``dated``: one tuple, replaced whole, so that a signer shared
    by threads never mixes two seconds)."""

    __slots__ = ("after", "before", "date_name", "dated", "head", "payload", "signed", "token")

    def __init__(
        self,
        head: dict[str, str],
        date_name: str,
        before: Any,
        after: bytes,
        payload: str | None,
        signed: str,
        token: str | None,
    ) -> None:
        self.head = head  # the caller's headers, without those the signer sets
        self.date_name = date_name  # X-Amz-Date, or Date when the caller sent one
        self.before = before  # SHA-256 state fed the canonical request up to the date's value
        self.after = after  # the canonical request from after the date up to the payload hash
        self.payload = payload  # the X-Amz-Content-SHA256 given, or None: the body's hash
        self.signed = signed  # "SignedHeaders=…, "
        self.token = token
        self.dated: _Dated = (None, None, {}, "")

    def date(self, last: _Second) -> _Dated:
        """The per-second part for ``last`` (kept as ``dated``)."""
        value = last[3] if self.date_name == "X-Amz-Date" else formatdate(last[0])
        canonical = self.before.copy()
        canonical.update(value.encode() + self.after)
        template = self.head.copy()
        template[self.date_name] = value
        if self.token:
            template["X-Amz-Security-Token"] = self.token
        dated = self.dated = (last, canonical, template, f"{last[4]}{self.signed}Signature=")
        return dated


class SigV4Signer:
    """Signs requests for one (region, service).

    ``sign`` returns the headers to send: the request's own, with ``X-Amz-Date`` (or the
    ``Date`` header rewritten), ``X-Amz-Security-Token`` for temporary credentials and
    ``Authorization`` set, and without the ``host`` header it signs (taken from the URL, unless
    the request names one; the HTTP client sends the same value itself).

    .. versionadded:: 0.2
    """

    __slots__ = ("_forms", "_keys", "_last", "_prefix", "_urls", "region", "service")

    def __init__(self, region: str, service: str) -> None:
        self.region = region
        self.service = service
        self._prefix = f"/{region}/{service}/aws4_request"
        # (secret, date) -> the signing key's HMAC states
        self._keys: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._urls: dict[str, tuple[str, str, str]] = {}
        self._forms: dict[tuple[str, str, tuple[tuple[str, str], ...], str | None], _Form] = {}
        # the last second and credential signed with (a request in the same second and with
        # the same keys, the usual case, builds none of it again)
        self._last: _Second = (-1, "", "", "", "", None, None)

    def __repr__(self) -> str:
        return f"<SigV4Signer region={self.region!r} service={self.service!r}>"

    def _url(self, url: str) -> tuple[str, str, str]:
        found = self._urls.get(url)
        if found is None:
            if len(self._urls) >= _CACHE:
                self._urls.clear()
            found = self._urls[url] = _parse(url)
        return found

    def _second(self, second: int, access_key: str, secret_key: str) -> _Second:
        """What a second and a credential fix: the timestamp, the ``Authorization`` value up to
        ``SignedHeaders`` and the signing key's HMAC states (once per day and secret: four HMACs
        chained), the inner one already fed the string to sign up to the canonical request's
        hash."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
        date = stamp[:8]
        states = self._keys.get((secret_key, date))
        if states is None:
            key = hmac.digest(("AWS4" + secret_key).encode(), date.encode(), "sha256")
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            if len(self._keys) >= 4:  # yesterday's date, a rotated secret
                self._keys.clear()
            states = self._keys[(secret_key, date)] = _hmac_states(key)
        inner = states[0].copy()
        inner.update(f"{_ALGORITHM}\n{stamp}\n{date}{self._prefix}\n".encode())
        return (
            second,
            access_key,
            secret_key,
            stamp,
            f"{_ALGORITHM} Credential={access_key}/{date}{self._prefix}, ",
            inner,
            states[1],
        )

    def sign(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        *,
        access_key: str,
        secret_key: str,
        token: str | None = None,
        now: float | None = None,
    ) -> dict[str, str]:
        """The headers to send for this request, signed at ``now`` (default: the clock)."""
        second = int(time.time() if now is None else now)
        last = self._last
        if last[0] != second or last[2] != secret_key or last[1] != access_key:
            last = self._last = self._second(second, access_key, secret_key)
        key = (method, url, tuple(headers.items()), token)
        form = self._forms.get(key)
        if form is None:
            if len(self._forms) >= _CACHE:
                self._forms.clear()
            form = self._forms[key] = self._form(method, url, headers, token)
        dated = form.dated
        if dated[0] is not last:
            dated = form.date(last)
        payload = form.payload
        if payload is None:
            digest = _SHA256.copy()
            digest.update(body)
            payload = digest.hexdigest()
        digest = dated[1].copy()  # the canonical request but the payload hash, hashed
        digest.update(payload.encode())
        inner = last[5].copy()  # the string to sign but the canonical request's hash, hashed
        inner.update(digest.hexdigest().encode())
        outer = last[6].copy()
        outer.update(inner.digest())
        out = dated[2].copy()
        out["Authorization"] = dated[3] + outer.hexdigest()
        return out

    def _form(self, method: str, url: str, headers: dict[str, str], token: str | None) -> _Form:
        """Everything of a signature but the date, the body's hash and the key (``_Form``).
        Built once per (method, URL, headers, session token)."""
        head: dict[str, str] = {}
        has_date = False
        for name, value in headers.items():
            lower = name.lower()
            if lower == "authorization" or lower == "x-amz-date":
                continue
            if lower == "date":
                has_date = True
                continue
            if lower == "x-amz-security-token" and token:
                continue
            head[name] = value
        # botocore's rule: a Date header is kept (re-dated), X-Amz-Date is not added
        date_name = "Date" if has_date else "X-Amz-Date"
        signing = dict(head)
        signing[date_name] = ""  # its value is the request's: left out of the form
        if token:
            signing["X-Amz-Security-Token"] = token
        path, query, host = self._url(url)
        values, payload = self._values(signing, host)
        names = sorted(values)
        at = names.index(date_name.lower())
        lines = [f"{n}:{','.join(values[n])}" for n in names]
        before = "".join(line + "\n" for line in lines[:at])
        after = "".join("\n" + line for line in lines[at + 1 :])
        signed = ";".join(names)
        start = _SHA256.copy()
        start.update(f"{method.upper()}\n{path}\n{query}\n{before}{names[at]}:".encode())
        return _Form(
            head,
            date_name,
            start,
            f"{after}\n\n{signed}\n".encode(),
            payload,
            f"SignedHeaders={signed}, ",
            token,
        )

    @staticmethod
    def _values(headers: dict[str, str], host: str) -> tuple[dict[str, list[str]], str | None]:
        """(canonical header values by lower-cased name, the X-Amz-Content-SHA256 given or
        None).

        Two names equal but for case are one header whose values are joined with ``,`` (in the
        order given), each value's whitespace runs folded to one space. A ``host`` header of
        the request's own is signed (and sent) as given; otherwise the URL's is signed."""
        values: dict[str, list[str]] = {}
        payload: str | None = None
        for name, value in headers.items():
            lower = name.lower()
            if lower in _UNSIGNED:
                continue
            if lower == "x-amz-content-sha256" and payload is None:
                payload = value
            found = values.get(lower)
            if found is None:
                values[lower] = [" ".join(value.split())]
            else:
                found.append(" ".join(value.split()))
        if "host" not in values:
            values["host"] = [host]
        return values, payload

"""The SigV4 signer against botocore's ``SigV4Auth`` (the reference): for generated methods,
URLs (percent-encoded model ids, dot segments, repeated slashes, query strings, ports, IPv6),
headers (case variants, whitespace runs, unsigned names, a caller's Date, Authorization or
token), bodies, credentials (with and without session tokens) and dates, every header the two
produce is equal — the signature included.

botocore is driven through its public steps (``canonical_request``, ``string_to_sign``,
``signature``, ``scope``, ``signed_headers``, ``headers_to_sign``) after the header changes its
``add_auth`` makes, at a timestamp the test chooses; ``add_auth`` itself reads the clock.
"""

from __future__ import annotations

import calendar
import datetime
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clauderoute.provider import SigV4Signer
from tests.examples import examples

TIMESTAMP = "%Y%m%dT%H%M%SZ"


def botocore_headers(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    creds: tuple[str, str, str | None],
    region: str,
    service: str,
    now: int,
) -> dict[str, list[str]]:
    """What botocore's add_auth sets, at ``now``, through its public steps."""
    stamp = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime(TIMESTAMP)
    signer = SigV4Auth(Credentials(*creds), service, region)
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    req.context["timestamp"] = stamp
    # add_auth's header changes (documented SigV4 behaviour of botocore's signer)
    del req.headers["Authorization"]
    if "Date" in req.headers:
        del req.headers["Date"]
        req.headers["Date"] = formatdate(
            calendar.timegm(datetime.datetime.strptime(stamp, TIMESTAMP).timetuple())
        )
        del req.headers["X-Amz-Date"]
    else:
        del req.headers["X-Amz-Date"]
        req.headers["X-Amz-Date"] = stamp
    if creds[2]:
        del req.headers["X-Amz-Security-Token"]
        req.headers["X-Amz-Security-Token"] = creds[2]
    canonical = signer.canonical_request(req)
    signature = signer.signature(signer.string_to_sign(req, canonical), req)
    signed = signer.signed_headers(signer.headers_to_sign(req))
    req.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(req)}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return _merged(req.headers.items())


def _merged(items: Any) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for k, v in items:
        merged.setdefault(k.lower(), []).append(v)
    return merged


_token = st.text(
    st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~"
    ),
    min_size=1,
    max_size=12,
)
_value = st.text(st.sampled_from("abcXYZ019 \t/:;=,.-_\"'()[]{}<>?@%+"), max_size=24)
_secret = st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1, max_size=40)
_model = st.sampled_from(
    [
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/x",
        "a b+c~d",
    ]
)
_segment = st.one_of(
    st.sampled_from(["", ".", "..", "model", "invoke", "v1", "~x", "a:b", "%3A", "é", "a b"]),
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="/?#"),
        max_size=8,
    ),
)
_query = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "A", "x-y", "%2F", "max"]),
        st.sampled_from(["", "1", "2", "%20", "a%2Fb", "z"]),
        st.booleans(),
    ),
    max_size=4,
).map(lambda pairs: "&".join(k + ("=" + v if eq else "") for k, v, eq in pairs))


# Built once: a strategy made inside a draw is a new object whose properties hypothesis works out
# anew every example (most of these tests' CPU when they were built inside ``requests``).
_scheme = st.sampled_from(["https", "http"])
_host = st.sampled_from(
    [
        "bedrock-runtime.us-east-1.amazonaws.com",
        "LocalHost",
        "127.0.0.1",
        "[::1]",
        "user:pw@example.com",
    ]
)
_port = st.sampled_from(["", ":443", ":80", ":8443"])
_segments = st.lists(_segment, max_size=5)
_names = st.lists(
    st.one_of(
        _token,
        st.sampled_from(
            [
                "Content-Type",
                "content-type",
                "Accept",
                "User-Agent",
                "Date",
                "X-Amz-Date",
                "Authorization",
                "X-Amz-Security-Token",
                "X-Amz-Content-SHA256",
                "Host",
                "Expect",
                "x-amzn-trace-id",
                "Content-Length",
            ]
        ),
    ),
    max_size=8,
)
_body = st.binary(max_size=64)
_method = st.sampled_from(["POST", "GET", "post"])


@st.composite
def requests(draw: Any) -> tuple[str, str, dict[str, str], bytes]:
    scheme, host, port = draw(_scheme), draw(_host), draw(_port)
    if draw(st.booleans()):
        path = f"/model/{quote(draw(_model), safe='')}/invoke"
    else:
        path = "/" + "/".join(draw(_segments))
        path = quote(path, safe="/%.~") if draw(st.booleans()) else path
    query = draw(_query)
    url = f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "")
    headers = {name: draw(_value) for name in draw(_names)}
    body = draw(_body)
    return draw(_method), url, headers, body


_creds = st.tuples(
    st.sampled_from(["AKIDEXAMPLE", "ASIAXXXX"]),
    _secret,
    st.one_of(st.none(), st.just(""), _secret),
)
_now = st.integers(min_value=0, max_value=4_102_444_800)  # 1970 .. 2100


@settings(max_examples=examples(150), deadline=None)
@given(
    req=requests(),
    creds=_creds,
    now=_now,
    region=st.sampled_from(["us-east-1", "eu-west-3", "x"]),
    service=st.sampled_from(["bedrock", "bedrock-mantle", "aws-external-anthropic"]),
)
@example(
    req=(
        "POST",
        (
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
            "us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke"
        ),
        {"content-type": "application/json", "accept": "application/json"},
        b"{}",
    ),
    creds=("AKID", "secret", "session-token"),
    now=1_764_633_600,
    region="us-east-1",
    service="bedrock",
)
@example(
    req=(
        "GET",
        "http://H:80/a:b/é/%C3%A9/./x//y/../z/?b=2&a=1&a&a=0",
        {"User-Agent": "x", "X-Amz-Date": "old", "Content-Type": " a  b ", "content-type": "c"},
        b"",
    ),
    creds=("AKID", "secret", None),
    now=0,
    region="x",
    service="bedrock",
)
# Always, whatever the count: an IPv6 host with a port, a lower-case method, a caller's own
# Authorization, token, Date and Host, unsigned names, an empty session token, the last date.
@example(
    req=(
        "post",
        "https://[::1]:8443/model/a%20b%2Bc~d/invoke?A=%20&a=z&x-y",
        {
            "Authorization": "old",
            "X-Amz-Security-Token": "caller",
            "Date": "Mon, 01 Jan 2024 00:00:00 GMT",
            "Host": "other",
            "x-amzn-trace-id": "t",
            "Expect": "100-continue",
        },
        b"\x00\xff",
    ),
    creds=("ASIAXXXX", "s", ""),
    now=4_102_444_800,
    region="eu-west-3",
    service="aws-external-anthropic",
)
def test_signature_equals_botocore(
    req: tuple[str, str, dict[str, str], bytes],
    creds: tuple[str, str, str | None],
    now: int,
    region: str,
    service: str,
) -> None:
    method, url, headers, body = req
    expected = botocore_headers(method, url, headers, body, creds, region, service, now)
    got = SigV4Signer(region, service).sign(
        method,
        url,
        headers,
        body,
        access_key=creds[0],
        secret_key=creds[1],
        token=creds[2],
        now=now,
    )
    assert _merged(got.items()) == expected


_SHARED: dict[tuple[str, str], SigV4Signer] = {}  # signers kept across examples: forms cached


@settings(max_examples=examples(100), deadline=None)
@given(
    req=requests(),
    bodies=st.lists(st.binary(max_size=32), min_size=3, max_size=3),
    creds=_creds,
    other=_creds,
    times=st.lists(_now, min_size=3, max_size=3),
    service=st.sampled_from(["bedrock", "bedrock-mantle"]),
)
def test_cached_request_forms_sign_as_botocore(
    req: tuple[str, str, dict[str, str], bytes],
    bodies: list[bytes],
    creds: tuple[str, str, str | None],
    other: tuple[str, str, str | None],
    times: list[int],
    service: str,
) -> None:
    """A signer keeps each request's form (everything but the date, the body's hash and the
    key) per method, URL, headers and session token: the same request signed again — another
    body, another second or day, another secret, with and then without the same token —
    still signs exactly as botocore, and so does every other request through the same
    signer (kept across examples)."""
    signer = _SHARED.setdefault(("us-east-1", service), SigV4Signer("us-east-1", service))
    method, url, headers, _ = req
    same_token = (other[0], other[1], creds[2])
    for body, who, now in zip(bodies, [creds, same_token, other], times, strict=True):
        got = signer.sign(
            method, url, headers, body, access_key=who[0], secret_key=who[1], token=who[2], now=now
        )
        assert _merged(got.items()) == botocore_headers(
            method, url, headers, body, who, "us-east-1", service, now
        )


def test_key_cache_follows_date_and_secret() -> None:
    """The cached signing key is per (secret, date): a new day or a rotated secret signs as
    botocore does, not with yesterday's key."""
    signer = SigV4Signer("us-east-1", "bedrock")
    url, headers = "https://h/model/m/invoke", {"content-type": "application/json"}
    for now, secret in [
        (1_700_000_000, "s1"),
        (1_700_000_100, "s1"),
        (1_700_090_000, "s1"),
        (1_700_090_000, "s2"),
        (1_700_000_000, "s1"),
    ]:
        got = signer.sign("POST", url, headers, b"{}", access_key="AK", secret_key=secret, now=now)
        want = botocore_headers(
            "POST", url, headers, b"{}", ("AK", secret, None), "us-east-1", "bedrock", now
        )
        assert [got["Authorization"]] == want["authorization"]


def test_same_second_other_credentials_sign_as_botocore() -> None:
    """What a second fixes (timestamp, scope, key) is kept for the credential it was built for:
    within one second, another access key with the same secret, another secret with the same
    key, and a session token coming and going each sign as botocore does."""
    signer = SigV4Signer("us-east-1", "bedrock")
    url, headers = "https://h/model/m/invoke", {"content-type": "application/json"}
    now = 1_700_000_000
    for creds in [
        ("AK1", "s1", None),
        ("AK2", "s1", None),
        ("AK2", "s2", None),
        ("AK2", "s2", "tok"),
        ("AK1", "s1", "tok"),
        ("AK1", "s1", None),
    ]:
        got = signer.sign(
            "POST",
            url,
            headers,
            b"{}",
            access_key=creds[0],
            secret_key=creds[1],
            token=creds[2],
            now=now,
        )
        want = botocore_headers("POST", url, headers, b"{}", creds, "us-east-1", "bedrock", now)
        assert _merged(got.items()) == want


def test_repr_names_no_secret() -> None:
    signer = SigV4Signer("us-east-1", "bedrock")
    signer.sign(
        "POST",
        "https://h/",
        {},
        b"",
        access_key="AKIDSECRETISH",
        secret_key="verysecret",
        token="tok",
        now=0,
    )
    assert repr(signer) == "<SigV4Signer region='us-east-1' service='bedrock'>"


def test_forms_interleaved_across_seconds_sign_as_botocore() -> None:
    """What a second adds to a request form (its date, the Credential= scope) is kept per form
    for the second and credential it was made for: two forms interleaved over two seconds, back
    to an earlier second, and with another access key in between, each sign as botocore does."""
    signer = SigV4Signer("us-east-1", "bedrock")
    forms = [
        ("POST", "https://h/model/a/invoke", {"content-type": "application/json"}),
        ("POST", "https://h/model/b/invoke", {"accept": "x", "Date": "old"}),
    ]
    one, two = ("AK1", "s1", "tok"), ("AK2", "s2", "tok")
    steps = [(0, 100, one), (1, 100, one), (0, 101, one), (1, 100, one), (0, 100, two),
             (0, 100, one), (1, 101, two), (1, 101, two), (1, 101, one)]  # fmt: skip
    for which, now, creds in steps:
        method, url, headers = forms[which]
        body = f"{which}{now}{creds[0]}".encode()
        when = 1_700_000_000 + now
        got = signer.sign(method, url, headers, body, access_key=creds[0],
                          secret_key=creds[1], token=creds[2], now=when)  # fmt: skip
        want = botocore_headers(method, url, headers, body, creds, "us-east-1", "bedrock", when)
        assert _merged(got.items()) == want

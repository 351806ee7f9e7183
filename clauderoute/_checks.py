"""Checks of settings that end up in a URL or a header, made when a provider is built.

aiohttp would otherwise find the problem at the first call, as a ``ValueError`` or
``InvalidURL`` that names no setting (and, for a ``user:pass@`` URL, after sending the password
as Basic auth). Errors never repeat the value: a base URL or a header may carry a credential,
and a ``${VAR}`` in a config file may have put a secret there.
"""

from __future__ import annotations

import ipaddress
import warnings
from urllib.parse import urlsplit

from ._errors import ConfigurationError

__all__ = ["InsecureTransportWarning", "check_base_url", "check_header_value"]


class InsecureTransportWarning(UserWarning):
    """A provider sends requests over plain ``http://`` to a host that is not this machine:
    the credential and the messages cross the network unencrypted.

    .. versionadded:: 0.2
    """


def _loopback(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _text(value: object, field: str) -> str:
    """``value`` as text that can go on the wire: a string, encodable as UTF-8 (an environment
    variable with undecodable bytes holds lone surrogates), without control characters."""
    if not isinstance(value, str):
        raise ConfigurationError(f"{field}: expected a string, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigurationError(f"{field}: not valid text (an undecodable character at "
                                 f"position {exc.start}; the value is not shown)") from None
    bad = next((i for i, c in enumerate(value) if c < " " and c != "\t" or c == "\x7f"), None)
    if bad is not None:
        raise ConfigurationError(f"{field}: contains a control character (a line break or "
                                 f"NUL at position {bad}; the value is not shown)")
    return value


def check_header_value(value: str, field: str) -> str:
    """Return ``value`` if it can be sent as an HTTP header value (an API key, a token, a
    workspace id), else raise.

    Raises:
        ConfigurationError: not a string, not encodable, or holding a line break or another
            control character (header injection); the message names ``field``, never the value.

    .. versionadded:: 0.2
    """
    return _text(value, field)


def check_base_url(url: str, field: str = "base_url") -> str:
    """Return ``url`` if it is an ``http(s)://`` URL with a host and no credentials, else raise;
    warn with ``InsecureTransportWarning`` for plain ``http://`` to a host other than this
    machine (loopback stays quiet: emulators, local gateways).

    Raises:
        ConfigurationError: another scheme, no host, a bad port, control characters or
            ``user:pass@``; the message names ``field`` and never repeats the URL.

    .. versionadded:: 0.2
    """
    _text(url, field)
    if any(c.isspace() for c in url):
        raise ConfigurationError(f"{field}: a URL has no spaces")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number in 0-65535
    except ValueError:
        raise ConfigurationError(f"{field}: not a valid URL (a bad port or bracketed host; "
                                 "the value is not shown)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        scheme = f"{parts.scheme[:20]!r}" if parts.scheme else "none"
        raise ConfigurationError(f"{field}: must be an http:// or https:// URL with a host "
                                 f"(scheme {scheme}; e.g. https://api.example.com)")
    if "@" in parts.netloc:
        raise ConfigurationError(
            f"{field}: credentials in the URL (user:password@host) are refused: they would be "
            "sent as Basic auth and shown wherever the URL is; give the provider's credential "
            "setting (api_key, access_token, credentials...) instead")
    if port == 0:
        raise ConfigurationError(f"{field}: port 0 is not a port to connect to")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        warnings.warn(InsecureTransportWarning(
            f"{field}: plain http:// to {parts.hostname}: credentials and messages travel "
            "unencrypted; use https://"), stacklevel=3)
    return url

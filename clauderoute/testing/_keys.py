"""Key material for emulators of platforms whose credentials are signed with RSA keys (a Google
service-account key file, for one): the key is made with ``cryptography``, imported when a key
is first asked for (the platforms' distributions get it through google-auth), so that importing
``clauderoute.testing`` never needs it.
"""

from __future__ import annotations

import threading

from .._errors import ConfigurationError

__all__ = ["rsa_key_pair"]

_pair: tuple[str, str] | None = None
_making = threading.Lock()


def rsa_key_pair() -> tuple[str, str]:
    """This process's emulator RSA key (2048 bits): its private half as PKCS #8 PEM, its public
    half as SubjectPublicKeyInfo PEM, in that order.

    The key is made on the first call and every later call returns the same pair: making one
    costs ~75 ms of CPU, so every emulator and every test key file in a process share it. Tell
    the key files apart by something else (a Google emulator gives each its own
    ``private_key_id``). It is a key for tests only, unencrypted and known to every test in the
    process.

    Raises:
        ConfigurationError: ``cryptography`` is not installed.

    .. versionadded:: 0.3
    """
    global _pair
    with _making:  # emulators in several threads still share one key
        if _pair is None:
            _pair = _make()
        return _pair


def _make() -> tuple[str, str]:
    try:
        from cryptography.hazmat.primitives import serialization  # lazy
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError as exc:
        raise ConfigurationError("making an emulator's RSA key needs the cryptography package: "
                                 "pip install cryptography") from exc

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public

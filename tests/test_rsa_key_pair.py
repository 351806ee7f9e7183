"""``clauderoute.testing.rsa_key_pair``, the RSA key the Google emulators' service-account key
files share: one key per process, its halves as PEM that ``cryptography`` loads back and that
belong together, and ``cryptography`` imported only when a key is asked for (a process without
it imports ``clauderoute.testing`` and gets our own error naming the package)."""

from __future__ import annotations

import subprocess
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clauderoute.testing import rsa_key_pair


def test_one_key_per_process() -> None:
    first = rsa_key_pair()
    assert rsa_key_pair() is first  # made once: the ~75 ms are spent once per process


def test_halves_are_pem_of_one_2048_bit_key() -> None:
    private_pem, public_pem = rsa_key_pair()
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----\n")  # PKCS #8, unencrypted
    assert private_pem.endswith("-----END PRIVATE KEY-----\n")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")  # SubjectPublicKeyInfo
    assert public_pem.endswith("-----END PUBLIC KEY-----\n")
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(private, rsa.RSAPrivateKey)
    assert isinstance(public, rsa.RSAPublicKey)
    assert private.key_size == 2048
    assert public.public_numbers() == private.public_key().public_numbers()
    # What the token endpoints rely on: a signature by the private half verifies with the public.
    message = b"header.claims"
    signature = private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


# Run in a fresh interpreter where ``cryptography`` cannot be imported.
_WITHOUT_CRYPTOGRAPHY = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "cryptography" or name.startswith("cryptography."):
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Blocker())
import clauderoute.testing
from clauderoute import ConfigurationError

assert "cryptography" not in sys.modules, "imported at import time"
try:
    clauderoute.testing.rsa_key_pair()
except ConfigurationError as exc:
    print(exc)
    print(type(exc.__cause__).__name__)
else:
    raise SystemExit("no error without cryptography")
"""


def test_without_cryptography_import_works_and_the_call_names_the_package() -> None:
    done = subprocess.run([sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    message, cause = done.stdout.splitlines()
    assert "cryptography" in message
    assert "pip install cryptography" in message
    assert cause == "ImportError"

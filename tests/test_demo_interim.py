"""The README's first command: ``clauderoute demo`` runs offline and shows a failover."""

from __future__ import annotations

import subprocess
import sys


def test_demo_shows_a_failover() -> None:
    """The demo completes on the emulators and prints a call that failed over."""
    out = subprocess.run([sys.executable, "-c", "import sys; from clauderoute._cli import main;"
                          " sys.exit(main(['demo']))"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "primary(overloaded_error) -> backup(ok)" in out
    assert out.count("served by") == 6

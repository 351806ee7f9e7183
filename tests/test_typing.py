"""The public API type-checks as documented (create → Message, stream → StreamEvent…)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_public_api_types() -> None:
    """mypy --strict accepts tests/typing/api.py, whose assert_type calls pin the API."""
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null",
         str(HERE / "typing" / "api.py")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

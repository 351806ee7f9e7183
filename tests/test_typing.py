"""The public API type-checks as documented, wrong parameters are type errors, and the library
itself is clean under ``mypy --strict`` and pyright (each run in a subprocess)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent
LIBRARY = ["clauderoute", *(str(p.relative_to(ROOT)) for p in
                            sorted(ROOT.glob("providers/*/clauderoute_*")))]
WRONG = HERE / "typing" / "wrong.py"


def mypy(*paths: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null",
         "--python-version=3.11", *paths], capture_output=True, text=True, check=False, cwd=ROOT)


def pyright(*paths: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("pyright")
    if exe is None:
        pytest.skip("pyright is not installed (pip install pyright; it needs node)")
    return subprocess.run([exe, "--pythonversion", "3.11", *paths], capture_output=True,
                          text=True, check=False, cwd=ROOT)


def error_lines(output: str, path: Path) -> set[int]:
    """Line numbers of ``path`` with an error, in mypy's or pyright's format."""
    name = re.escape(path.name)
    found = re.findall(rf"{name}:(\d+)(?::\d+)?(?: -|:) error", output)
    return {int(n) for n in found}


def marked(path: Path) -> set[int]:
    return {i for i, line in enumerate(path.read_text().splitlines(), 1)
            if line.rstrip().endswith("# wrong")}


def test_public_api_types_mypy() -> None:
    """mypy --strict accepts tests/typing/api.py, whose assert_type calls pin the API."""
    result = mypy(str(HERE / "typing" / "api.py"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_types_pyright() -> None:
    """pyright accepts tests/typing/api.py too."""
    result = pyright(str(HERE / "typing" / "api.py"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("checker", [mypy, pyright])
def test_wrong_parameters_are_type_errors(checker: object) -> None:
    """Each wrong request in tests/typing/wrong.py is an error, and only those lines are."""
    result = checker(str(WRONG))  # type: ignore[operator]
    expected = marked(WRONG)
    assert len(expected) >= 13
    assert error_lines(result.stdout, WRONG) == expected, result.stdout


def test_library_is_clean_under_mypy_strict() -> None:
    """mypy --strict reports nothing over clauderoute/ and every provider package."""
    result = mypy(*LIBRARY)
    assert result.returncode == 0, result.stdout + result.stderr


def test_library_is_clean_under_pyright() -> None:
    """pyright reports no error over clauderoute/ and every provider package."""
    result = pyright(*LIBRARY)
    assert result.returncode == 0, result.stdout + result.stderr

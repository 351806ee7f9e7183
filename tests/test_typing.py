"""The public API type-checks as documented, wrong parameters are type errors, and the library
itself is clean under ``mypy --strict`` and pyright (each run in a subprocess)."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent
LIBRARY = [
    "clauderoute",
    *(str(p.relative_to(ROOT)) for p in sorted(ROOT.glob("providers/*/clauderoute_*"))),
]
WRONG = HERE / "typing" / "wrong.py"


def mypy(*paths: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            # mypy's own incremental cache (.mypy_cache, git-ignored): a cold run is ~12 s of CPU,
            # a run after an edit rechecks only what changed (~1 s). mypy validates every cached
            # module against its source and options, so the result is a cold run's.
            f"--cache-dir={ROOT / '.mypy_cache'}",
            "--python-version=3.11",
            *paths,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def pyright(*paths: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("pyright")
    if exe is None:
        pytest.skip("pyright is not installed (pip install pyright; it needs node)")
    return subprocess.run(
        [exe, "--pythonversion", "3.11", *paths],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def error_lines(output: str, path: Path) -> set[int]:
    """Line numbers of ``path`` with an error, in mypy's or pyright's format."""
    name = re.escape(path.name)
    found = re.findall(rf"{name}:(\d+)(?::\d+)?(?: -|:) error", output)
    return {int(n) for n in found}


def marked(path: Path) -> set[int]:
    return {
        i
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if line.rstrip().endswith("# wrong")
    }


API = HERE / "typing" / "api.py"
# One run of each checker over everything (the library, api.py, wrong.py), shared by the tests
# below: a checker's start-up and its analysis of the library dominate, so three runs of mypy
# cost three times one.
ALL = [*LIBRARY, str(API.relative_to(ROOT)), str(WRONG.relative_to(ROOT))]


@functools.cache
def checked(checker: str) -> str:
    result = mypy(*ALL) if checker == "mypy" else pyright(*ALL)
    return result.stdout + result.stderr


# Under pytest-xdist each checker's tests share one worker, so that each checker runs once.
CHECKERS = [pytest.param(c, marks=pytest.mark.xdist_group(c)) for c in ("mypy", "pyright")]


def errors_outside(output: str, allowed: Path) -> list[str]:
    """The error lines of ``output`` that are not about ``allowed``."""
    return [
        line
        for line in output.splitlines()
        if re.search(r"(: error|- error)", line) and allowed.name not in line
    ]


@pytest.mark.parametrize("checker", CHECKERS)
def test_public_api_types(checker: str) -> None:
    """tests/typing/api.py, whose assert_type calls pin the API, has no error."""
    output = checked(checker)
    assert not [
        line
        for line in output.splitlines()
        if API.name in line and re.search(r"(: error|- error)", line)
    ], output


@pytest.mark.parametrize("checker", CHECKERS)
def test_wrong_parameters_are_type_errors(checker: str) -> None:
    """Each wrong request in tests/typing/wrong.py is an error, and only those lines are."""
    output = checked(checker)
    expected = marked(WRONG)
    assert len(expected) >= 13
    assert error_lines(output, WRONG) == expected, output


@pytest.mark.parametrize("checker", CHECKERS)
def test_library_is_clean(checker: str) -> None:
    """mypy --strict and pyright report nothing over clauderoute/ and every provider package
    (nor over api.py): the only errors of the shared run are wrong.py's."""
    output = checked(checker)
    assert "error" in output  # the run happened: wrong.py's errors are there
    assert errors_outside(output, WRONG) == [], output

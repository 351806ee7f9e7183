"""The public API type-checks as documented under mypy and pyright, wrong parameters are type
errors under both, and the library itself is clean under ``mypy --strict`` (each run in a
subprocess)."""

from __future__ import annotations

import functools
import os
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
    # The pyright package's wrapper asks PyPI for its newest release on every run (to print an
    # upgrade warning): a request off the machine, ~0.2-0.4 s here. The warning is left out, the
    # type check is the same.
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    return subprocess.run(
        [exe, "--pythonversion", "3.11", *paths],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
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
USES = [str(API.relative_to(ROOT)), str(WRONG.relative_to(ROOT))]
# One run of each checker, shared by the tests below: a checker's start-up and its analysis of
# the library dominate, so three runs of mypy cost three times one. mypy --strict checks the
# whole library along with api.py and wrong.py. pyright checks api.py and wrong.py, as a pyright
# user's code sees the public API (it resolves every type they reach in the library); pyright
# over the whole library too cost ~25 s of CPU against ~3 s, the largest single cost of the
# suite, for what mypy --strict already checks.
ALL = {"mypy": [*LIBRARY, *USES], "pyright": USES}


@functools.cache
def checked(checker: str) -> str:
    result = mypy(*ALL[checker]) if checker == "mypy" else pyright(*ALL[checker])
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
def test_no_error_but_wrong_py_s(checker: str) -> None:
    """The only errors of each shared run are wrong.py's: mypy --strict reports nothing over
    clauderoute/ and every provider package, nor over api.py; pyright nothing over api.py."""
    output = checked(checker)
    assert "error" in output  # the run happened: wrong.py's errors are there
    assert errors_outside(output, WRONG) == [], output

"""The suite's xdist groups still group.

Tests that share one expensive piece of work (the official SDK's import, one mypy and one
pyright run, the fleet's Redis and worker processes, matplotlib) are put in one
``xdist_group`` so that one worker pays for it. pytest-xdist's ``--dist loadgroup`` carries a
test's group in its node id (``…::test@group``); pytest 9.2 made node ids structured and the
suffix no longer takes (pytest-xdist issue #1386): nothing fails, each group is spread over the
workers and the suite costs ~10 s more CPU (measured on 2 cores: 53-55 s with pytest 9.1.1
against 58-62 s with 9.2.0). ``requirements-test.txt`` keeps pytest below 9.2 until xdist is
fixed; this test fails loudly if a pytest and xdist that do not group are installed.
"""

from __future__ import annotations

import os

import pytest

GROUP = "group-check"


@pytest.mark.xdist_group(GROUP)
def test_a_grouped_test_carries_its_group(request: pytest.FixtureRequest) -> None:
    """Under ``--dist loadgroup`` on a worker, a grouped test's node id names its group."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        pytest.skip("not on a pytest-xdist worker (-n 0): nothing is distributed")
    if not getattr(request.config.option, "loadgroup", False):  # (xdist sets it on workers)
        pytest.skip("not distributed by group (--dist other than loadgroup)")
    assert request.node.nodeid.endswith(f"@{GROUP}"), (
        f"{request.node.nodeid}: --dist loadgroup did not group this test; with this pytest "
        f"({pytest.__version__}) every xdist_group is spread over the workers"
    )

"""How many examples a property test runs: its own count, or ten times as many with
``CLAUDEROUTE_HYPOTHESIS=thorough`` (which also raises hypothesis's default, 100, to 1000 for the
tests that set no count; conftest.py loads that profile).

Counts are the suite's choice per test: one to a few hundred for framing and parsers (the SSE
fast path 250, long lines and one-pass message decoding 200, SigV4 against botocore 150 and
100), each beside fixed ``@example``s of the hardest cases its docstring promises, which run
whatever the count; the thorough profile is for the deep runs. Read at import: the suite's
clean_environ removes CLAUDEROUTE_* variables around each test."""

from __future__ import annotations

import os

THOROUGH = os.environ.get("CLAUDEROUTE_HYPOTHESIS") == "thorough"


def examples(n: int) -> int:
    """``n``, or ``10 * n`` in a thorough run."""
    return 10 * n if THOROUGH else n

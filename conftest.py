"""Shared pytest setup: a clean environment for every test (no real credentials leak in)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# CI machines are small and shared: judge properties, not speed (timings belong in benchmarks/).
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# CLAUDEROUTE_HYPOTHESIS=thorough: ten times the examples (1000 where a test sets no count; the
# tests that set one scale it through tests/examples.py).
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=1000)
settings.load_profile(
    "thorough" if os.environ.get("CLAUDEROUTE_HYPOTHESIS") == "thorough" else "ci"
)

# Where the environment forbids writing bytecode (PYTHONDONTWRITEBYTECODE), every Python process
# the suite starts (xdist workers, the CLI, gateways, fleet workers, documented samples, ~0.15 s
# each) would compile our own modules anew; cached bytecode (__pycache__/, git-ignored) lets the
# first process compile them for the rest. What runs is the same code; only its compile is kept.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# The young generation is collected after 10,000 new objects instead of 700 in the suite's own
# processes: the storms and failure tests make many short-lived objects, and the frequent young
# collections were ~3.5 s of CPU in the fault storm, routing and capacity tests alone (1.0-1.5 s
# at 10,000). What a collection finds is the same, only found later; leaks are still collected,
# and warn, in their module's teardown (collect_leaks_per_module), and the reference-cycle tests
# turn the collector off themselves.
gc.set_threshold(10_000, 10, 10)

# Read before clean_environ removes every CLAUDEROUTE_ variable.
_GC_EACH_TEST = bool(os.environ.get("CLAUDEROUTE_GC_EACH_TEST"))
_PREFIXES = ("ANTHROPIC_", "AWS_", "GOOGLE_", "AZURE_", "CLAUDEROUTE_", "CLOUD_ML_", "OTEL_")
# One certificate, whose key is gone (see the file): what every TLS context a test builds loads
# instead of the machine's ~150. The SDK's clients each build one (~120 in a run, ~40 ms of CPU
# each with the machine's bundle, ~0.5 ms with this), as does aiohttp in each child process the
# tests start. Nothing here trusts a public server: every test stays on loopback.
_CA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests", "no-public-ca.pem")


# The longest tests (a few seconds of wall time and more each, longest first by --durations on
# this 2-core machine), handed out first: under pytest-xdist a long test that starts last keeps
# one worker busy after the other has run out of work. Only the order changes; a name that no
# longer matches just loses its place in front. xdist hands out groups of several tests, the
# most tests first (xdist_group: official-sdk, ~100, fleet, cli-import-probe, mypy,
# pyright...), before single tests whatever this order; among groups of
# one size, this order decides (mypy, ~12-17 s cold as in CI, before pyright).
_LONGEST_FIRST = (
    "tests/test_fault_storm.py",
    "tests/test_typing.py",
    "tests/test_benchmarks.py::test_quick_overhead_run",
    "tests/test_fleet.py",
    "tests/test_cli.py::test_bench_quick_writes_the_schema",
    "tests/test_fleet_serve.py",
    "tests/gateway/test_serve_process.py",
    "tests/test_decode_message.py::test_one_pass_matches_block_by_block",
    "tests/test_capacity_storm.py",
    "tests/gateway/test_gateway_homes.py",
    "tests/test_no_private_internals.py",
    "tests/test_cli.py::test_check_ping_reports_a_wrong_credential_for_that_provider_only",
    "tests/test_models_sync.py",
    "tests/test_emulator_agent.py",
    "tests/test_cli_fixes.py",
    "tests/gateway/test_gateway_typescript.py",
    "tests/test_types.py::test_unknown_fields_and_blocks_round_trip",
    "tests/test_sigv4.py",
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one and a half workers per core the process may use (3 on 2 cores). Many
    tests wait on sockets, child processes or Redis rather than compute, and a worker that waits
    leaves its core to another: on 2 cores the whole suite took 111-113 s of wall time with 2
    workers, 97-107 s with 3 and 98 s with 4 (machine otherwise idle), for 5-10 % more CPU
    (each worker collects the suite once). Measured again once the suite's waits were cut
    (2026-12-07, idle): 54.6 and 55.0 s with 3 workers, 48.8 and 58.8 s with 4."""
    usable = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere every core counts
    cores = len(usable(0)) if usable is not None else os.cpu_count() or 1
    return max(2, cores * 3 // 2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        for i, prefix in enumerate(_LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return i
        return len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(_PREFIXES):
            monkeypatch.delenv(key)
    # Never read the developer's ~/.aws or gcloud files.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", os.devnull)
    monkeypatch.setenv("CLAUDEROUTE_CACHE_DIR", os.devnull)  # nor a synced model catalog
    monkeypatch.setenv("SSL_CERT_FILE", _CA_FILE)  # nor its certificate authorities


@pytest.fixture(autouse=True, scope="session")
def clean_session_environ() -> Iterator[None]:
    """The clean environment of ``clean_environ``, from before the first fixture of a wider
    scope than one test: the processes that module-scoped fixtures start (the fleet workers of
    test_fleet.py, the shared ``clauderoute emulate`` of test_emulate_cli.py) get it too, not
    the one pytest was started in (its credentials, and its certificate authorities: ~35 ms of
    CPU for each TLS context such a process builds, two at least)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _clean(monkeypatch)
        yield


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove platform credentials and settings from the environment (httpx's clean_environ),
    and put back what a test changed in it."""
    _clean(monkeypatch)
    yield
    if _GC_EACH_TEST:  # to find which test of a module leaked
        gc.collect()


@pytest.fixture(autouse=True, scope="module")
def collect_leaks_per_module() -> Iterator[None]:
    """Collect garbage once per module, so that a socket, session or stream a test left open
    warns (an error, with ``filterwarnings = error``) in its own module's teardown, not in
    whichever later test a collection happens to run in. Once per module rather than per test:
    a full collection after each of ~1,200 tests cost more than half a minute of the suite.
    Set ``CLAUDEROUTE_GC_EACH_TEST=1`` to pin a leak to its test.

    What survives the collection is then frozen (gc.freeze: kept out of every later collection),
    so that the next module's collection walks only the objects created since: the modules,
    classes and caches that the imports and earlier tests left, ~300,000 objects, cost ~0.4 s of
    CPU per module, ~30 s over the suite. An object a later test leaves unreachable is still
    collected (and warns) in that test's module; a frozen object is still freed by reference
    counting when its last reference goes (only a cycle among frozen objects stays)."""
    yield
    gc.collect()
    gc.freeze()

"""Shared pytest setup: a clean environment for every test (no real credentials leak in)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# CI machines are small and shared: judge properties, not speed (timings belong in benchmarks/).
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

# Read before clean_environ removes every CLAUDEROUTE_ variable.
_GC_EACH_TEST = bool(os.environ.get("CLAUDEROUTE_GC_EACH_TEST"))
_PREFIXES = ("ANTHROPIC_", "AWS_", "GOOGLE_", "AZURE_", "CLAUDEROUTE_", "CLOUD_ML_",
             "OTEL_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove platform credentials and settings from the environment (httpx's clean_environ)."""
    for key in list(os.environ):
        if key.startswith(_PREFIXES):
            monkeypatch.delenv(key)
    # Never read the developer's ~/.aws or gcloud files.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", os.devnull)
    monkeypatch.setenv("CLAUDEROUTE_CACHE_DIR", os.devnull)  # nor a synced model catalog
    yield
    if _GC_EACH_TEST:  # to find which test of a module leaked
        gc.collect()


@pytest.fixture(autouse=True, scope="module")
def collect_leaks_per_module() -> Iterator[None]:
    """Collect garbage once per module, so that a socket, session or stream a test left open
    warns (an error, with ``filterwarnings = error``) in its own module's teardown, not in
    whichever later test a collection happens to run in. Once per module rather than per test:
    a full collection after each of ~1,200 tests cost more than half a minute of the suite.
    Set ``CLAUDEROUTE_GC_EACH_TEST=1`` to pin a leak to its test."""
    yield
    gc.collect()

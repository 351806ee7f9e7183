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
    # Collect now, so that a socket, session or stream a test left open warns (an error, with
    # filterwarnings=error) in the teardown of that test, not in whichever test a later
    # collection happens to run in.
    gc.collect()

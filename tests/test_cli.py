"""The ``clauderoute`` command against the emulators: demo, bench, models, check.

Commands run as the real CLI (``python -m clauderoute._cli``, a subprocess) and in-process through
``main``. Nothing here measures: assertions are on content, schema and arithmetic, never on time.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import itertools
import json
import math
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clauderoute._cli import main
from clauderoute._cli._fleet import secret_for
from clauderoute._registry import EMULATORS, installed

PLATFORMS = installed(EMULATORS)
CLI = [sys.executable, "-m", "clauderoute._cli"]

RECORD_FIELDS = {
    "scheduled_at",
    "dispatch_delay_s",
    "ttfb_s",
    "ttfc_s",
    "ttft_s",
    "ttft_text_s",
    "e2e_s",
    "scheduled_latency_s",
    "decode_s",
    "tpot_s",
    "user_tps",
    "e2e_tps",
    "input_tokens_uncached",
    "cache_read",
    "cache_write",
    "input_tokens",
    "output_tokens",
    "usage_source",
    "first_byte_latency_s",
    "invocation_latency_s",
    "status",
    "error.type",
    "error_category",
    "error_phase",
    "http_status",
    "stop_reason",
    "attempts",
    "final_platform",
    "group",
    "target",
    "platform",
    "deployment",
    "scenario",
    "load_point",
    "request_index",
    "warmup",
}
RUN_FIELDS = {
    "schema_version",
    "run_id",
    "started_utc",
    "ended_utc",
    "tool_versions",
    "host",
    "git_sha",
    "seed",
    "config",
    "clock_source",
    "groups",
}
GROUP_FIELDS = {
    "started",
    "completed",
    "failed",
    "failed_by_error_type",
    "cancelled",
    "incomplete_at_window_end",
    "window_s",
    "request_throughput_rps",
    "output_token_throughput_tps",
    "total_token_throughput_tps",
    "peak_output_tps_1s",
    "peak_concurrency",
    "latency",
}
SUMMARY_HEADER = [
    "group",
    "metric",
    "unit",
    "n",
    "mean",
    "mean_ci_lo",
    "mean_ci_hi",
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "max",
    "p99_ci_lo",
    "p99_ci_hi",
]


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _no_secrets(text: str, secrets: list[str]) -> None:
    for s in secrets:
        assert s not in text


def _fleet_secrets(seed: int = 0) -> list[str]:
    return [secret_for(kind, seed) for kind in PLATFORMS]


def _percentile(xs: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default), written independently."""
    xs = sorted(xs)
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    return xs[lo] + (h - lo) * (xs[min(lo + 1, len(xs) - 1)] - xs[lo])


# --- demo --------------------------------------------------------------------------------------


def test_demo_subprocess_shows_failover_across_every_platform() -> None:
    """The README's first command: every installed platform emulated, a visible failover."""
    done = _cli("demo", "--quick")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"{len(PLATFORMS)} platforms emulated" in out
    for kind in PLATFORMS:
        assert kind in out
    assert "failover" in out
    assert "(overloaded_error) ->" in out  # the primary's injected 529, then another platform
    assert out.count("served by") == 6
    assert "latency per platform" in out
    _no_secrets(out + done.stderr, _fleet_secrets())


# The two tests that draw a plot in this process share a pytest-xdist worker: importing
# matplotlib costs a worker ~0.6 s of CPU, paid once rather than by two workers.
_PLOTS = pytest.mark.xdist_group("matplotlib")


@_PLOTS
def test_demo_in_process_writes_a_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "demo.png"
    assert main(["demo", "--quick", "--calls", "2", "--per-platform", "1", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "served by" in out and f"plot: {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- bench -------------------------------------------------------------------------------------


def _load(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, str]]]:
    run = json.loads((run_dir / "run.json").read_text())
    records = [json.loads(line) for line in (run_dir / "requests.jsonl").read_text().splitlines()]
    with (run_dir / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    return run, records, rows


@_PLOTS
def test_bench_quick_writes_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """run.json, requests.jsonl and summary.csv are written; summary.csv recomputes from
    requests.jsonl. In this process (the interrupted runs of test_cli_fixes and the run on a
    configuration file below are real processes)."""
    code = main(["bench", "--quick", "--out", str(tmp_path), "--run-id", "r1"])
    done = capsys.readouterr()
    assert code == 0, done.err
    run_dir = tmp_path / "r1"
    run, records, rows = _load(run_dir)
    assert RUN_FIELDS <= set(run)
    assert run["schema_version"] == 1 and run["run_id"] == "r1"
    assert run["config"]["source"] == "emulators" and "not model speed" in run["config"]["note"]
    assert {e["platform"] for e in run["config"]["emulators"]} == set(PLATFORMS)
    for rec in records:
        assert RECORD_FIELDS <= set(rec), RECORD_FIELDS - set(rec)
    # Every platform measured, each first request reported as cold and kept out of the window.
    assert {g["platform"] for g in run["groups"]} == set(PLATFORMS)
    assert sorted(c["platform"] for c in run["cold"]) == sorted(PLATFORMS)
    assert all(r["warmup"] for r in records if r["cold"])
    for g in run["groups"]:
        assert GROUP_FIELDS <= set(g)
        # Cost per request: the mean of its requests' msg.route.cost_usd (a priced model).
        costs = [
            r["cost_usd"]
            for r in records
            if r["group"] == g["group"] and not r["warmup"] and r["status"] == "ok"
        ]
        assert costs and all(c is not None and c > 0 for c in costs)
        assert g["cost_usd_per_request"] == pytest.approx(sum(costs) / len(costs))
    # Interleaved: each round of len(PLATFORMS) requests visits every platform once.
    order = [r["deployment"] for r in sorted(records, key=lambda r: r["request_index"])]
    n = len(PLATFORMS)
    assert all(sorted(order[i : i + n]) == sorted(PLATFORMS) for i in range(0, len(order), n))
    # The summary is recomputable from the per-request source of truth.
    with open(run_dir / "summary.csv") as f:
        assert next(csv.reader(f)) == SUMMARY_HEADER
    checked = 0
    for row in rows:
        xs = [
            r[row["metric"]]
            for r in records
            if r["group"] == row["group"]
            and not r["warmup"]
            and r["status"] == "ok"
            and r[row["metric"]] is not None
        ]
        assert int(row["n"]) == len(xs)
        if xs:
            for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)):
                assert float(row[name]) == pytest.approx(_percentile(xs, q), rel=1e-9, abs=1e-12)
            assert float(row["max"]) == pytest.approx(max(xs))
            checked += 1
    assert checked >= len(PLATFORMS) * 5
    assert (run_dir / "latency.png").read_bytes()[:4] == b"\x89PNG"
    # Console: a table naming every platform, the files, and no credential anywhere.
    for kind in PLATFORMS:
        assert kind in done.out
    assert "TTFT p50" in done.out and "$/req" in done.out and "results:" in done.out
    blobs = (
        done.out
        + done.err
        + "".join(p.read_text(errors="replace") for p in run_dir.iterdir() if p.suffix != ".png")
    )
    _no_secrets(blobs, _fleet_secrets())


def test_bench_open_loop_records_scheduled_and_actual_start(tmp_path: Path) -> None:
    """Open loop: intended start times are precomputed, so coordinated omission is visible."""
    code = main(
        [
            "bench",
            "--quick",
            "--mode",
            "rate",
            "--rate",
            "40",
            "--arrival",
            "constant",
            "--requests",
            "6",
            "--warmup",
            "0",
            "--no-plot",
            "--out",
            str(tmp_path),
            "--run-id",
            "open",
        ]
    )
    assert code == 0
    run, records, _ = _load(tmp_path / "open")
    assert [lp["target_rate"] for lp in run["load_points"]] == [40.0]
    assert run["load_points"][0]["planned_rate"] == pytest.approx(40.0)
    assert run["load_points"][0]["achieved_rate"] is not None
    recs = sorted(records, key=lambda r: r["request_index"])
    gaps = [b["scheduled_at"] - a["scheduled_at"] for a, b in itertools.pairwise(recs)]
    assert gaps == pytest.approx([1 / 40] * len(gaps))
    for r in recs:
        assert r["dispatch_delay_s"] >= 0
        assert r["sent_at"] >= r["scheduled_at"]
        assert r["scheduled_latency_s"] == pytest.approx(
            r["sent_at"] + r["e2e_s"] - r["scheduled_at"]
        )
    assert all(r["load_point"] == "rate=40/s" for r in recs)


def test_bench_sweep_makes_a_group_per_load_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "bench",
            "--quick",
            "--mode",
            "sweep",
            "--sweep",
            "1,2",
            "--requests",
            "3",
            "--no-plot",
            "--no-faults",
            "--out",
            str(tmp_path),
            "--run-id",
            "sweep",
            "--slo",
            "e2e_s=1000",
            "--slo",
            "ttft_s=0",
        ]
    )
    assert code == 0
    run, records, _ = _load(tmp_path / "sweep")
    points = {(g["platform"], g["load_point"]) for g in run["groups"]}
    assert points == {(p, lp) for p in PLATFORMS for lp in ("concurrency=1", "concurrency=2")}
    out = capsys.readouterr().out
    assert "concurrency=2" in out and "SLO" in out
    assert run["config"]["slos"] == {"e2e_s": 1000.0, "ttft_s": 0.0}
    for g in run["groups"]:
        measured = [r for r in records if r["group"] == g["group"] and not r["warmup"]]
        ok = sum(r["status"] == "ok" for r in measured) / len(measured)
        assert g["slo"]["attainment"] == {"e2e_s": ok, "ttft_s": 0.0}  # no TTFT is 0 s
        assert g["slo"]["combined_attainment"] == 0.0


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["bench", "--requests", "0"], "must be positive"),
        (["check", "--timeout", "-1"], "--timeout must be positive"),
        (["check", "--timeout", "nan"], "--timeout must be positive"),
        (["bench", "--config", "/nonexistent/clauderoute.toml"], "not found"),
        (["models", "--platform", "nowhere"], "--platform"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


# --- models ------------------------------------------------------------------------------------


def test_models_lists_catalog_per_platform(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "claude-sonnet-4-5@20250929" in out  # Vertex id
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in out  # Bedrock id
    assert main(["models", "--json", "--platform", "vertex"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["claude-haiku-4-5"] == {"vertex": "claude-haiku-4-5@20251001", "from": "shipped"}


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """In-process (the real command line runs as a subprocess in the demo test above)."""
    for cmd in ("demo", "bench", "models", "check"):
        with pytest.raises(SystemExit) as done:
            main([cmd, "--help"])
        assert done.value.code == 0 and "usage: clauderoute" in capsys.readouterr().out


# --- check -------------------------------------------------------------------------------------

GOOD = "good-secret-0123456789"
BAD = "wrong-secret-9876543210"


def _provider_toml(kind: str, name: str, url: str, secret: str) -> str:
    if kind == "vertex":
        return (
            f'[providers.{name}]\nkind = "vertex"\nbase_url = "{url}"\nproject = "p"\n'
            f'region = "us-east5"\naccess_token = "{secret}"\n'
        )
    if kind == "google-cloud":
        return (
            f'[providers.{name}]\nkind = "google-cloud"\nbase_url = "{url}"\n'
            f'access_token = "{secret}"\n'
        )
    if kind == "aws":
        return (
            f'[providers.{name}]\nkind = "aws"\nbase_url = "{url}"\n'
            f'workspace_id = "wrkspc_01Check"\napi_key = "{secret}"\n'
        )
    return f'[providers.{name}]\nkind = "{kind}"\nbase_url = "{url}"\napi_key = "{secret}"\n'


def _emulator(kind: str) -> Any:
    from clauderoute._registry import emulator_class

    cls = emulator_class(kind)
    if kind == "vertex":
        return cls(project="p", tokens=[GOOD])
    if kind == "google-cloud":
        return cls(tokens=[GOOD])
    if kind == "aws":
        return cls(api_keys=[GOOD], workspaces=["wrkspc_01Check"])
    return cls(api_key=GOOD)


async def _acli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main`` in a thread (it runs an event loop of its own; the emulators serve on the
    test's): what ``_acli`` returns, without starting a Python."""
    code = await asyncio.to_thread(main, list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_check_ping_reports_a_wrong_credential_for_that_provider_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The failing check runs as a real process (its exit code 1); the passing one and the
    bench on the same file run in this process."""
    kinds = [k for k in PLATFORMS if k in ("anthropic", "foundry", "vertex", "aws", "google-cloud")]
    emus = [_emulator(k) for k in kinds]
    for e in emus:
        await e.start()
    try:
        good = "".join(
            _provider_toml(k, f"ok_{k}", e.url, GOOD) for k, e in zip(kinds, emus, strict=True)
        )
        cfg = tmp_path / "good.toml"
        cfg.write_text(good)
        code, out, err = await _in_process(capsys, "check", "--config", str(cfg), "--ping")
        assert code == 0, out + err
        assert out.count("count_tokens") == len(kinds) and "FAILED" not in out
        bad = tmp_path / "bad.toml"
        with socket.socket() as s:  # a port nobody listens on: an unreachable provider
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        bad.write_text(
            good
            + _provider_toml("anthropic", "stale", emus[0].url, BAD)
            + _provider_toml("anthropic", "down", f"http://127.0.0.1:{closed}", GOOD)
            + "max_retries = 0\n"
        )
        code, out, err = await _acli("check", "--config", str(bad), "--ping")
        assert code == 1
        lines = {
            line.split()[1]: line
            for line in out.splitlines()
            if line.startswith("│") and len(line.split()) > 1
        }
        assert "FAILED" in lines["stale"] and "AuthenticationError" in out
        assert "FAILED" in lines["down"] and "ConnectError" in out
        assert all("ok" in lines[f"ok_{k}"] and "FAILED" not in lines[f"ok_{k}"] for k in kinds)
        assert "2 of" in out and "stale, down" in out.splitlines()[-1]
        _no_secrets(out + err, [GOOD, BAD])
        # bench reads the same file: real platforms are configured exactly so.
        code, out, err = await _in_process(
            capsys,
            "bench",
            "--config",
            str(cfg),
            "--requests",
            "2",
            "--warmup",
            "0",
            "--no-plot",
            "--out",
            str(tmp_path),
            "--run-id",
            "cfg",
        )
        assert code == 0, err
        run = json.loads((tmp_path / "cfg" / "run.json").read_text())
        assert run["config"]["source"] == "config"
        assert {g["deployment"] for g in run["groups"]} == {f"ok_{k}" for k in kinds}
        _no_secrets(
            out
            + err
            + (tmp_path / "cfg" / "requests.jsonl").read_text()
            + (tmp_path / "cfg" / "run.json").read_text(),
            [GOOD],
        )
    finally:
        for e in emus:
            await e.stop()


def test_check_names_the_bad_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong key fails its provider by name; a missing variable fails only its provider; a
    configuration error exits 2."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[providers.direct]\nkind = "anthropic"\napi_kee = "' + GOOD + '"\n'
        '[providers.other]\nkind = "anthropic"\napi_key = "${CLAUDEROUTE_TEST_NOPE}"\n'
        '[providers.fine]\nkind = "anthropic"\napi_key = "' + GOOD + '"\n'
    )
    assert main(["check", "--config", str(cfg)]) == 2
    captured = capsys.readouterr()
    out = captured.out
    assert "providers.direct.api_kee" in out and "CLAUDEROUTE_TEST_NOPE" in out
    assert "2 of 3 provider(s) failing" in out
    _no_secrets(out + captured.err, [GOOD])


@pytest.mark.parametrize(
    "text, needle",
    [
        (
            '[providers.a]\nkind = "anthropic"\napi_key = "x"\n[route]\nproviders = ["b"]\n',
            "route.providers[0]",
        ),
        ('[route]\npolicy = "fastest"\n', "route.policy"),
        ("[route]\nbogus = 1\n", "route.bogus"),
        ("[providers.a\n", "invalid TOML"),
    ],
)
def test_check_invalid_file_exits_2(
    tmp_path: Path, text: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    assert main(["check", "--config", str(cfg)]) == 2
    assert needle in capsys.readouterr().err


def test_check_without_a_file_uses_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No file: the environment-only provider; a missing credential says which variable (a
    configuration error: exit 2)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLAUDEROUTE_CONFIG", raising=False)
    monkeypatch.delenv("CLAUDEROUTE_PROVIDER", raising=False)
    assert main(["check"]) == 2
    out = capsys.readouterr().out
    assert "environment" in out and "ANTHROPIC_API_KEY" in out
    monkeypatch.setenv("ANTHROPIC_API_KEY", GOOD)
    assert main(["check"]) == 0
    captured = capsys.readouterr()
    assert "all 1 provider(s) ok" in captured.out
    _no_secrets(captured.out + captured.err, [GOOD])


# Which command modules building the parser for each command line imported, and whether it
# imported aiohttp, each as in a fresh interpreter: one interpreter whose imports since
# ``clauderoute._cli`` are undone (taken out of sys.modules, so imported anew) before each command
# line. One Python start for all of them instead of one each (~0.5 s of CPU per start). Then the
# same for whole runs of ``models --json`` and ``check`` (commands that never open a connection),
# and last ``serve --workers 2`` with rich made unimportable.
_LOADED_BY_PARSER = """
import contextlib, io, json, os, sys, tempfile
from clauderoute._cli import _COMMANDS, _parser, main
fresh = set(sys.modules)
loaded = []


def forget():
    # Undo the imports since fresh: the modules, and their names in their packages (or a later
    # "from package import module" finds the old one).
    for name in set(sys.modules) - fresh:
        del sys.modules[name]
        package, _, child = name.rpartition(".")
        if package in fresh and isinstance(getattr(sys.modules[package], child, None), type(sys)):
            delattr(sys.modules[package], child)


for argv in json.loads(sys.argv[1]):
    forget()
    _parser(argv)
    commands = [n for n, m in _COMMANDS.items() if f"clauderoute._cli.{m}" in sys.modules]
    loaded.append({"commands": sorted(commands), "aiohttp": "aiohttp" in sys.modules})
forget()
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["models", "--json"])
loaded.append({"code": code, "models": len(json.loads(out.getvalue())),
               "aiohttp": "aiohttp" in sys.modules})
# check without --ping: reads the file, builds each provider and resolves its credentials.
forget()
with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
    f.write('[providers.a]\\nkind = "anthropic"\\napi_key = "k"\\n[route]\\npolicy = "latency"\\n')
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["check", "--config", f.name])
os.unlink(f.name)
loaded.append({"code": code, "out": out.getvalue(), "aiohttp": "aiohttp" in sys.modules})
# serve --workers without rich (not a dependency of the gateway): the supervisor refuses to
# listen beyond loopback without keys, says so in plain text, and has loaded no aiohttp.
forget()
sys.modules["rich"] = None  # import rich now fails
with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
    f.write('[providers.a]\\nkind = "anthropic"\\napi_key = "k"\\n')
with contextlib.redirect_stderr(io.StringIO()) as err:
    code = main(["serve", "--config", f.name, "--host", "0.0.0.0", "--workers", "2"])
os.unlink(f.name)
loaded.append({"code": code, "err": err.getvalue(), "aiohttp": "aiohttp" in sys.modules})
print(json.dumps(loaded))
"""
_COMMAND_LINES = [
    (["serve", "--port", "0"], ["serve"]),
    (["models"], ["models"]),
    (["--help"], "all"),
    ([], "all"),
    (["serv"], "all"),  # misspelt: every command's parser, so the error lists them all
]


# The eight tests below read one child (functools.cache is per process): one pytest-xdist group
# puts them on one worker, where the child ran once per worker they were spread over (~0.45 s).
_PROBE = pytest.mark.xdist_group("cli-import-probe")


@functools.cache
def _loaded_by_parser() -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", _LOADED_BY_PARSER, json.dumps([a for a, _ in _COMMAND_LINES])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[dict[str, Any]] = json.loads(done.stdout)
    return loaded


@_PROBE
@pytest.mark.parametrize(("i", "argv", "loaded"), [(i, *c) for i, c in enumerate(_COMMAND_LINES)])
def test_a_command_line_imports_only_its_command(i: int, argv: list[str], loaded: Any) -> None:
    """A command line that starts with a command imports that command's module alone (a
    ``serve`` process skips the emulators and the benchmark); ``--help``, no command or a
    misspelt one import every command's, to build the parser that lists them all. None of them
    imports aiohttp (~0.25 s of CPU): the commands load it when they run, if they connect."""
    from clauderoute._cli import _COMMANDS

    got = _loaded_by_parser()[i]
    assert got["commands"] == (sorted(_COMMANDS) if loaded == "all" else loaded), argv
    assert got["aiohttp"] is False, argv


@_PROBE
def test_models_runs_without_aiohttp() -> None:
    """``models`` lists the catalog without loading the HTTP stack it never uses."""
    got = _loaded_by_parser()[len(_COMMAND_LINES)]
    assert got["code"] == 0 and got["models"] > 0
    assert got["aiohttp"] is False


@_PROBE
def test_check_without_ping_runs_without_aiohttp() -> None:
    """``check`` (no ``--ping``) validates the file, its route policy included, and resolves
    credentials without loading the HTTP stack; ``--ping`` loads it to call."""
    got = _loaded_by_parser()[len(_COMMAND_LINES) + 1]
    assert got["code"] == 0 and "all 1 provider(s) ok" in got["out"], got
    assert got["aiohttp"] is False


@_PROBE
def test_serve_runs_without_rich_and_a_supervisor_without_aiohttp() -> None:
    """The gateway needs no ``clauderoute[cli]``: without rich, ``serve --workers 2`` gets as
    far as its listen check (a refusal here, exit 2) and says why in plain text. Up to there a
    supervisor, which starts and watches worker processes, has not loaded aiohttp."""
    got = _loaded_by_parser()[len(_COMMAND_LINES) + 2]
    assert got["code"] == 2, got
    assert got["err"].startswith("error: gateway.api_keys: refusing to listen on '0.0.0.0'")
    assert got["aiohttp"] is False

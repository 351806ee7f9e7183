"""Smoke test of ``benchmarks/overhead.py --quick``: it runs, every client got right answers,
and the results carry every field the README's tables come from. No timing is asserted.

The run happens in this process (``overhead.run``, what ``main`` runs, on the test's event
loop): its servers and import timings are child processes as in a run from the shell, and the
clients it drives (the SDK, boto3, the OpenTelemetry SDK) are already imported here, where a
fresh interpreter spent ~3 s of CPU importing them again for one repetition."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.official_sdk import SDK_WORKER

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = (
    "aiohttp",
    "clauderoute",
    "clauderoute-notrace",
    "clauderoute-nosignals",
    "clauderoute-otel",
    "clauderoute-routed",
    "sdk",
)
BEDROCK = ("bedrock-aiohttp", "bedrock-sigv4", "bedrock-apikey", "bedrock-sdk")


@SDK_WORKER
async def test_quick_overhead_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import overhead

    out = tmp_path / "overhead.json"
    async with asyncio.timeout(120):
        assert await overhead.run(["--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    cfg = result["meta"]["config"]
    conc = cfg["concurrency"]
    assert result["meta"]["mode"] == "quick"
    assert result["meta"]["only_bedrock"] is False
    assert set(result["clients"]) == set(CLIENTS)

    # Every call of every client was checked against the answer the server sent for it, and
    # the server saw exactly those calls (nothing failed over, retried or went elsewhere).
    creates = cfg["warmup"] + 2 * conc + cfg["reps"] * (cfg["calls_c1"] + cfg["calls_c32"])
    # (short, long) per regime: one each in warm-up, ``streams`` each per repetition
    streams = sum(2 + 2 * cfg["reps"] * cfg["streams"][r] for r in ("bulk", "paced"))
    for name in CLIENTS:
        assert result["clients"][name]["checked"] == {"create": creates, "stream": streams}, name
    assert result["server_served"] == {
        "create": creates * len(CLIENTS),
        "stream": streams * len(CLIENTS),
    }
    # The OpenTelemetry SDK client exported a route and an attempt span for every call.
    assert result["clients"]["clauderoute-otel"]["spans_exported"] == 2 * (creates + streams)

    # The Bedrock path: same checks against its own server (BedrockEmulator, bulk streams).
    bedrock = result["bedrock"]
    assert set(bedrock["clients"]) == set(BEDROCK)
    b_streams = 2 + 2 * cfg["reps"] * cfg["bedrock"]["streams"]
    for name in BEDROCK:
        assert bedrock["clients"][name]["checked"] == {"create": creates, "stream": b_streams}
        s = bedrock["clients"][name]["stream_bulk"]
        assert s["events_per_stream"] == [n + 8 for n in cfg["bedrock"]["deltas"]]
        for size in ("short", "long"):
            assert len(s["cpu_us_per_stream"][size]["reps"]) == cfg["reps"]
    assert bedrock["server_served"] == {
        "create": creates * len(BEDROCK),
        "stream": b_streams * len(BEDROCK),
    }
    assert "bedrock-sigv4 / bedrock-aiohttp" in bedrock["ratios"]
    assert {t["issue"] for t in bedrock["targets"]} == {"#3", "#16"}
    assert {(t["what"], t["target"]) for t in bedrock["targets"] if t["issue"] == "#16"} == {
        (f"Bedrock SigV4 CPU per create, concurrency {conc} vs floor", 1.5),
        ("Bedrock SigV4 CPU per long streamed call vs floor", 2.0),
    }

    for name, r in result["clients"].items():
        for section, field in (
            ("create_c1", "cpu_us_per_call"),
            (f"create_c{conc}", "cpu_us_per_call"),
            ("stream_bulk", "cpu_us_per_event"),
            ("stream_bulk", "cpu_us_per_event_marginal"),
            ("stream_paced", "cpu_us_per_event"),
            ("stream_paced", "cpu_us_per_event_marginal"),
        ):
            stat = r[section][field]
            assert stat["min"] <= stat["median"] <= stat["max"], (name, section)
            assert len(stat["reps"]) == cfg["reps"]
        for section in ("create_c1", f"create_c{conc}"):
            assert set(r[section]["latency_ms"]) == {"p50", "p99"}
        for regime in ("bulk", "paced"):
            s = r[f"stream_{regime}"]
            assert s["events_per_stream"] == [n + 5 for n in cfg["deltas"][regime]]
            assert set(s["latency_ms_long_stream"]) == {"p50", "p99"}
        assert r[f"create_c{conc}"]["calls_per_s"] > 0

    imports = result["imports"]
    for name in ("aiohttp+msgspec", "clauderoute"):
        assert set(imports[name]) == {"cpu_ms", "wall_ms"}
    assert set(imports["statements"]) == {"python", "aiohttp+msgspec", "clauderoute"}
    assert "anthropic" not in imports  # the SDK's ~2 s import: full runs only
    for key in (
        "clauderoute / aiohttp",
        "sdk / aiohttp",
        "clauderoute / sdk",
        "clauderoute-routed / clauderoute",
        "import clauderoute / aiohttp+msgspec",
    ):
        assert key in result["ratios"]
    assert set(result["ratio_ranges"]) == set(result["ratios"])
    assert {t["issue"] for t in result["targets"]} == {"#2", "#5"}
    for t in result["targets"]:
        assert set(t) == {"issue", "what", "ratio", "target", "met"}
        assert isinstance(t["met"], bool)

    table = out.with_suffix(".md").read_text()
    for name in (*CLIENTS, *BEDROCK):
        assert f"| {name} |" in table
    from clauderoute_bedrock.emulator import API_KEY, SECRET_KEY

    for secret in ("bench-key", API_KEY, SECRET_KEY):  # no credential in the output
        assert secret not in out.read_text() + table + printed


@SDK_WORKER
@pytest.mark.parametrize("kind", ["claude", "bedrock"])
async def test_every_driver_rejects_a_wrong_answer(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The answer checks that make the figures trustworthy do fail on a wrong answer."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import _bedrock
    import _clients
    import overhead

    if kind == "claude":
        server, drivers = overhead.Server(), _clients.DRIVERS
    else:
        server, drivers = overhead.Server("_bedrock_server.py"), _bedrock.BEDROCK_DRIVERS
    try:
        for name, driver_type in drivers.items():
            right = driver_type("").expect

            def wrong_text(n: int, right: Any = right) -> tuple[str, int]:
                return right(n)[0] + "x", right(n)[1]

            def wrong_count(n: int, right: Any = right) -> tuple[str, int]:
                return right(n)[0], right(n)[1] + 1

            for wrong in (wrong_text, wrong_count):
                d = driver_type(server.url)
                await d.start()
                try:
                    await d.create()
                    await d.stream(3)  # the right expectation passes
                    d.expect = wrong  # type: ignore[method-assign]
                    with pytest.raises(_clients.WrongAnswer):
                        await d.stream(3)
                finally:
                    await d.close()
                assert d.checked == {"create": 1, "stream": 1}, name
    finally:
        server.stop()


def test_a_bedrock_only_run_keeps_the_full_runs_results_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--only-bedrock`` writes to a file of its own by default (it has no direct clients, so
    it would leave ``overhead.json`` with empty ``ratios``); ``--out`` wins over either."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import overhead

    results = ROOT / "benchmarks" / "results"
    assert overhead.out_path(overhead.parse_args([])) == results / "overhead.json"
    assert overhead.out_path(overhead.parse_args(["--quick"])) == results / "overhead.json"
    only = overhead.parse_args(["--only-bedrock"])
    assert overhead.out_path(only) == results / "overhead-bedrock.json"
    given = overhead.parse_args(["--only-bedrock", "--out", "/tmp/x/b.json"])
    assert overhead.out_path(given) == Path("/tmp/x/b.json")


@pytest.mark.parametrize("name", ["aiohttp-typed", "lane-bare", "lane-kept"])
async def test_each_reference_checks_its_answers(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The create-only references of ``instructions.py`` get the right answer through
    clauderoute's own pieces, and fail on a wrong one."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import _clients
    import _references
    import overhead

    server = overhead.Server()
    try:
        d = _references.REFERENCES[name](server.url)
        await d.start()
        try:
            await d.create()
            monkeypatch.setattr(_clients, "EXPECTED", _clients.EXPECTED + "x")
            with pytest.raises(_clients.WrongAnswer):
                await d.create()
        finally:
            await d.close()
        assert d.checked == {"create": 1, "stream": 0}
    finally:
        server.stop()


async def test_paired_run_interleaves_and_checks_every_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``paired.py`` times a batch per client per round, checks every answer (it exits on an
    unchecked one), and reports a ratio per client against the first. No timing is asserted."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import overhead
    import paired

    server = overhead.Server()
    try:
        res = await paired.run_pairs(["aiohttp", "clauderoute"], server.url, 3, 4, 2)
    finally:
        server.stop()
    assert {k: len(v) for k, v in res["cpu_us_per_call"].items()} == {
        "aiohttp": 3,
        "clauderoute": 3,
    }
    assert all(v > 0 for v in res["cpu_us_per_call"]["clauderoute"])
    ratio = res["ratios"]["clauderoute / aiohttp"]
    assert ratio["q1"] <= ratio["median"] <= ratio["q3"]


async def test_paired_run_times_streams_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``deltas`` each timed call is a checked stream of that many deltas."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import overhead
    import paired

    server = overhead.Server("_bedrock_server.py")
    try:
        res = await paired.run_pairs(["bedrock-aiohttp", "bedrock-sigv4"], server.url, 2, 2, 1, 5)
    finally:
        server.stop()
    assert res["call"] == "stream of 5 deltas"
    assert [len(v) for v in res["cpu_us_per_call"].values()] == [2, 2]
    assert "bedrock-sigv4 / bedrock-aiohttp" in res["ratios"]


def test_paired_run_refuses_clients_of_two_servers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A direct client and a Bedrock one answer from different servers: refused up front."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import paired

    monkeypatch.setattr("sys.argv", ["paired.py", "aiohttp", "bedrock-sigv4"])
    with pytest.raises(SystemExit):
        paired.main()
    assert "different servers" in capsys.readouterr().err

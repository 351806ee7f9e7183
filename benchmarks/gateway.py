"""What ``clauderoute serve`` adds: direct vs through the gateway vs through LiteLLM's proxy.

    python benchmarks/gateway.py [--quick] [--litellm PATH] [--out results/gateway.json]

One run, one loopback server (``_server.py``, its own process), three targets, each reached by
the same raw aiohttp client in this process:

* ``direct`` — the server itself (the floor);
* ``clauderoute`` — ``clauderoute serve`` (one worker, its own process, access log on, to
  /dev/null) with the server as its one Claude API provider;
* ``litellm`` — LiteLLM's proxy (``litellm[proxy]``, its own process) on its Anthropic
  pass-through route ``/anthropic/v1/messages``, upstream the same server. Skipped, and said so,
  when the ``litellm`` command is not found.

Figures: added latency (target p50/p99 minus direct's, non-streaming calls) at concurrency 1,
32 and 256, targets interleaved within every repetition; gateway CPU per request (the gateway
process's user + system time from ``/proc/<pid>/stat`` over the c=32 calls, divided by them);
gateway CPU per streamed event (marginal: (CPU of long streams − CPU of short streams) / extra
events, bulk streams written in one go by the server); gateway RSS with 1,000 concurrent
streams open (``VmRSS`` of the gateway process, paced streams, sampled while all are open).
Medians over repetitions, with min and max. Timings live here, never in pass/fail tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

HERE = Path(__file__).resolve().parent
API_KEY = "bench-key"  # the server's (see _server.py)
GW_KEY = "bench-gateway-key"
LITELLM_KEY = "sk-bench-litellm-master"  # LiteLLM refuses to start without a master key
MODEL = "claude-haiku-4-5"
FULL = {"reps": 3, "calls": {1: 200, 32: 640, 256: 1024}, "streams": 400,
        "deltas": (100, 1000), "rss_streams": 1000, "rss_deltas": 4000}
QUICK = {"reps": 1, "calls": {1: 10, 32: 64, 256: 256}, "streams": 4, "deltas": (10, 50),
         "rss_streams": 50, "rss_deltas": 200}
TICK = os.sysconf("SC_CLK_TCK")


class Proc:
    """A child process; ``port`` from a line of its output matching ``marker``."""

    def __init__(self, argv: list[str], *, env: dict[str, str] | None = None,
                 stderr_marker: str | None = None) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE
                                     if stderr_marker is None else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE if stderr_marker else
                                     subprocess.DEVNULL, env=env, cwd=HERE)
        stream = self.proc.stderr if stderr_marker else self.proc.stdout
        assert stream is not None
        line = stream.readline().decode()
        if stderr_marker and stderr_marker in line:
            self.port = int(line.rsplit(":", 1)[1])
        elif line.startswith("PORT "):
            self.port = int(line.split()[1])
        else:
            self.stop()
            raise RuntimeError(f"{argv[:3]} did not start: {line!r}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_s(self) -> float:
        """User + system CPU seconds of the process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start_gateway(server_port: int, tmp: Path) -> Proc:
    cfg = tmp / "gateway.toml"
    root = f"http://127.0.0.1:{server_port}"
    cfg.write_text(f'[providers.bulk]\nkind = "anthropic"\nbase_url = "{root}"\n'
                   f'api_key = "{API_KEY}"\n[providers.paced]\nkind = "anthropic"\n'
                   f'base_url = "{root}/paced"\napi_key = "{API_KEY}"\n'
                   f'[route]\nproviders = ["bulk", "paced"]\n'
                   f'[gateway]\napi_keys = ["{GW_KEY}"]\nmax_concurrency = 4096\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDEROUTE_"))}
    return Proc([sys.executable, "-m", "clauderoute._cli", "serve", "--config", str(cfg),
                 "--port", "0"], env=env, stderr_marker="listening on")


def start_litellm(command: str, server_port: int, tmp: Path) -> Proc | None:
    exe = shutil.which(command)
    if exe is None:
        return None
    port = _free_port()
    env = dict(os.environ, ANTHROPIC_API_BASE=f"http://127.0.0.1:{server_port}",
               ANTHROPIC_API_KEY=API_KEY, LITELLM_LOG="ERROR", LITELLM_MASTER_KEY=LITELLM_KEY)
    proc = subprocess.Popen([exe, "--port", str(port), "--host", "127.0.0.1",
                             "--num_workers", "1"], env=env, cwd=tmp,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wrapper = Proc.__new__(Proc)
    wrapper.proc, wrapper.port = proc, port
    return wrapper


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Target:
    def __init__(self, name: str, url: str, headers: dict[str, str]) -> None:
        self.name, self.url, self.headers = name, url, headers


def _body(i: int, stream: bool = False, deltas: int = 16) -> bytes:
    return msgspec.json.encode({"model": MODEL, "max_tokens": deltas, "stream": stream,
                                "messages": [{"role": "user", "content": f"ping {i}"}]})


async def call(session: aiohttp.ClientSession, t: Target, i: int) -> float:
    t0 = time.perf_counter()
    async with session.post(t.url, data=_body(i), headers=t.headers) as r:
        data = await r.read()
    took = time.perf_counter() - t0
    if r.status != 200 or f"pong ping {i}".encode() not in data:
        raise RuntimeError(f"{t.name}: wrong answer {r.status} {data[:200]!r}")
    return took


async def load(session: aiohttp.ClientSession, t: Target, n: int, c: int) -> list[float]:
    out: list[float] = []
    it = iter(range(n))

    async def worker() -> None:
        for i in it:
            out.append(await call(session, t, i))
    await asyncio.gather(*(worker() for _ in range(c)))
    return out


async def stream(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
                 deltas: int, opened: asyncio.Event | None = None) -> int:
    async with session.post(url, data=_body(0, True, deltas), headers=headers) as r:
        if r.status != 200:
            raise RuntimeError(f"stream: {r.status} {(await r.read())[:200]!r}")
        events = 0
        first = True
        async for line in r.content:
            if line.startswith(b"event: "):
                events += 1
                if first and opened is not None:
                    first = False
                    opened.set()
    if events != deltas + 5:
        raise RuntimeError(f"stream: {events} events, expected {deltas + 5}")
    return events


def q(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def mmm(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


async def latency(targets: list[Target], cfg: dict[str, Any], gw: Proc) -> dict[str, Any]:
    res: dict[str, Any] = {}
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as s:
        for t in targets:  # warm-up: connections, imports, caches
            await load(s, t, 64, 32)
        for c, n in cfg["calls"].items():
            per: dict[str, dict[str, list[float]]] = {t.name: {"p50": [], "p99": []}
                                                      for t in targets}
            cpu: list[float] = []
            for rep in range(cfg["reps"]):
                order = targets[rep % len(targets):] + targets[:rep % len(targets)]
                for t in order:
                    before = gw.cpu_s()
                    lat = await load(s, t, n, c)
                    if t.name == "clauderoute":
                        cpu.append((gw.cpu_s() - before) / n * 1e6)
                    per[t.name]["p50"].append(q(lat, 0.5) * 1e3)
                    per[t.name]["p99"].append(q(lat, 0.99) * 1e3)
            row: dict[str, Any] = {"calls": n, "gateway_cpu_us_per_request": mmm(cpu)}
            for t in targets:
                row[t.name] = {k: mmm(v) for k, v in per[t.name].items()}
                if t.name != "direct":
                    row[t.name]["added_p50_ms"] = mmm([a - b for a, b in zip(
                        per[t.name]["p50"], per["direct"]["p50"], strict=True)])
                    row[t.name]["added_p99_ms"] = mmm([a - b for a, b in zip(
                        per[t.name]["p99"], per["direct"]["p99"], strict=True)])
            res[f"c{c}"] = row
            print(f"  c={c}: " + ", ".join(
                f"{t.name} p50 {row[t.name]['p50']['median']:.3f} ms" for t in targets),
                flush=True)
    return res


async def per_event(gw: Proc, url: str, cfg: dict[str, Any]) -> dict[str, Any]:
    short, long = cfg["deltas"]
    headers = {"x-api-key": GW_KEY, "x-clauderoute-provider": "bulk"}
    marginal: list[float] = []
    async with aiohttp.ClientSession() as s:
        await stream(s, url, headers, long)
        for _ in range(cfg["reps"]):
            cpus = {}
            for d in (short, long):
                before = gw.cpu_s()
                for _ in range(cfg["streams"]):
                    await stream(s, url, headers, d)
                cpus[d] = gw.cpu_s() - before
            marginal.append((cpus[long] - cpus[short]) / (cfg["streams"] * (long - short))
                            * 1e6)
    return {"marginal_cpu_us_per_event": mmm(marginal), "short": short, "long": long,
            "streams": cfg["streams"]}


async def rss(gw: Proc, url: str, cfg: dict[str, Any]) -> dict[str, Any]:
    n, deltas = cfg["rss_streams"], cfg["rss_deltas"]
    headers = {"x-api-key": GW_KEY, "x-clauderoute-provider": "paced"}
    idle = gw.rss_mb()
    opened = [asyncio.Event() for _ in range(n)]
    peak = 0.0
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn,
                                     timeout=aiohttp.ClientTimeout(total=None)) as s:
        tasks = [asyncio.ensure_future(stream(s, url, headers, deltas, e)) for e in opened]
        while not all(e.is_set() for e in opened):
            await asyncio.sleep(0.05)
            peak = max(peak, gw.rss_mb())
            if any(t.done() and t.exception() for t in tasks):
                break
        all_open = sum(e.is_set() for e in opened)
        for _ in range(10):
            peak = max(peak, gw.rss_mb())
            await asyncio.sleep(0.05)
        still = sum(not t.done() for t in tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"streams": n, "opened": all_open, "still_open_at_sample": still,
            "idle_rss_mb": idle, "peak_rss_mb": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--litellm", default="litellm", help="the LiteLLM proxy command")
    ap.add_argument("--out", default=str(HERE / "results" / "gateway.json"))
    args = ap.parse_args()
    cfg = QUICK if args.quick else FULL
    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    server = Proc([sys.executable, str(HERE / "_server.py")])
    gw = start_gateway(server.port, tmp)
    lite = start_litellm(args.litellm, server.port, tmp)
    try:
        targets = [Target("direct", f"http://127.0.0.1:{server.port}/v1/messages",
                          {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}),
                   Target("clauderoute", f"http://127.0.0.1:{gw.port}/v1/messages",
                          {"x-api-key": GW_KEY, "anthropic-version": "2023-06-01",
                           "x-clauderoute-provider": "bulk"})]
        if lite is not None:
            asyncio.run(_wait_litellm(lite))
            targets.append(Target("litellm",
                                  f"http://127.0.0.1:{lite.port}/anthropic/v1/messages",
                                  {"x-api-key": LITELLM_KEY, "anthropic-version": "2023-06-01"}))
        print(f"targets: {[t.name for t in targets]}; load average {os.getloadavg()}", flush=True)
        result: dict[str, Any] = {"host": {"python": platform.python_version(),
                                           "cpus": os.cpu_count(),
                                           "loadavg_start": os.getloadavg()},
                                  "config": {k: (v if not isinstance(v, dict) else
                                                 {str(a): b for a, b in v.items()})
                                             for k, v in cfg.items()},
                                  "litellm": lite is not None}
        result["latency"] = asyncio.run(latency(targets, cfg, gw))
        url = f"http://127.0.0.1:{gw.port}/v1/messages"
        result["stream"] = asyncio.run(per_event(gw, url, cfg))
        print(f"  per event: {result['stream']['marginal_cpu_us_per_event']}", flush=True)
        result["rss"] = asyncio.run(rss(gw, url, cfg))
        print(f"  rss: {result['rss']}", flush=True)
        result["host"]["loadavg_end"] = os.getloadavg()
    finally:
        for p in (lite, gw, server):
            if p is not None:
                p.stop()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


async def _wait_litellm(lite: Proc) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(600):
            try:
                async with s.get(f"http://127.0.0.1:{lite.port}/health/liveliness") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if lite.proc.poll() is not None:
                raise RuntimeError("litellm exited at start")
            await asyncio.sleep(0.2)
    raise RuntimeError("litellm did not start")


if __name__ == "__main__":
    main()

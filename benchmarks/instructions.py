"""Load-independent counts of what one ``messages.create`` costs the client, to decide between
two versions of the code on a shared machine where timings move by 15 % from run to run.

    python benchmarks/instructions.py [--clients aiohttp clauderoute] [--lo 100] [--hi 1000]
    python benchmarks/instructions.py --clients bedrock-aiohttp bedrock-sigv4 bedrock-apikey
    python benchmarks/instructions.py --opcodes clauderoute [--top 60] [--lines FILE]

* Default: CPU instructions per call at concurrency 32, counted by valgrind's callgrind on the
  client process alone (the server of ``_server.py`` runs unmeasured in its own process):
  ``(I(hi calls) - I(lo calls)) / (hi - lo)``, each run after the same 64 warm-up calls, so the
  interpreter's start, the imports and the warm-up cancel out. Needs ``valgrind``; about a
  minute per client. Repeated runs agree within ~2k instructions per call. ``--keep PREFIX``
  keeps both callgrind files (``callgrind_annotate`` reads them).
* ``--opcodes NAME``: Python bytecodes executed per call, per function, for one client
  (``sys.settrace`` with opcode events, a few seconds): where the interpreted work is, to the
  line with ``--lines FILE``. Time-driven work (the latency histogram's decay) runs more often
  under the tracer than at full speed.

Clients are the names of ``overhead.py`` and the create-only references of ``_references.py``
(``aiohttp-typed``, ``lane-bare``, ``lane-kept``): the direct ones answer from ``_server.py``,
the ``bedrock-*`` ones from ``_bedrock_server.py``; each server is started once, when a client needs
it. Every answer is checked as in ``overhead.py``. Valgrind emulates no SHA extension, so
OpenSSL hashes in software there and SigV4's hashing weighs more in these counts than in CPU
time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import linecache
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

WARMUP = 64


def _server_script(name: str) -> str:
    return "_bedrock_server.py" if name.startswith("bedrock-") else "_server.py"


def _driver(name: str, url: str) -> Any:
    if name.startswith("bedrock-"):
        from _bedrock import BEDROCK_DRIVERS as drivers
    else:
        from _clients import DRIVERS
        from _references import REFERENCES

        drivers = {**DRIVERS, **REFERENCES}
    if name not in drivers:
        raise SystemExit(f"unknown client {name!r}; known: {', '.join(sorted(drivers))}")
    return drivers[name](url)


async def _run_calls(
    name: str, url: str, n: int, concurrency: int, before: Any = None, after: Any = None
) -> None:
    driver = _driver(name, url)
    await driver.start()

    async def run(k: int) -> None:
        todo = iter(range(k))

        async def worker() -> None:
            for _ in todo:
                await driver.create()

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    await run(WARMUP)
    if before is not None:
        before()
    await run(n)
    if after is not None:
        after()
    await driver.close()
    checked = getattr(driver, "checked", None)
    if checked is not None and checked["create"] != WARMUP + n:
        raise SystemExit(f"{name}: {checked['create']} of {WARMUP + n} answers checked")


def _callgrind(name: str, n: int, url: str, concurrency: int, keep: str | None) -> int:
    if keep:
        out = keep
    else:  # a file of our own (mktemp's name could be taken before valgrind writes to it)
        fd, out = tempfile.mkstemp(prefix="callgrind.")
        os.close(fd)
    subprocess.run(
        [
            "valgrind",
            "--quiet",  # valgrind's banner off; the child's own errors (a failed check) shown
            "--tool=callgrind",
            "--dump-instr=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            name,
            str(n),
            url,
            str(concurrency),
        ],
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        stdout=subprocess.DEVNULL,
    )
    text = Path(out).read_text()
    if not keep:
        os.unlink(out)
    found = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
    if found is None:
        raise RuntimeError("callgrind wrote no total")
    return int(found.group(1))


def _opcodes(name: str, url: str, n: int, concurrency: int, top: int, lines_to: str | None) -> None:
    counts: collections.Counter[tuple[str, int, str]] = collections.Counter()
    lines: collections.Counter[tuple[str, int]] = collections.Counter()

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts[code.co_filename, code.co_firstlineno, code.co_name] += 1
            if lines_to is not None:
                lines[code.co_filename, frame.f_lineno or 0] += 1
        return tracer

    # tasks created after settrace (the workers of the measured calls) are traced
    asyncio.run(
        _run_calls(
            name, url, n, concurrency, lambda: sys.settrace(tracer), lambda: sys.settrace(None)
        )
    )
    strip = str(Path(os.__file__).parent) + "/"
    print(f"{name}: {sum(counts.values()) / n:,.0f} bytecodes per call")
    by_file: collections.Counter[str] = collections.Counter()
    for (path, _, _), c in counts.items():
        by_file[path] += c
    for path, c in by_file.most_common(25):
        print(f"{c / n:9.1f}  {path.replace(strip, '')}")
    print()
    for (path, first, func), c in counts.most_common(top):
        print(f"{c / n:9.1f}  {path.replace(strip, '')}:{first} {func}")
    if lines_to is not None:
        with open(lines_to, "w") as fh:
            for (path, line), c in sorted(lines.items()):
                text = linecache.getline(path, line).rstrip()
                fh.write(f"{c / n:8.1f} {path.replace(strip, '')}:{line}: {text}\n")


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        name, n, url, concurrency = sys.argv[2:6]
        asyncio.run(_run_calls(name, url, int(n), int(concurrency)))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", nargs="+", default=["aiohttp", "clauderoute"])
    ap.add_argument("--lo", type=int, default=100)
    ap.add_argument("--hi", type=int, default=1000)
    ap.add_argument("-c", "--concurrency", type=int, default=32)
    ap.add_argument("--keep", help="keep the callgrind files as PREFIX.{lo,hi}.CLIENT")
    ap.add_argument("--opcodes", metavar="CLIENT", help="count bytecodes instead (no valgrind)")
    ap.add_argument("--calls", type=int, default=1000, help="calls counted by --opcodes")
    ap.add_argument("--top", type=int, default=60)
    ap.add_argument("--lines", metavar="FILE", help="--opcodes: per-line counts into FILE")
    a = ap.parse_args()
    from overhead import Server

    servers: dict[str, Server] = {}

    def url_for(name: str) -> str:
        script = _server_script(name)
        if script not in servers:
            servers[script] = Server(script)
        return servers[script].url

    try:
        if a.opcodes:
            _opcodes(a.opcodes, url_for(a.opcodes), a.calls, a.concurrency, a.top, a.lines)
            return
        for name in a.clients:
            url = url_for(name)
            lo = _callgrind(name, a.lo, url, a.concurrency, a.keep and f"{a.keep}.lo.{name}")
            hi = _callgrind(name, a.hi, url, a.concurrency, a.keep and f"{a.keep}.hi.{name}")
            print(
                f"{name}: {(hi - lo) / (a.hi - a.lo):,.0f} instructions per call "
                f"(I({a.lo})={lo:,}, I({a.hi})={hi:,})",
                flush=True,
            )
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()

"""Instructions per Bedrock create under callgrind, for figures steadier than CPU time on a
shared machine.

Each client named runs twice under ``valgrind --tool=callgrind``: 40 creates one at a time and
64 at concurrency 32 (imports, pools, caches), then ``N`` creates at concurrency 32, for two
values of ``N`` (default 20 and 620); the difference of the two totals over the difference of
the ``N`` is the cost of one create, start-up and warm-up cancelled out. The server
(``_bedrock_server.py``) runs in a child process outside valgrind. Every answer is checked as in
``overhead.py``.

Valgrind emulates no SHA extension: OpenSSL hashes in software there, so SigV4's hashing weighs
more in these counts than in CPU time.

Usage: ``python benchmarks/instructions.py bedrock-sigv4 bedrock-apikey bedrock-aiohttp``
(``--n 20 620``, ``--concurrency 32``, ``--keep DIR`` to keep the callgrind files).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WARMUP = 40  # one at a time, then 64 at the concurrency
_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


async def _worker(driver: Any, todo: Iterator[int]) -> None:
    for _ in todo:
        await driver.create()


async def _creates(url: str, name: str, n: int, concurrency: int) -> None:
    from _bedrock import BEDROCK_DRIVERS

    driver = BEDROCK_DRIVERS[name](url)
    await driver.start()
    try:
        for _ in range(WARMUP):
            await driver.create()
        for count in (64, n):
            todo = iter(range(count))
            await asyncio.gather(*(_worker(driver, todo) for _ in range(concurrency)))
    finally:
        await driver.close()
    if driver.checked["create"] != WARMUP + 64 + n:
        raise SystemExit(f"{name}: {driver.checked['create']} creates checked")


def _count(url: str, name: str, n: int, concurrency: int, out: Path) -> int:
    """Instructions of one run of ``n`` creates (and the warm-up) under callgrind."""
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         str(Path(__file__).resolve()), "--child", url, name, str(n), str(concurrency)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=HERE)  # fmt: skip
    found = _TOTAL.search(out.read_text())
    if found is None:
        raise SystemExit(f"no total in {out}")
    return int(found.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clients", nargs="*", default=["bedrock-sigv4", "bedrock-apikey",
                                                   "bedrock-aiohttp"])  # fmt: skip
    ap.add_argument("--n", nargs=2, type=int, default=[20, 620])
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--keep", type=Path, help="keep the callgrind files here")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    if args.child:
        url, name, n, concurrency = args.child
        asyncio.run(_creates(url, name, int(n), int(concurrency)))
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    from overhead import Server

    folder = args.keep or Path(tempfile.mkdtemp(prefix="callgrind-"))
    folder.mkdir(parents=True, exist_ok=True)
    low, high = args.n
    server = Server("_bedrock_server.py")
    try:
        for name in args.clients:
            counts = [_count(server.url, name, n, args.concurrency,
                             folder / f"callgrind.{name}.{n}") for n in (low, high)]  # fmt: skip
            per = (counts[1] - counts[0]) / (high - low)
            print(f"{name}: {per:,.0f} instructions per create at concurrency "
                  f"{args.concurrency} ({counts[0]:,} at N={low}, {counts[1]:,} at N={high})",
                  flush=True)  # fmt: skip
    finally:
        server.stop()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

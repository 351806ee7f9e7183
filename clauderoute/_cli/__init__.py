"""The ``clauderoute`` command (interim: ``demo`` only; bench, models and check follow)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any


async def _demo() -> int:
    from clauderoute import AsyncClient
    from clauderoute.testing import Fault, LatencyProfile
    from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

    # Two emulated deployments of the Claude API: the first is overloaded now and then.
    key = "demo-key"
    primary = AnthropicEmulator(api_key=key, latency=LatencyProfile(ttft_s=0.12, per_token_s=0.01))
    backup = AnthropicEmulator(api_key=key, latency=LatencyProfile(ttft_s=0.2, per_token_s=0.012))
    primary.faults.add(Fault(status=529), Fault(stream_error="overloaded_error", after_events=1,
                                                operations=frozenset({"messages.stream"})))
    await primary.start()
    await backup.start()
    providers = [AnthropicProvider(name="primary", base_url=primary.url, api_key=key),
                 AnthropicProvider(name="backup", base_url=backup.url, api_key=key)]
    try:
        async with AsyncClient(providers=providers) as client:
            for i in range(6):
                prompt = [{"role": "user", "content": f"demo call {i}: say hello"}]
                t0 = time.perf_counter()
                if i % 2:
                    async with client.messages.stream(model="claude-sonnet-4-5", max_tokens=32,
                                                      messages=prompt) as stream:
                        msg = await stream.get_final_message()
                    route, kind = stream.route, "stream"
                else:
                    msg = await client.messages.create(model="claude-sonnet-4-5", max_tokens=32,
                                                       messages=prompt)
                    route, kind = msg.route, "create"
                took = (time.perf_counter() - t0) * 1000
                trail = " -> ".join(f"{a.provider}({a.error_type or a.error or 'ok'})"
                                    for a in route.attempts)
                print(f"{kind:6} served by {route.provider:8} {took:7.1f} ms  {trail}")
                print(f"         {msg.text!r}")
    finally:
        await primary.stop()
        await backup.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``clauderoute`` command."""
    parser = argparse.ArgumentParser(prog="clauderoute")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="route calls through emulated platforms with injected faults")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return asyncio.run(_demo())
    return 2


if __name__ == "__main__":
    sys.exit(main())

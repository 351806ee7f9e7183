"""One process of a test fleet: reads JSON commands on stdin, answers one JSON line each.

Run by tests/test_fleet.py as ``python tests/fleet_worker.py STATE_URL`` (a real process, so
the fleet state crosses process boundaries the way a gateway's workers do).
"""

# ruff: noqa: B023  (each lambda is awaited before the loop moves on)
from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from clauderoute.fleet import FleetRouteState, FleetState, SharedBreaker, state_settings

KEY = "fleet-key"


class LocalAffinityAndBudget:
    """The smallest in-process RouteState for the adapter's local copy (the full one comes
    with the signals work): affinity with TTLs; no budget of its own."""

    def __init__(self) -> None:
        self.aff: dict[bytes, tuple[str, float]] = {}

    def affinity_put(self, keys: tuple[tuple[bytes, float], ...], provider: str) -> None:
        for k, ttl in keys:
            self.aff[k] = (provider, time.monotonic() + ttl)

    def affinity_get(self, keys: tuple[bytes, ...]) -> str | None:
        for k in keys:
            got = self.aff.get(k)
            if got is not None and got[1] > time.monotonic():
                return got[0]
        return None

    def budget_admit(self, provider: str, input_estimate: int) -> tuple[float, str] | None:
        return None


class _Limits:
    def __init__(self, rpm: int | None) -> None:
        self.rpm, self.input_tpm, self.output_tpm = rpm, None, None


async def _poll(pred: Any, seconds: float, every: float = 0.005) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        await asyncio.sleep(every)
    return bool(pred())


async def main() -> None:
    settings = state_settings({"url": sys.argv[1], "sync_ms": 50, "op_timeout_ms": 200}, env={})
    assert settings is not None
    fleet = FleetState(settings)
    breaker = SharedBreaker(fleet, threshold=2, cooldown_s=float(sys.argv[2]), probe_ttl_s=30)
    state = FleetRouteState(fleet, LocalAffinityAndBudget(), budgets={"b": _Limits(10)},
                            window_s=3600)
    fleet.start()
    loop = asyncio.get_running_loop()
    held: dict[str, int] = {}
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        cmd = json.loads(line)
        op, p, m = cmd["op"], cmd.get("p", "a"), cmd.get("m", "m")
        out: dict[str, Any] = {}
        if op == "live":
            out["live"] = await _poll(lambda: fleet.live, cmd.get("within", 20.0))
        elif op == "fail":
            for _ in range(cmd.get("n", 2)):
                breaker.failure(p, m)
            out["state"] = breaker.state(p, m)
        elif op == "success":
            breaker.success(p, m)
        elif op == "until_blocked":
            out["blocked"] = await _poll(lambda: not breaker.allow(p, m), cmd["within"])
        elif op == "until_allowed":
            out["allowed"] = await _poll(lambda: breaker.state(p, m) == 0, cmd["within"])
        elif op == "try_probe":
            out["probe"] = await _poll(
                lambda: breaker.state(p, m) != 0 and breaker.claim(p, m) is not None,
                cmd["within"])
        elif op == "state":
            out["state"] = breaker.state(p, m)
        elif op == "allow":
            out["allow"] = breaker.allow(p, m)
        elif op == "admit":
            n, end = 0, time.monotonic() + cmd["within"]
            while time.monotonic() < end:
                r = state.budget_admit("b", 0)
                if r is None:
                    n += 1
                elif r[1].endswith("spent"):
                    break
                else:
                    await asyncio.sleep(0.01)
            out["admitted"] = n
        elif op == "aff_put":
            state.affinity_put(((bytes.fromhex(cmd["key"]), 300.0),), cmd["provider"])
        elif op == "aff_get":
            k = (bytes.fromhex(cmd["key"]),)
            await _poll(lambda: state.affinity_get(k) is not None, cmd["within"])
            out["provider"] = state.affinity_get(k)
        elif op == "calls":
            out.update(await _calls(cmd, breaker))
        elif op == "config_calls":
            out.update(await _config_calls(cmd))
        elif op == "status":
            out.update(fleet.status())
        held.clear()
        print(json.dumps(out), flush=True)
    await breaker.aclose()


async def _calls(cmd: dict[str, Any], breaker: SharedBreaker) -> dict[str, Any]:
    from clauderoute_anthropic import AnthropicProvider

    import clauderoute as cr

    providers = [AnthropicProvider(name=f"p{i}", base_url=u, api_key=KEY, max_retries=1)
                 for i, u in enumerate(cmd["urls"])]
    ok, errors, served = 0, [], {}
    async with cr.AsyncClient(providers=providers, breaker=breaker, tracing=False,
                              deadline=30) as client:
        sem = asyncio.Semaphore(cmd.get("conc", 8))

        async def one() -> None:
            nonlocal ok
            async with sem:
                try:
                    msg = await client.messages.create(
                        model="claude-haiku-4-5", max_tokens=16,
                        messages=[{"role": "user", "content": "hi"}])
                    ok += 1
                    served[msg.route.provider] = served.get(msg.route.provider, 0) + 1
                except Exception as exc:  # noqa: BLE001 - reported to the test
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])

        await asyncio.gather(*(one() for _ in range(cmd["n"])))
        client.router.breaker = None  # the breaker outlives this client (closing it stops sync)
    return {"ok": ok, "errors": errors[:5], "served": served}


async def _config_calls(cmd: dict[str, Any]) -> dict[str, Any]:
    """Calls through a client built from a config file with [state] (the whole wiring);
    ``cache``: each call's system prompt is marked for prompt caching (cache affinity)."""
    import clauderoute as cr

    ok, errors, served = 0, [], {}
    system: Any = [{"type": "text", "text": cmd["cache"],
                    "cache_control": {"type": "ephemeral"}}] if cmd.get("cache") else "s"
    async with cr.AsyncClient.from_config(cmd["path"], tracing=False) as client:
        state = getattr(getattr(client.router, "signals", None), "state", None)
        fleet = client.router.breaker.fleet  # type: ignore[union-attr]
        fleet.start()
        await _poll(lambda: fleet.live, 20.0)
        for _ in range(cmd["n"]):
            try:
                msg = await client.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                                   system=system,
                                                   messages=[{"role": "user", "content": "x"}])
                ok += 1
                served[msg.route.provider] = served.get(msg.route.provider, 0) + 1
            except Exception as exc:  # noqa: BLE001 - reported to the test
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
    return {"ok": ok, "errors": errors[:5], "served": served,
            "state": type(state).__name__}

if __name__ == "__main__":
    asyncio.run(main())

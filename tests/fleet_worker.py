"""One process of a test fleet: reads JSON commands on stdin, answers one JSON line each.

Run by tests/test_fleet.py as ``python tests/fleet_worker.py STATE_URL COOLDOWN [PREFIX]`` (a
real process, so the fleet state crosses process boundaries the way a gateway's workers do). The
local copy is the real ``InProcessState`` on a wall clock the test moves (``clock``), so a
platform's reset is reached by moving the clock, not by sleeping. ``reset`` closes the fleet
state and builds a new one under another prefix, with the clock back at zero offset: what a new
process would have, without starting one (the tests of a module share their four processes).
"""

# ruff: noqa: B023  (each lambda is awaited before the loop moves on)
from __future__ import annotations

import asyncio
import faulthandler
import json
import signal
import sys
import time
from typing import Any

from clauderoute.fleet import FleetRouteState, FleetState, SharedBreaker, state_settings
from clauderoute.routing._budget import BudgetLimits
from clauderoute.routing._state import InProcessState

KEY = "fleet-key"
#: Seconds the worker's wall clock is ahead of the real one (the test's ``clock`` command).
OFFSET = [0.0]


def wall_clock() -> float:
    return time.time() + OFFSET[0]


#: Fleet-wide budgets: provider "b" rpm 10; "t" 1000 input tokens; "o" 1000 output tokens.
BUDGETS = {
    "b": BudgetLimits(rpm=10),
    "t": BudgetLimits(input_tpm=1000),
    "o": BudgetLimits(output_tpm=1000),
}


async def _poll(pred: Any, seconds: float, every: float = 0.005) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        await asyncio.sleep(every)
    return bool(pred())


def _build(prefix: str | None) -> tuple[FleetState, SharedBreaker, FleetRouteState]:
    """A started fleet state (keys under ``prefix``), its breaker and its route state."""
    raw: dict[str, Any] = {"url": sys.argv[1], "sync_ms": 50, "op_timeout_ms": 200}
    if prefix:
        raw["prefix"] = prefix
    settings = state_settings(raw, env={})
    assert settings is not None
    fleet = FleetState(settings)
    breaker = SharedBreaker(fleet, threshold=2, cooldown_s=float(sys.argv[2]), probe_ttl_s=30)
    state = FleetRouteState(
        fleet, InProcessState(BUDGETS, wall_clock=wall_clock), budgets=BUDGETS, window_s=3600
    )
    fleet.start()
    return fleet, breaker, state


async def main() -> None:
    fleet, breaker, state = _build(sys.argv[3] if len(sys.argv) > 3 else None)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR2, _dump_tasks)  # a stuck process shows its awaits
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        cmd = json.loads(line)
        op, p, m = cmd["op"], cmd.get("p", "a"), cmd.get("m", "m")
        out: dict[str, Any] = {}
        if op == "live":
            out["live"] = await _poll(lambda: fleet.live, cmd.get("within", 20.0))
        elif op == "reset":  # as a new process: a fresh state under another prefix, clock at 0
            await breaker.aclose()
            OFFSET[0] = 0.0
            fleet, breaker, state = _build(cmd["prefix"])
            out["live"] = await _poll(lambda: fleet.live, 20.0)
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
                lambda: breaker.state(p, m) != 0 and breaker.claim(p, m) is not None, cmd["within"]
            )
        elif op == "state":
            out["state"] = breaker.state(p, m)
        elif op == "allow":
            out["allow"] = breaker.allow(p, m)
        elif op == "admit":  # until the budget says "spent" (or ``within`` runs out)
            n, end, why = 0, time.monotonic() + cmd["within"], ""
            est, used_out = cmd.get("input", 0), cmd.get("output", 0)
            while time.monotonic() < end and n < cmd.get("max", 1 << 30):
                r = state.budget_admit(cmd.get("p", "b"), est)
                if r is None:
                    n += 1
                    state.budget_settle(cmd.get("p", "b"), est, est, used_out)
                elif r[1].endswith("spent"):
                    why = r[1]
                    break
                else:
                    await asyncio.sleep(0.01)
            out["admitted"], out["why"] = n, why
        elif op == "until_limits":  # until the local copy holds an observation with ...

            def seen() -> Any:
                got = state.local.limits.get((p, m))
                return (
                    got is not None
                    and got.requests is not None
                    and got.requests.remaining == cmd["remaining"]
                )

            out["seen"] = await _poll(seen, cmd["within"])
        elif op == "until_spent":  # an output-only budget: admitting takes nothing
            out["spent"] = await _poll(
                lambda: (r := state.budget_admit(p, 0)) is not None and r[1].endswith("spent"),
                cmd["within"],
            )
        elif op == "clock":
            OFFSET[0] = float(cmd["offset"])
        elif op == "signal_calls":
            out.update(await _signal_calls(cmd, breaker, state))
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
        print(json.dumps(out), flush=True)
    await breaker.aclose()


def _dump_tasks() -> None:
    for task in asyncio.all_tasks():  # each task's chain of awaits, innermost last
        print(f"task {task.get_name()} cancelling={task.cancelling()}", file=sys.stderr)
        c: Any = task.get_coro()
        while c is not None:
            f = getattr(c, "cr_frame", None) or getattr(c, "gi_frame", None)
            if f is not None:
                print(f"  {f.f_code.co_filename}:{f.f_lineno} {f.f_code.co_name}", file=sys.stderr)
            c = getattr(c, "cr_await", None) or getattr(c, "gi_yieldfrom", None)
    sys.stderr.flush()


async def _calls(cmd: dict[str, Any], breaker: SharedBreaker) -> dict[str, Any]:
    from clauderoute_anthropic import AnthropicProvider

    import clauderoute as cr

    providers = [
        AnthropicProvider(name=f"p{i}", base_url=u, api_key=KEY, max_retries=1)
        for i, u in enumerate(cmd["urls"])
    ]
    ok, errors, served = 0, [], {}
    async with cr.AsyncClient(
        providers=providers, breaker=breaker, tracing=False, deadline=30
    ) as client:
        sem = asyncio.Semaphore(cmd.get("conc", 8))

        async def one() -> None:
            nonlocal ok
            async with sem:
                try:
                    msg = await client.messages.create(
                        model="claude-haiku-4-5",
                        max_tokens=16,
                        messages=[{"role": "user", "content": "hi"}],
                    )
                    ok += 1
                    served[msg.route.provider] = served.get(msg.route.provider, 0) + 1
                except Exception as exc:  # noqa: BLE001 - reported to the test
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])

        await asyncio.gather(*(one() for _ in range(cmd["n"])))
        client.router.breaker = None  # the breaker outlives this client (closing it stops sync)
    return {"ok": ok, "errors": errors[:5], "served": served}


async def _signal_calls(
    cmd: dict[str, Any], breaker: SharedBreaker, state: FleetRouteState
) -> dict[str, Any]:
    """``n`` calls one after another over providers p0, p1, ... with the routing signals on
    this worker's shared state (rate limits the platforms announce, seen fleet-wide)."""
    from clauderoute_anthropic import AnthropicProvider

    import clauderoute as cr
    from clauderoute.routing._signals import Signals

    providers = [
        AnthropicProvider(name=f"p{i}", base_url=u, api_key=KEY, max_retries=0)
        for i, u in enumerate(cmd["urls"])
    ]
    ok, errors, served = 0, [], {}
    async with cr.AsyncClient(
        providers=providers, breaker=breaker, tracing=False, signals=Signals(state), deadline=30
    ) as client:
        for _ in range(cmd["n"]):
            try:
                msg = await client.messages.create(
                    model="claude-haiku-4-5",
                    max_tokens=16,
                    messages=[{"role": "user", "content": "hi"}],
                )
                ok += 1
                served[msg.route.provider] = served.get(msg.route.provider, 0) + 1
            except Exception as exc:  # noqa: BLE001 - reported to the test
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
        client.router.breaker = None  # the breaker outlives this client (closing it stops sync)
    return {"ok": ok, "errors": errors[:5], "served": served}


async def _config_calls(cmd: dict[str, Any]) -> dict[str, Any]:
    """Calls through a client built from a config file with [state] (the whole wiring);
    ``cache``: each call's system prompt is marked for prompt caching (cache affinity)."""
    import clauderoute as cr

    ok, errors, served = 0, [], {}
    system: Any = (
        [{"type": "text", "text": cmd["cache"], "cache_control": {"type": "ephemeral"}}]
        if cmd.get("cache")
        else "s"
    )
    async with cr.AsyncClient.from_config(cmd["path"], tracing=False) as client:
        state = getattr(getattr(client.router, "signals", None), "state", None)
        fleet = client.router.breaker.fleet  # type: ignore[union-attr]
        fleet.start()
        await _poll(lambda: fleet.live, 20.0)
        for _ in range(cmd["n"]):
            try:
                msg = await client.messages.create(
                    model="claude-haiku-4-5",
                    max_tokens=8,
                    system=system,
                    messages=[{"role": "user", "content": "x"}],
                )
                ok += 1
                served[msg.route.provider] = served.get(msg.route.provider, 0) + 1
            except Exception as exc:  # noqa: BLE001 - reported to the test
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
    return {"ok": ok, "errors": errors[:5], "served": served, "state": type(state).__name__}


if __name__ == "__main__":
    faulthandler.register(signal.SIGUSR1)  # a test that finds this process stuck dumps it
    asyncio.run(main())

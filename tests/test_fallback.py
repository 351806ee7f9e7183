"""Model fallback chains and their request adaptation, refusal fallback, the cost policy and
the signals' configuration, over loopback emulators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._config import client_settings
from clauderoute.routing import Cost, Signals
from clauderoute.routing._fallback import adapt
from clauderoute.testing import Fault, default_reply

KEY = "fallback-test-key"
HELLO = [{"role": "user", "content": "Hello fallback"}]


def client(emus: dict[str, AnthropicEmulator], **kw: Any) -> cr.AsyncClient:
    provs = [AnthropicProvider(name=n, base_url=e.url, api_key=KEY, max_retries=0)
             for n, e in emus.items()]
    return cr.AsyncClient(providers=provs, tracing=False, **kw)


def bodies(emu: AnthropicEmulator) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in emu.requests if r.operation == "messages.create"]


def test_adapt_clips_max_tokens_and_drops_thinking_the_model_cannot_take() -> None:
    """Haiku 4.5 takes 64000 output tokens and no adaptive thinking; other fields stay."""
    params = {"model": "claude-opus-4-7", "max_tokens": 100_000, "messages": HELLO,
              "thinking": {"type": "adaptive"}, "temperature": 0.2}
    out, notes = adapt(params, "claude-haiku-4-5")
    assert out == {"model": "claude-haiku-4-5", "max_tokens": 64_000, "messages": HELLO,
                   "temperature": 0.2}
    assert notes == ["max_tokens 100000 -> 64000", "thinking adaptive dropped"]
    assert params["max_tokens"] == 100_000  # the caller's dict is not touched
    same, none = adapt({"model": "x", "max_tokens": 10}, "claude-unknown-model")
    assert same == {"model": "claude-unknown-model", "max_tokens": 10} and none == []


async def test_overloaded_everywhere_falls_back_to_the_next_model_adapted(
        emus: dict[str, AnthropicEmulator]) -> None:
    """Both providers overloaded for Opus: Haiku answers, adapted, and the route says so."""
    for e in emus.values():
        e.faults.add(Fault(status=529))
    async with client(emus) as c:
        msg = await c.messages.create(model="claude-opus-4-7", max_tokens=100_000,
                                      messages=HELLO, thinking={"type": "adaptive"},
                                      fallback_models=["claude-haiku-4-5"])
    assert msg.model == "claude-haiku-4-5"
    assert msg.route.fallbacks == (("claude-opus-4-7 -> claude-haiku-4-5: max_tokens 100000 "
                                    "-> 64000, thinking adaptive dropped"),)
    assert [a.number for a in msg.route.attempts] == [1, 2, 3]
    assert [a.error for a in msg.route.attempts][:2] == ["OverloadedError"] * 2
    sent = bodies(emus["a"]) + bodies(emus["b"])
    last = next(b for b in sent if b["model"] == "claude-haiku-4-5")
    assert last["max_tokens"] == 64_000 and "thinking" not in last


async def test_route_config_chain_is_used_when_the_call_gives_none(
        emus: dict[str, AnthropicEmulator]) -> None:
    """[route.fallback_models] applies to calls for that model."""
    for e in emus.values():
        e.faults.add(Fault(status=500))
    sig = Signals(fallback_models={"claude-opus-4-7": ["claude-sonnet-4-6"]})
    async with client(emus, signals=sig) as c:
        msg = await c.messages.create(model="claude-opus-4-7", max_tokens=16, messages=HELLO)
    assert msg.model == "claude-sonnet-4-6"
    assert msg.route.fallbacks == ("claude-opus-4-7 -> claude-sonnet-4-6",)


async def test_a_request_error_never_falls_back(emus: dict[str, AnthropicEmulator]) -> None:
    """A 400 is the caller's to fix: raised as is, the next model never asked."""
    emus["a"].faults.add(Fault(status=400))
    async with client(emus) as c:
        with pytest.raises(cr.BadRequestError):
            await c.messages.create(model="claude-opus-4-7", max_tokens=16, messages=HELLO,
                                    fallback_models=["claude-haiku-4-5"])
    assert [b["model"] for b in bodies(emus["a"]) + bodies(emus["b"])] == ["claude-opus-4-7"]


async def test_bad_fallback_list_fails_before_the_network(
        emus: dict[str, AnthropicEmulator]) -> None:
    """fallback_models must be a list of names; with stream=True it is refused, naming it."""
    async with client(emus) as c:
        for bad in ("claude-haiku-4-5", [""], [3]):
            with pytest.raises(cr.InvalidRequestError, match="fallback_models"):
                await c.messages.create(model="claude-opus-4-7", max_tokens=16,
                                        messages=HELLO, fallback_models=bad)
        with pytest.raises(cr.InvalidRequestError, match="fallback_models"):
            await c.messages.create(model="claude-opus-4-7", max_tokens=16, messages=HELLO,
                                    stream=True, fallback_models=["claude-haiku-4-5"])
    assert bodies(emus["a"]) == []


async def test_refusal_falls_back_only_when_asked(emus: dict[str, AnthropicEmulator]) -> None:
    """stop_reason "refusal" is an answer by default; with on_refusal="fallback" the next
    model answers."""
    def refuse_opus(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        msg = default_reply(params, model, msg_id)
        if model == "claude-opus-4-7":
            msg["stop_reason"] = "refusal"
        return msg

    for e in emus.values():
        e.responder = refuse_opus
    chain = {"claude-opus-4-7": ["claude-haiku-4-5"]}
    async with client(emus, signals=Signals(fallback_models=chain)) as c:
        kept = await c.messages.create(model="claude-opus-4-7", max_tokens=16, messages=HELLO)
    assert kept.stop_reason == "refusal" and kept.route.fallbacks == ()
    sig = Signals(fallback_models=chain, on_refusal="fallback")
    async with client(emus, signals=sig) as c:
        moved = await c.messages.create(model="claude-opus-4-7", max_tokens=16, messages=HELLO)
    assert moved.model == "claude-haiku-4-5" and moved.stop_reason != "refusal"
    assert moved.route.fallbacks == ("claude-opus-4-7 -> claude-haiku-4-5",)


async def test_cost_policy_puts_the_cheapest_provider_first(
        emus: dict[str, AnthropicEmulator]) -> None:
    """With a ×1.1 multiplier on A, the cost policy sends every call to B; an unpriced model
    keeps the configured order."""
    async with client(emus, policy=Cost({"a": 1.1})) as c:
        routes = [(await c.messages.create(model="claude-haiku-4-5", max_tokens=16,
                                           messages=HELLO)).route for _ in range(5)]
        other = await c.messages.create(model="claude-unpriced-1", max_tokens=16,
                                        messages=HELLO)
    assert {r.provider for r in routes} == {"b"}
    assert other.route.provider == "a"


def _settings(tmp_path: Path, route: str) -> dict[str, Any]:
    cfg = tmp_path / "clauderoute.toml"
    cfg.write_text('[providers.a]\nkind = "anthropic"\napi_key = "k"\n'
                   '[providers.b]\nkind = "anthropic"\napi_key = "k"\n' + route)
    return client_settings(cfg, registry={"anthropic": AnthropicProvider})


def test_config_builds_the_signals(tmp_path: Path) -> None:
    """[route] cache_affinity, budgets, price multipliers, fallback chains, on_refusal and the
    cost policy come from the file."""
    s = _settings(tmp_path, '[route]\npolicy = "cost"\ncache_affinity = false\n'
                  'on_refusal = "fallback"\nprice_multipliers = { a = 1.1 }\n'
                  '[route.budgets.b]\nrpm = 10\n'
                  '[route.fallback_models]\n"claude-opus-4-7" = ["claude-sonnet-4-6"]\n')
    sig = s["signals"]
    assert isinstance(sig, Signals) and isinstance(s["policy"], Cost)
    assert sig.cache_affinity is False and sig.on_refusal == "fallback"
    assert sig.price_multipliers == {"a": 1.1}
    assert sig.fallback_models == {"claude-opus-4-7": ("claude-sonnet-4-6",)}
    assert sig.state.budget_admit("b", 0) is None


@pytest.mark.parametrize(("route", "match"), [
    ("[route.budgets.zz]\nrpm = 1\n", "route.budgets.zz.*no provider named 'zz'"),
    ("[route.budgets.a]\nrpm = 0\n", "route.budgets.a.*budget.rpm"),
    ("[route.budgets.a]\nrps = 3\n", "route.budgets.a"),
    ('[route]\non_refusal = "retry"\n', "route.on_refusal"),
    ("[route]\nprice_multipliers = { a = 0 }\n", "route.price_multipliers.a"),
    ('[route.fallback_models]\nm = ["n", "n"]\n', "route.fallback_models.m"),
])
def test_config_errors_name_the_key(tmp_path: Path, route: str, match: str) -> None:
    """Each wrong signals setting fails with the key's dotted path."""
    with pytest.raises(cr.ConfigurationError, match=match):
        _settings(tmp_path, route)


async def test_refusal_pins_the_conversation_and_hops_patch_the_original(
        emus: dict[str, AnthropicEmulator]) -> None:
    """After a refusal moved a conversation to the next model, its later calls go there
    directly; another conversation starts at the first model again; each hop adapts the
    original request (max_tokens clipped from the caller's value, not a previous hop's)."""
    def refuse_opus(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        msg = default_reply(params, model, msg_id)
        if model == "claude-opus-4-7":
            msg["stop_reason"] = "refusal"
        return msg

    for e in emus.values():
        e.responder = refuse_opus
    sig = Signals(fallback_models={"claude-opus-4-7": ["claude-haiku-4-5"]},
                  on_refusal="fallback")
    async with client(emus, signals=sig) as c:
        first = await c.messages.create(model="claude-opus-4-7", max_tokens=100_000,
                                        messages=HELLO, conversation="conv-1")
        again = await c.messages.create(model="claude-opus-4-7", max_tokens=100_000,
                                        messages=HELLO, conversation="conv-1")
        other = await c.messages.create(model="claude-opus-4-7", max_tokens=16,
                                        messages=HELLO, conversation="conv-2")
    assert first.model == again.model == other.model == "claude-haiku-4-5"
    sent = [b["model"] for b in bodies(emus["a"])]
    assert sent == ["claude-opus-4-7", "claude-haiku-4-5", "claude-haiku-4-5",
                    "claude-opus-4-7", "claude-haiku-4-5"]
    assert again.route.fallbacks == (
        "claude-opus-4-7 -> claude-haiku-4-5: max_tokens 100000 -> 64000",)


async def test_a_refusal_is_returned_when_the_next_model_fails(
        emus: dict[str, AnthropicEmulator]) -> None:
    """The refusal is an answer: when the fallback model then fails everywhere, the refusal
    comes back (not the fallback's error)."""
    def refuse(params: dict[str, Any], model: str, msg_id: str) -> dict[str, Any]:
        return default_reply(params, model, msg_id) | {"stop_reason": "refusal"}

    for e in emus.values():
        e.responder = refuse
    emus["a"].faults.add(Fault())  # the first model's request: no fault (it refuses)
    emus["a"].faults.add(Fault(status=529))  # the fallback's: overloaded on both
    emus["b"].faults.add(Fault(status=529))
    sig = Signals(fallback_models={"claude-opus-4-7": ["claude-haiku-4-5"]},
                  on_refusal="fallback")
    async with client(emus, signals=sig) as c:
        msg = await c.messages.create(model="claude-opus-4-7", max_tokens=16, messages=HELLO)
    assert msg.stop_reason == "refusal" and msg.model == "claude-opus-4-7"
    assert [b["model"] for b in bodies(emus["a"]) + bodies(emus["b"])] == [
        "claude-opus-4-7", "claude-haiku-4-5", "claude-haiku-4-5"]

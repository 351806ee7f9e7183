"""Model fallback chains: when every provider failed a model for lack of availability, the next.

A chain comes from the call (``fallback_models=[...]``) or from ``[route.fallback_models]``
(keyed by the requested model). The next model is tried only when the failure says nothing
about the request: every attempt failed with an *availability* error (429, 529 / overloaded,
5xx, 408, timeouts, connection errors, a cut or malformed answer, or every provider out of
capacity); a 400-class answer, a capability or credentials problem, or the call's deadline
running out never falls back.

Before each next model the request is adapted to it, from the catalog's ``ModelLimits``:
``max_tokens`` is clipped to the model's output limit, and a ``thinking`` configuration whose
type the model does not take is dropped (the model then thinks as it does by default). Each
change is said in ``msg.route.fallbacks`` (``"claude-opus-4-7 -> claude-sonnet-4-6:
max_tokens 200000 -> 64000"``); ``msg.model`` is what answered.

With ``on_refusal = "fallback"`` an answer whose ``stop_reason`` is ``"refusal"`` also moves
to the next model (the last model's refusal is returned as it came, and so is a refusal whose
next model fails). With a ``conversation`` key on the call, the model that accepted after a
refusal serves that conversation's later calls directly (bounded memory of keys). Not done:
the Claude API's beta ``fallback_credit_token`` hand-over the SDK's refusal middleware does.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from .. import _errors as E
from .._cost import model_limits
from .._provider import Call
from ..types._messages import RouteInfo
from ._outcome import availability_failure

if TYPE_CHECKING:
    from ._router import Router

__all__ = ["adapt", "is_availability_failure", "routed", "run_with_fallback"]

Run = Callable[[Call], Awaitable[tuple[Any, RouteInfo]]]


def adapt(params: Mapping[str, Any], model: str) -> tuple[dict[str, Any], list[str]]:
    """``params`` for ``model``: the model swapped in, limits applied; and what changed."""
    out = {**params, "model": model}
    notes: list[str] = []
    limits = model_limits(model)
    if limits is None:
        return out, notes
    asked = out.get("max_tokens")
    if limits.max_output is not None and isinstance(asked, int) and asked > limits.max_output:
        out["max_tokens"] = limits.max_output
        notes.append(f"max_tokens {asked} -> {limits.max_output}")
    thinking = out.get("thinking")
    kind = thinking.get("type") if isinstance(thinking, Mapping) else None
    if limits.thinking is not None and kind is not None and kind not in limits.thinking:
        del out["thinking"]
        notes.append(f"thinking {kind} dropped")
    return out, notes


def is_availability_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the model was unavailable everywhere (``_outcome`` decides)."""
    return availability_failure(exc)


def _refused(result: Any) -> bool:
    return getattr(result, "stop_reason", None) == "refusal"


def _with(result: Any, route: RouteInfo, earlier: list[Any],
          notes: list[str]) -> tuple[Any, RouteInfo]:
    if not notes:
        return result, route
    attempts = tuple(msgspec.structs.replace(a, number=i)
                     for i, a in enumerate([*earlier, *route.attempts], 1))
    return result, msgspec.structs.replace(route, attempts=attempts, fallbacks=tuple(notes))


async def run_with_fallback(run: Run, call: Call, chain: Sequence[str], *,
                            on_refusal: str = "return", start: int = 0,
                            pin: Callable[[int], None] | None = None) -> tuple[Any, RouteInfo]:
    """``run(call)``, then each model of ``chain`` in turn while the last failed for lack of
    availability (or refused, with ``on_refusal="fallback"``).

    Every hop adapts the *original* request (hops never compound, as in the SDK's refusal
    middleware). ``start`` begins at that hop (a conversation pinned there); ``pin(hop)`` is
    called when a refusal moved the call to ``hop`` and that model answered. If a hop after a
    refusal fails, the refusal is returned as it came (it is an answer; the failure is not).
    """
    original = str(call.params.get("model", ""))
    models = (original, *chain)
    notes: list[str] = []
    earlier: list[Any] = []
    refusal: tuple[Any, RouteInfo] | None = None
    for step in range(min(start, len(chain)), len(models)):
        current = call
        if step:
            params, changes = adapt(call.params, models[step])
            notes.append(f"{original} -> {models[step]}"
                         + (f": {', '.join(changes)}" if changes else ""))
            current = msgspec.structs.replace(call, params=params)
        try:
            result, route = await run(current)
        except E.ClauderouteError as exc:
            if refusal is not None:
                return _with(*refusal, earlier, notes[:-1])
            if step == len(chain) or not is_availability_failure(exc):
                raise
            earlier += list(getattr(exc, "attempts", None) or [])
            continue
        if on_refusal == "fallback" and _refused(result) and step < len(chain):
            refusal = (result, route)
            earlier += list(route.attempts)
            continue
        if refusal is not None and pin is not None:
            pin(step)
        return _with(result, route, earlier, notes)
    raise AssertionError("unreachable: the last step returns or raises")


def routed(router: Router, call: Call, fn: Any, opts: Mapping[str, Any],
           per_call: Sequence[str] | None,
           conversation: str | None = None) -> Awaitable[tuple[Any, RouteInfo]]:
    """``router.run(call, fn, **opts)`` with the call's (or the route's) fallback chain; a
    ``conversation`` key keeps a conversation on the model a refusal moved it to.

    A plain function that checks its arguments and returns what to await (the router's own
    coroutine when there is no chain: no wrapping coroutine on the direct path)."""
    signals = router.signals
    if per_call is not None:
        if isinstance(per_call, str) or not all(isinstance(m, str) and m for m in per_call):
            raise E.InvalidRequestError("must be a list of model names",
                                        field="fallback_models")
        chain: tuple[str, ...] = tuple(per_call)
    else:  # (no chains configured, the usual route: nothing to look up)
        chains = signals.fallback_models if signals is not None else None
        chain = chains.get(str(call.params.get("model", "")), ()) if chains else ()
    if conversation is not None and (not isinstance(conversation, str) or not conversation):
        raise E.InvalidRequestError("must be a non-empty string", field="conversation")
    if not chain:  # (``router.run``'s own coroutine, without its keywords unpacked)
        return router._run(call, fn, opts.get("timeout"), opts.get("deadline_s"), opts.get("only"),
                           False)  # (defer, positional: a keyword costs a slower call)
    on_refusal = signals.on_refusal if signals is not None else "return"

    async def run(c: Call) -> tuple[Any, RouteInfo]:
        return await router.run(c, fn, **opts)

    if conversation is None or signals is None:
        return run_with_fallback(run, call, chain, on_refusal=on_refusal)
    key = (conversation, chain)
    sig = signals
    return run_with_fallback(run, call, chain, on_refusal=on_refusal,
                             start=sig.pins.get(key, 0), pin=lambda hop: sig.pin(key, hop))

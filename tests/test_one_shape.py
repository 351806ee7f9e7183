"""The router has one shape (issue #14 item 0), checked over real emulator sockets.

* Every kind of call (create, stream, count_tokens, a batch, an upload) ends each attempt in one
  frozen ``AttemptRecord``, the same object for observers and hooks (``HookObserver``).
* One place decides what a failure means: for each HTTP status and transport failure, the route
  the router takes (fatal, retry the same provider, fail over) is the same for every call kind,
  is what ``routing._outcome.judge`` says, and is the table below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._provider import Action
from clauderoute.routing import AttemptRecord, HookObserver, Observer
from clauderoute.routing._outcome import judge
from clauderoute.testing import Fault, no_backoff
from clauderoute.types import AttemptInfo

KEY = "one-shape-key"
MODEL = "claude-haiku-4-5"
HELLO = [{"role": "user", "content": "Hello, one shape"}]
PARAMS = {"model": MODEL, "max_tokens": 16, "messages": HELLO}

Call = Callable[[cr.AsyncClient], Awaitable[Any]]


async def _stream(c: cr.AsyncClient) -> Any:
    async with c.messages.stream(**PARAMS) as s:  # type: ignore[arg-type]
        return await s.get_final_message()


CALLS: dict[str, Call] = {
    "create": lambda c: c.messages.create(**PARAMS),  # type: ignore[arg-type]
    "stream": _stream,
    "count_tokens": lambda c: c.messages.count_tokens(model=MODEL, messages=HELLO),
    "batch": lambda c: c.messages.batches.create(requests=[{"custom_id": "one", "params": PARAMS}]),  # type: ignore[list-item]
    "upload": lambda c: c.beta.files.upload(file=("notes.txt", b"one shape")),
}
OPERATIONS = {
    "create": "messages.create",
    "stream": "messages.stream",
    "count_tokens": "messages.count_tokens",
    "batch": "batches.create",
    "upload": "files.upload",
}


class Spy(Observer):
    """Keeps what ``attempt_start`` saw next to the record ``attempt_end`` got."""

    def __init__(self) -> None:
        self.ended: list[tuple[str, AttemptRecord]] = []

    def attempt_start(self, ctx: Any) -> str:
        return str(ctx.call.operation)

    def attempt_end(self, state: Any, record: AttemptRecord) -> None:
        self.ended.append((state, record))


def _client(emus: dict[str, AnthropicEmulator], *names: str, **kw: Any) -> cr.AsyncClient:
    return cr.AsyncClient(
        providers=[AnthropicProvider(name=n, base_url=emus[n].url, api_key=KEY) for n in names],
        tracing=False,
        **kw,
    )


@pytest.mark.parametrize("kind", list(CALLS))
async def test_every_call_reaches_observers_and_hooks_with_one_record(
    emus: dict[str, AnthropicEmulator], kind: str
) -> None:
    """Each call kind's one attempt ends in an AttemptRecord with the same fields filled in:
    the observer and the hook get the very same object, once, after the answer is whole."""
    spy, hooked = Spy(), []
    async with _client(emus, "a", observers=[spy], hooks=[hooked.append]) as client:
        result = await CALLS[kind](client)
    assert len(spy.ended) == 1 and len(hooked) == 1
    operation, record = spy.ended[0]
    assert hooked[0] is record and type(record) is AttemptRecord
    # a hook written for AttemptInfo reads it as is: the same fields first, in the same order
    n = len(AttemptInfo.__struct_fields__)
    assert AttemptRecord.__struct_fields__[:n] == AttemptInfo.__struct_fields__
    assert operation == record.operation == OPERATIONS[kind]
    assert (record.outcome, record.status, record.provider, record.number, record.kind) == (
        "success",
        200,
        "a",
        1,
        "initial",
    )
    assert record.error is None and record.exception is None and record.error_category is None
    assert record.request_id is not None and record.request_id.startswith("req_emu")
    assert record.sent_at is not None and record.duration_s >= 0.0
    assert record.result is result
    assert record.requested_model == (MODEL if kind in ("create", "stream", "count_tokens") else "")
    if kind in ("create", "stream"):
        assert record.usage == result.usage and record.usage.output_tokens > 0
    else:
        assert record.usage is None
    if kind == "stream":  # the whole stream is the attempt
        assert record.ttft_s is not None and record.first_chunk_s is not None
        assert record.chunks > 2 and record.headers_s is not None
        assert record.duration_s >= record.ttft_s >= record.first_chunk_s >= record.headers_s


async def test_the_record_is_frozen(emus: dict[str, AnthropicEmulator]) -> None:
    """No observer can change what the next one (or a hook) sees."""
    hooked: list[AttemptRecord] = []
    async with _client(emus, "a", hooks=[hooked.append]) as client:
        msg = await CALLS["create"](client)
    record = hooked[0]
    for field, value in (("outcome", "error"), ("status", 500), ("usage", None), ("result", None)):
        with pytest.raises(AttributeError):
            setattr(record, field, value)
    assert record.result is msg and record.outcome == "success"
    # The caller's route keeps the AttemptInfo shape; the record carries its fields too.
    info = msg.route.attempts[0]
    for field in AttemptInfo.__struct_fields__:
        if field not in ("duration_s", "ttft_s"):
            assert getattr(record, field) == getattr(info, field), field


async def test_hooks_are_an_observer_and_a_raising_hook_changes_nothing(
    emus: dict[str, AnthropicEmulator],
) -> None:
    """Hooks run as one HookObserver after the observers; one that raises is ignored and the
    next hook still runs."""
    seen: list[int] = []

    def broken(record: AttemptRecord) -> None:
        raise RuntimeError("hook bug")

    async with _client(emus, "a", hooks=[broken, lambda r: seen.append(r.number)]) as client:
        msg = await CALLS["create"](client)
        hook_observers = [o for o in client.router.observers if isinstance(o, HookObserver)]
    assert msg.route.provider == "a" and seen == [1]
    assert len(hook_observers) == 1 and hook_observers[0] is client.router.observers[-1]


# --- one decision -------------------------------------------------------------------------------

#: What a first attempt's failure leads to: FATAL (raised, no second attempt), RETRY (the same
#: provider again), FAILOVER (the other provider); and whether it counts against the breaker.
EXPECTED: dict[str, tuple[Action, bool]] = {
    "400": (Action.FATAL, False),
    "404": (Action.FATAL, False),
    "413": (Action.FATAL, False),
    "422": (Action.FATAL, False),
    "401": (Action.FAILOVER, True),
    "403": (Action.FAILOVER, True),
    "408": (Action.RETRY, True),
    "409": (Action.RETRY, True),
    "429": (Action.FAILOVER, True),
    "500": (Action.FAILOVER, True),
    "503": (Action.FAILOVER, True),
    "529": (Action.FAILOVER, True),
    "500 x-should-retry=false": (Action.FAILOVER, True),
    "409 x-should-retry=false": (Action.FAILOVER, True),
    "400 x-should-retry=true": (Action.RETRY, True),
    "reset": (Action.FAILOVER, True),
}


def _fault(name: str, operation: str) -> Fault:
    ops = frozenset({operation})
    if name == "reset":
        return Fault(reset=True, operations=ops)
    status, _, rest = name.partition(" ")
    should = None if not rest else rest.endswith("true")
    return Fault(status=int(status), should_retry=should, operations=ops)


@pytest.mark.parametrize("kind", ["create", "stream", "count_tokens"])
async def test_decisions_are_the_same_for_every_call_kind(
    emus: dict[str, AnthropicEmulator], kind: str
) -> None:
    """For every status and failure, the route taken matches the table and ``judge``."""
    for name, (action, unhealthy) in EXPECTED.items():
        emus["a"].faults.add(_fault(name, OPERATIONS[kind]))
        spy = Spy()
        async with _client(emus, "a", "b", observers=[spy]) as client:
            with no_backoff():
                try:
                    await CALLS[kind](client)
                    raised = None
                except cr.APIError as exc:
                    raised = exc
        records = [r for _, r in spy.ended]
        first = records[0]
        assert first.provider == "a" and first.outcome == "error", name
        verdict = judge(client.router.by_name["a"], first.exception)  # type: ignore[arg-type]
        assert (verdict.action, verdict.unhealthy) == (action, unhealthy), name
        if action is Action.FATAL:
            assert raised is first.exception and len(records) == 1, name
            continue
        assert raised is None, name
        second = records[1]
        assert second.outcome == "success", name
        assert (second.provider, second.kind) == (
            ("a", "retry") if action is Action.RETRY else ("b", "failover")
        ), name
        assert second.reason == first.error_category, name
        assert msgspec.structs.asdict(first)["exception"] is first.exception


# --- one state ----------------------------------------------------------------------------------


async def test_one_state_holds_health_latency_and_signals(
    emus: dict[str, AnthropicEmulator],
) -> None:
    """The router's breakers and latency statistics are the RouteState's (one object a fleet
    backs), shared by with_options copies; a failure opens the state's circuit and a success
    lands in the state's statistics."""
    from clauderoute.routing import CircuitBreaker, InProcessState, Signals

    state = InProcessState(breaker=CircuitBreaker(threshold=1, cooldown_s=60))
    async with _client(emus, "a", "b", signals=Signals(state)) as client:
        assert client.router.state is state
        assert client.router.breaker is state.breaker and client.router.stats is state.latency
        emus["a"].faults.add(Fault(status=500))
        with no_backoff():
            msg = await CALLS["create"](client)
        copy = client.with_options(timeout=30)
        assert copy.router.state is state and copy.router.breaker is state.breaker
    assert msg.route.provider == "b"
    assert state.breaker is not None and state.breaker.state("a", MODEL) == 2  # open
    assert state.latency.quantile("b", MODEL, 0.5) is not None
    assert state.latency.quantile("a", MODEL, 0.5) is None


async def test_breaker_false_leaves_the_state_without_one(
    emus: dict[str, AnthropicEmulator],
) -> None:
    """breaker=False: no circuit anywhere, the state included; a breaker given replaces the
    state's own."""
    from clauderoute._engine import Engine
    from clauderoute.routing import CircuitBreaker, InProcessState, Router, Signals

    engine = Engine()  # never started: no call is made
    providers = [AnthropicProvider(name="a", base_url=emus["a"].url, api_key=KEY)]
    off = Router(providers, engine=engine, breaker=False, signals=Signals(InProcessState()))
    assert off.breaker is None and off.state.breaker is None
    mine = CircuitBreaker(threshold=2)
    on = Router(providers, engine=engine, breaker=mine, state=InProcessState())
    assert on.breaker is mine and on.state.breaker is mine and on.signals is not None
    assert on.signals.state is on.state
    await engine.close()

"""Budgets, cache-affinity keys and the in-process RouteState, on fake clocks."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clauderoute import ConfigurationError
from clauderoute.provider import Bucket, RateLimits
from clauderoute.routing._affinity import LOOKBACK, AffinityTable, affinity_keys, has_marks
from clauderoute.routing._budget import Budget, BudgetLimits
from clauderoute.routing._state import MAX_SKIP_S, InProcessState, RouteState


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# --- budgets -------------------------------------------------------------------------------------

def test_rpm_admits_exactly_the_limit_then_waits_for_the_window() -> None:
    """rpm=3: three calls pass, the fourth is told to wait until the window turns."""
    clock = Clock(120.0)
    b = Budget(BudgetLimits(rpm=3), clock)
    assert [b.admit(10) for _ in range(3)] == [None, None, None]
    wait, why = b.admit(10) or (0.0, "")
    assert wait == 60.0 and why == "budget: rpm 3 spent"
    clock.t = 179.9
    assert b.admit(10) is not None
    clock.t = 240.0  # two windows later the old count no longer overlaps
    assert b.admit(10) is None


def test_sliding_window_counts_the_previous_windows_overlap() -> None:
    """Half-way into the next window, half the previous window's count still counts."""
    clock = Clock(0.0)
    b = Budget(BudgetLimits(rpm=4), clock)
    for _ in range(4):
        assert b.admit(0) is None
    clock.t = 90.0  # 4 * 0.5 = 2 still in the last 60 s: room for 2
    assert [b.admit(0) is None for _ in range(3)] == [True, True, False]


def test_input_budget_takes_the_estimate_and_settles_to_the_bill() -> None:
    """input_tpm takes the estimate at admission and the billed tokens at the answer."""
    clock = Clock(0.0)
    b = Budget(BudgetLimits(input_tpm=1000, output_tpm=500), clock)
    assert b.admit(600) is None
    assert b.admit(600) == (60.0, "budget: input_tpm 1000 spent")
    b.settle(600, 100, 200)  # the estimate was high
    assert b.admit(600) is None
    b.settle(600, 700, 400)  # output 600 >= 500: spent
    assert b.admit(1) == (60.0, "budget: output_tpm 500 spent")


def test_a_call_bigger_than_the_whole_budget_passes_an_empty_window() -> None:
    """A call larger than input_tpm is not refused forever: it passes when nothing is spent."""
    b = Budget(BudgetLimits(input_tpm=100), Clock())
    assert b.admit(5000) is None
    assert b.admit(1) is not None


def test_release_gives_the_estimate_back() -> None:
    """An admitted call without a billed answer returns its input estimate."""
    b = Budget(BudgetLimits(input_tpm=100), Clock())
    assert b.admit(80) is None
    b.release(80)
    assert b.admit(80) is None


@pytest.mark.parametrize("bad", [0, -5, True])
def test_budget_limits_refuse_non_positive_values(bad: int) -> None:
    """A budget of 0, a negative one or a boolean is a configuration error naming the key."""
    with pytest.raises(ConfigurationError, match="budget.rpm"):
        BudgetLimits(rpm=bad)


async def test_budget_holds_under_concurrency() -> None:
    """200 concurrent tasks racing for rpm=25 admit exactly 25."""
    state = InProcessState({"a": BudgetLimits(rpm=25)}, clock=Clock())
    admitted = 0
    gate = asyncio.Event()

    async def one() -> None:
        nonlocal admitted
        await gate.wait()
        await asyncio.sleep(0)
        if state.budget_admit("a", 10) is None:
            admitted += 1

    tasks = [asyncio.create_task(one()) for _ in range(200)]
    gate.set()
    await asyncio.gather(*tasks)
    assert admitted == 25


@given(st.lists(st.tuples(st.integers(0, 10_000), st.floats(0, 30)), max_size=60))
def test_budget_never_admits_more_requests_than_rpm_per_window(
        calls: list[tuple[int, float]]) -> None:
    """Whatever the call sizes and spacing, no fixed window admits more than rpm."""
    clock = Clock(0.0)
    b = Budget(BudgetLimits(rpm=7, input_tpm=20_000), clock)
    per_window: dict[int, int] = {}
    for size, gap in calls:
        clock.t += gap
        if b.admit(size) is None:
            w = int(clock.t // 60)
            per_window[w] = per_window.get(w, 0) + 1
    assert all(n <= 7 for n in per_window.values())


# --- affinity keys -----------------------------------------------------------------------------

def _chat(turns: int, *, mark_last: bool = True, ttl: str | None = None) -> dict[str, object]:
    msgs: list[dict[str, object]] = []
    for i in range(turns):
        role = "user" if i % 2 == 0 else "assistant"
        msgs.append({"role": role, "content": [{"type": "text", "text": f"turn {i}"}]})
    if mark_last:
        cc: dict[str, str] = {"type": "ephemeral"} | ({"ttl": ttl} if ttl else {})
        msgs[-1]["content"][0]["cache_control"] = cc  # type: ignore[index]
    return {"model": "claude-haiku-4-5", "system": "You are terse.", "messages": msgs}


def test_no_breakpoint_no_key() -> None:
    """A request without cache_control has no affinity key (it routes as the policy says)."""
    assert affinity_keys(_chat(3, mark_last=False)) is None


def test_moving_breakpoint_finds_the_previous_turns_key() -> None:
    """Turn N+2 (breakpoint moved to its last block) reads the key turn N wrote."""
    first = affinity_keys(_chat(3))
    later = affinity_keys(_chat(5))
    assert first is not None and later is not None
    assert first.write[0][0] in later.read
    assert later.write[0][0] != first.write[0][0]


def test_key_depends_on_model_tools_system_and_content() -> None:
    """A different model, system prompt or earlier block gives a different key."""
    base = affinity_keys(_chat(3))
    assert base is not None
    for change in ({"model": "claude-opus-4-7"}, {"system": "You are verbose."},
                   {"tools": [{"name": "t", "input_schema": {"type": "object"}}]}):
        other = affinity_keys(_chat(3) | change)
        assert other is not None and other.write[0][0] != base.write[0][0]


def test_ttl_follows_the_marker_and_automatic_caching_marks_the_end() -> None:
    """ttl 1h keeps the key an hour; top-level cache_control keys the whole prefix."""
    one_hour = affinity_keys(_chat(3, ttl="1h"))
    assert one_hour is not None and one_hour.write[0][1] == 3600.0
    auto = affinity_keys(_chat(3, mark_last=False) | {"cache_control": {"type": "ephemeral"}})
    marked = affinity_keys(_chat(3))
    assert auto is not None and marked is not None
    assert auto.write == ((marked.write[0][0], 300.0),)


def test_read_keys_are_bounded_by_the_lookback() -> None:
    """A long conversation looks back LOOKBACK blocks, not all of them."""
    keys = affinity_keys(_chat(200))
    assert keys is not None and len(keys.read) == 1 + LOOKBACK


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4),
                                                                          c, max_size=3),
                    max_leaves=12))
def test_any_request_shape_gives_keys_or_none(junk: object) -> None:
    """Whatever the body holds, keying never raises."""
    for params in ({"messages": junk}, {"system": junk, "messages": [{"content": junk}]},
                   {"tools": junk, "cache_control": junk}):
        affinity_keys(params)  # type: ignore[arg-type]


def test_affinity_table_expires_and_stays_bounded() -> None:
    """Keys expire at their TTL and the least recently used go past max_keys."""
    t = AffinityTable(max_keys=3)
    t.put(((b"k1", 10.0),), "a", now=0.0)
    assert t.get((b"k0", b"k1"), now=5.0) == "a"
    assert t.get((b"k1",), now=10.0) is None
    for i in range(10):
        t.put(((bytes([i]), 100.0),), "b", now=0.0)
    assert len(t) == 3 and t.get((bytes([9]),), now=1.0) == "b"


# --- the in-process state ------------------------------------------------------------------------

def test_in_process_state_is_a_route_state() -> None:
    """InProcessState provides the RouteState protocol."""
    assert isinstance(InProcessState(), RouteState)


def test_capacity_block_uses_the_newest_observation_and_caps_the_skip() -> None:
    """Exhaustion blocks until reset, capped at MAX_SKIP_S; a newer observation replaces it."""
    wall = Clock(5_000.0)
    s = InProcessState(wall_clock=wall)
    s.observe_limits("a", "m", RateLimits(requests=Bucket(remaining=0, reset=5_010.0),
                                          observed_at=5_000.0))
    assert s.capacity_block("a", "m", 1, 1) == (10.0, "rate_limited: requests remaining 0")
    assert s.capacity_block("a", "other", 1, 1) is None
    s.observe_limits("a", "m", RateLimits(requests=Bucket(remaining=0, reset=99_999.0),
                                          observed_at=5_000.0))
    assert s.capacity_block("a", "m", 1, 1) == (MAX_SKIP_S, "rate_limited: requests remaining 0")
    wall.t = 100_000.0
    assert s.capacity_block("a", "m", 1, 1) is None


def test_inline_images_count_as_a_fixed_share_not_their_bytes() -> None:
    """A 2 MB base64 image is estimated at BINARY_TOKENS, not half a million tokens."""
    from clauderoute.routing._signals import BINARY_TOKENS, estimate_input_tokens

    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "A" * 2_000_000}}
    params = {"messages": [{"role": "user", "content": [image, {"type": "text", "text": "hi"}]}]}
    assert BINARY_TOKENS <= estimate_input_tokens(params) < BINARY_TOKENS + 100
    nested = {"messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": [image]}]}]}
    assert estimate_input_tokens(nested) < BINARY_TOKENS + 100
    text = {"messages": [{"role": "user", "content": "word " * 40_000}]}
    assert 45_000 < estimate_input_tokens(text) < 55_000


def test_a_call_larger_than_the_whole_bucket_is_not_skipped_for_ever() -> None:
    """Needing more than a bucket's limit can never fit: the platform decides, no skip."""
    rl = RateLimits(tokens=Bucket(limit=1000, remaining=900, reset=2e9), observed_at=1e9)
    assert rl.blocked(5000, 0, 1e9) is None
    assert rl.blocked(950, 0, 1e9) is not None


def _marked_anywhere(params: dict[str, object]) -> bool:
    """``has_marks``'s definition, spelled out: a dict block carrying ``cache_control`` in the
    system or tools list, or in a message's list content."""
    blocks: list[object] = []
    for key in ("system", "tools"):
        v = params.get(key)
        blocks += v if isinstance(v, list) else []
    msgs = params.get("messages")
    for m in msgs if isinstance(msgs, list) else []:
        c = m.get("content") if isinstance(m, dict) else None
        blocks += c if isinstance(c, list) else []
    return any(isinstance(b, dict) and "cache_control" in b for b in blocks)


_BLOCK = st.one_of(
    st.text(max_size=3),
    st.none(),
    st.fixed_dictionaries({"type": st.just("text")}, optional={"cache_control": st.none()}),
)
_CONTENT = st.one_of(st.text(max_size=3), st.lists(_BLOCK, max_size=3), st.none())


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "system": st.one_of(st.text(max_size=3), st.lists(_BLOCK, max_size=3)),
            "tools": st.lists(_BLOCK, max_size=3),
            "messages": st.lists(
                st.one_of(st.fixed_dictionaries({"content": _CONTENT}), st.text(max_size=2)),
                max_size=4,
            ),
        },
    )
)
def test_has_marks_finds_a_cache_control_wherever_it_is(params: dict[str, object]) -> None:
    """The scan's shortcuts (plain-text messages skipped, system and tools read only when
    present) find every marked block the plain definition finds, and nothing else."""
    assert has_marks(params) is _marked_anywhere(params)

"""Cost equals usage × price for each usage field; the prices file is sourced and complete."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clauderoute._cost import cost, model_limits, price, price_sources
from clauderoute.types import Usage

FIELDS = {"input_tokens": "input", "output_tokens": "output",
          "cache_read_input_tokens": "cache_read"}


@pytest.mark.parametrize(("field", "rate"), [*FIELDS.items(),
                                             ("cache_creation_input_tokens", "cache_write_5m")])
def test_each_usage_field_is_priced_at_its_own_rate(field: str, rate: str) -> None:
    """One million tokens of one kind costs that kind's price per MTok."""
    p = price("claude-opus-4-7")
    assert p is not None
    assert cost({field: 1_000_000}, "claude-opus-4-7") == pytest.approx(getattr(p, rate))


def test_one_hour_writes_use_the_one_hour_price() -> None:
    """usage.cache_creation splits writes by lifetime; each lifetime has its price."""
    u = Usage(cache_creation_input_tokens=3_000_000,
              cache_creation={"ephemeral_5m_input_tokens": 1_000_000,
                              "ephemeral_1h_input_tokens": 2_000_000})
    assert cost(u, "claude-sonnet-4-6") == pytest.approx(3.75 + 2 * 6.0)


def test_known_figures_from_the_pricing_page() -> None:
    """Spot checks against the page: Haiku 4.5 $1/$5, Opus 4.1 $15/$75, Opus 5.5 $4/$20."""
    assert cost(Usage(input_tokens=2_000_000, output_tokens=1_000_000),
                "claude-haiku-4-5") == pytest.approx(7.0)
    assert cost(Usage(input_tokens=1_000_000, output_tokens=1_000_000),
                "claude-opus-4-1") == pytest.approx(90.0)
    assert cost(Usage(input_tokens=1_000_000, output_tokens=1_000_000),
                "claude-opus-5-5") == pytest.approx(24.0)


def test_dated_ids_multiplier_batch_and_unknown_models() -> None:
    """A dated id prices as its model; the multiplier scales; batch halves input and output;
    an unknown model costs None, not a guess."""
    u = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_input_tokens=1_000_000)
    base = cost(u, "claude-haiku-4-5")
    assert base == pytest.approx(6.1)
    assert cost(u, "claude-haiku-4-5-20251001") == base
    assert cost(u, "claude-haiku-4-5", multiplier=1.1) == pytest.approx(6.71)
    assert cost(u, "claude-haiku-4-5", batch=True) == pytest.approx(3.1)
    assert cost(u, "claude-made-up-9") is None


@given(st.fixed_dictionaries({k: st.one_of(st.none(), st.integers(-10, 10**9), st.text(max_size=3),
                                           st.booleans())
                              for k in [*FIELDS, "cache_creation_input_tokens"]}))
def test_cost_is_linear_and_ignores_junk(usage: dict[str, object]) -> None:
    """Cost is the sum over fields of count × rate; negative or non-integer counts count 0."""
    p = price("claude-sonnet-4-6")
    assert p is not None
    expect = 0.0
    for k, v in usage.items():
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            rate = getattr(p, FIELDS.get(k, "cache_write_5m"))
            expect += v * rate / 1e6
    assert cost(usage, "claude-sonnet-4-6") == pytest.approx(expect)


def test_every_price_and_limit_names_a_dated_source() -> None:
    """Each entry names a [sources] entry, and each source says when it was checked."""
    sources = price_sources()
    assert all("checked 20" in s for s in sources.values())
    from clauderoute._cost import _data
    for name, p in _data().prices.items():
        assert p.source in sources, name
        assert p.cache_read < p.input < p.cache_write_5m < p.cache_write_1h < p.output, name
    for name, lim in _data().limits.items():
        assert lim.source in sources, name
    limits = model_limits("claude-haiku-4-5")
    assert limits is not None and limits.max_output == 64000


@given(st.integers(-5, 10**7), st.integers(-5, 10**7), st.sampled_from([None, 0, 1, 1000]),
       st.sampled_from([None, 0, 7, 900]), st.booleans(),
       st.sampled_from(["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1"]))
def test_typed_usage_costs_what_its_dict_costs(i: int, o: int, cw: int | None, cr: int | None,
                                               batch: bool, model: str) -> None:
    """A ``Usage`` without cache use takes a shorter path than a dict (the common answer, per
    call); both give the same USD, negative counts included (counted as 0)."""
    usage = Usage(input_tokens=i, output_tokens=o, cache_creation_input_tokens=cw,
                  cache_read_input_tokens=cr)
    as_dict = {"input_tokens": i, "output_tokens": o, "cache_creation_input_tokens": cw,
               "cache_read_input_tokens": cr}
    assert cost(usage, model, multiplier=1.5, batch=batch) == \
        cost(as_dict, model, multiplier=1.5, batch=batch)

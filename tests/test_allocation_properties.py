"""Monotonicity of the allocation over generated instances: less sharing never helps.

The shortage level (penalty x units x periods short, one class so the property is a plain
inequality) is the optimum of an LP; removing an agreement shrinks its feasible set and
raising a cap grows it, so the optimum can only rise in the first case and fall in the
second. Every result also passes the independent checker.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reserve_opt.domain import Instance
from reserve_opt.models.allocation import AllocationOptions, check_allocation, solve_allocation
from reserve_opt.synthetic import synthetic_instance

# no parent regions: the province capital would serve every county without caps and
# make most agreements irrelevant
OPTS = AllocationOptions(priorities=False, tiers=False, explain=False, periods=2,
                         parent_serves=False)


def shortage(inst: Instance) -> float:
    res = solve_allocation(inst, "event", OPTS)
    assert res.status.value == "optimal", res.message
    report = check_allocation(inst, "event", res)
    assert report.ok, report.violations
    value = res.levels[0].value
    assert res.levels[0].name == "shortage" and value is not None
    return value


def tol(value: float) -> float:
    return 1e-6 * max(1.0, abs(value))


instances = st.builds(
    synthetic_instance,
    n_regions=st.integers(8, 18),
    n_facilities=st.integers(3, 8),
    n_commodities=st.integers(1, 2),
    seed=st.integers(0, 10_000),
    alliance_size=st.sampled_from([0, 3, 4]),
    neighbours=st.integers(1, 3),
    stock_days=st.sampled_from([0.5, 1.0, 2.0]),
)

SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(inst=instances, pick=st.integers(0, 10_000))
def test_removing_an_agreement_never_lowers_shortage(inst: Instance, pick: int) -> None:
    if not inst.agreements:
        return
    gone = inst.agreements[pick % len(inst.agreements)]
    fewer = dataclasses.replace(inst, agreements=tuple(a for a in inst.agreements
                                                       if a.id != gone.id))
    base, without = shortage(inst), shortage(fewer)
    assert without >= base - tol(base), (gone.id, base, without)


@SETTINGS
@given(inst=instances, pick=st.integers(0, 10_000),
       factor=st.sampled_from([1.5, 2.0, 3.0]))
def test_raising_a_cap_never_raises_shortage(inst: Instance, pick: int, factor: float) -> None:
    if not inst.agreements:
        return
    i = pick % len(inst.agreements)
    a = inst.agreements[i]
    share = min(1.0, (a.cap_share or 0.1) * factor)
    raised = dataclasses.replace(a, cap_share=share,
                                 cap_quantity=None if a.cap_quantity is None
                                 else a.cap_quantity * factor)
    more = dataclasses.replace(inst, agreements=(*inst.agreements[:i], raised,
                                                 *inst.agreements[i + 1:]))
    base, with_more = shortage(inst), shortage(more)
    assert with_more <= base + tol(base), (a.id, base, with_more)


@pytest.mark.parametrize(("seed", "agreement"), [(1, "n_r0003_r0004"), (3, "n_r0002_r0006")])
def test_the_generated_instances_can_tell_agreements_apart(seed: int, agreement: str) -> None:
    """The properties are not vacuous: on these, an agreement and its cap both matter."""
    inst = synthetic_instance(12, 5, 1, seed=seed, alliance_size=0, neighbours=2,
                              stock_days=2.0)
    i = next(n for n, a in enumerate(inst.agreements) if a.id == agreement)
    fewer = dataclasses.replace(inst, agreements=inst.agreements[:i] + inst.agreements[i + 1:])
    raised = dataclasses.replace(inst.agreements[i], cap_share=0.9)
    more = dataclasses.replace(inst, agreements=(*inst.agreements[:i], raised,
                                                 *inst.agreements[i + 1:]))
    base = shortage(inst)
    assert shortage(fewer) > base * 1.01
    assert shortage(more) < base * 0.99


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_instances_are_valid(seed: int) -> None:
    from reserve_opt.builder import InstanceBuilder

    inst = synthetic_instance(40, 12, 3, seed=seed)
    assert InstanceBuilder.from_instance(inst).build() == inst

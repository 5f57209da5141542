"""Sweep files: a full grid of parameter values and/or a seeded Monte Carlo sample.

A sweep file (TOML, or YAML with the same keys) expands into runs, each a variant of the
base instance with the values it was built from::

    description = "Coastal demand x budget x Dandong depot"

    [options]                   # model and solver options (RunOptions), the same for all
    time_limit_s = 60

    [[axis]]                    # grid axis: one operation, one parameter, several values
    name = "coastal_demand"
    op = "scale_demand"
    param = "factor"
    values = [1.0, 1.5, 2.0]
    alliances = ["coastal"]     # the operation's other parameters, fixed

    [[axis]]                    # or named levels, each a list of changes (or a file)
    name = "dandong_depot"
    levels = { open = [], closed = [{ op = "close_facility", facility = "W_dandong" }] }

    [sample]                    # Monte Carlo: this many replicates at every grid point
    runs = 100
    seed = 7

    [[random]]                  # a random parameter: distribution and its arguments
    name = "road"
    op = "cut_link"
    param = "speed_factor"
    distribution = "choice"
    values = [0.0, 0.5, 1.0]
    weights = [0.2, 0.3, 0.5]
    from = "dalian"
    to = "dandong"

Grid points are the product of the axes (the first axis varies slowest). Replicate ``r``
draws its random values from ``numpy.random.default_rng([seed, r])``: the same values at
every grid point (common random numbers, so differences between grid points are not noise)
and the same values whatever the number of runs, so growing a sample from 100 to 200 runs
keeps the first 100 and a resumed sweep finds them done.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reserve_opt.errors import InputError
from reserve_opt.validation.cells import finite_number
from reserve_opt.variants.ops import OPERATIONS
from reserve_opt.variants.run import NO_ROUTE_SWEEPS, RunOptions
from reserve_opt.variants.variant import (
    Change,
    Variant,
    _load_mapping,
    read_referenced,
    variant_from_dict,
)

SWEEP_KEYS = ("description", "options", "include", "axis", "sample", "random")
AXIS_KEYS = ("name", "op", "param", "values", "levels")
RANDOM_KEYS = ("name", "op", "param", "distribution", "low", "high", "mode", "mean", "sd",
               "sigma", "values", "weights", "levels", "clip")
MAX_SWEEP_RUNS = 10_000
"""Most runs a sweep may expand to (grid points x Monte Carlo runs), checked from the
axis lengths and ``[sample] runs`` before any run is built: every run is built, checked
against the base and listed in ``sweep.json`` before the first solve, and even at a second
a solve 10,000 runs take hours; split a larger study into several sweeps."""

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("mean", "sigma"),
    "triangular": ("low", "mode", "high"),
    "choice": (),
}
"""Distributions of random parameters and their arguments (lognormal: of the logarithm)."""


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a sweep.

    Parameters
    ----------
    index
        0-based position in the sweep.
    params
        Column name -> value it was built from (axis values or level names, random draws,
        ``replicate``).
    variant
        The changes to apply to the base.
    """

    index: int
    params: Mapping[str, Any]
    variant: Variant


@dataclass(frozen=True, slots=True)
class _Axis:
    name: str
    levels: tuple[tuple[Any, tuple[dict[str, Any], ...]], ...]  # (label, changes)


@dataclass(frozen=True, slots=True)
class _Random:
    name: str
    spec: Mapping[str, Any]
    template: Mapping[str, Any]  # the change without the drawn parameter
    param: str | None
    levels: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A parsed sweep file.

    Parameters
    ----------
    source
        File name for messages.
    description
        One line.
    options
        Model and solver options of every run.
    common
        Changes applied first in every run (``include = [...]``).
    axes, randoms
        Grid axes and random parameters.
    replicates
        Monte Carlo runs per grid point (1 without random parameters).
    seed
        Seed of the sample.
    """

    source: str
    description: str
    options: RunOptions
    common: tuple[Change, ...]
    axes: tuple[_Axis, ...]
    randoms: tuple[_Random, ...]
    replicates: int
    seed: int

    @property
    def size(self) -> int:
        """Number of runs."""
        n = self.replicates
        for a in self.axes:
            n *= len(a.levels)
        return n

    def runs(self) -> list[Run]:
        """Every run, in order: grid points (first axis slowest), then replicates."""
        out: list[Run] = []
        grid = list(itertools.product(*(a.levels for a in self.axes))) or [()]
        draws = [self._draw(r) for r in range(self.replicates)]
        for point in grid:
            for r, (rparams, rchanges) in enumerate(draws):
                params: dict[str, Any] = {}
                raw: list[dict[str, Any]] = []
                for axis, (label, changes) in zip(self.axes, point, strict=True):
                    params[axis.name] = label
                    raw += [dict(c) for c in changes]
                if self.randoms:
                    params["replicate"] = r
                params.update(rparams)
                raw += rchanges
                name = ",".join(f"{k}={_label(v)}" for k, v in params.items()) or "base"
                if raw:
                    v = variant_from_dict({"description": name, "change": raw},
                                          f"{self.source} run {len(out) + 1}",
                                          default_name=name)
                    changes_t = self.common + v.changes
                else:
                    changes_t = self.common
                out.append(Run(len(out), params, Variant(name, name, changes_t,
                                                         (self.source,))))
        return out

    def _draw(self, replicate: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if not self.randoms:
            return {}, []
        rng = np.random.default_rng([self.seed, replicate])
        params: dict[str, Any] = {}
        changes: list[dict[str, Any]] = []
        for rv in self.randoms:
            value = _sample(rng, rv.spec)
            if rv.levels:
                label, chosen = rv.levels[int(value)]
                params[rv.name] = label
                changes += [dict(c) for c in chosen]
            else:
                params[rv.name] = value
                assert rv.param is not None
                changes.append({**rv.template, rv.param: value})
        return params, changes


def _label(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _sample(rng: np.random.Generator, spec: Mapping[str, Any]) -> Any:
    dist = spec["distribution"]
    if dist == "uniform":
        x = float(rng.uniform(spec["low"], spec["high"]))
    elif dist == "normal":
        x = float(rng.normal(spec["mean"], spec["sd"]))
    elif dist == "lognormal":
        x = float(rng.lognormal(spec["mean"], spec["sigma"]))
    elif dist == "triangular":
        x = float(rng.triangular(spec["low"], spec["mode"], spec["high"]))
    else:  # choice: of values, or of level indices
        n = len(spec["values"]) if "values" in spec else len(spec["levels"])
        w = spec.get("weights")
        p = None if w is None else np.asarray(w, dtype=float) / float(sum(w))
        i = int(rng.choice(n, p=p))
        if "levels" in spec:
            return i
        value = spec["values"][i]
        return float(value) if isinstance(value, int | float) and not isinstance(
            value, bool) else value
    if "clip" in spec:
        lo, hi = spec["clip"]
        x = min(max(x, float(lo)), float(hi))
    return x


def read_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """Read and check a sweep file (TOML or YAML).

    Raises
    ------
    InputError
        Every problem, one sentence each, naming the file, the axis or random parameter and
        the key. The variants themselves are checked against the base when the sweep runs.
    """
    p = Path(path)
    return sweep_from_dict(_load_mapping(p), str(p), p.parent)


def sweep_from_dict(data: Mapping[str, Any], source: str,
                    base_dir: Path | None = None) -> SweepSpec:
    """Build a :class:`SweepSpec` from the keys of a sweep file."""
    problems: list[str] = []
    _unknown(data, SWEEP_KEYS, source, problems)
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(f"{source}: key 'description' is missing; add one line saying what "
                        f"the sweep explores")
        description = ""
    raw_options = data.get("options", {})
    if not isinstance(raw_options, Mapping):
        problems.append(f"{source}: [options] must be a table of option = value")
        raw_options = {}
    try:
        if isinstance(raw_options, Mapping) and raw_options.get("model") == "route":
            raise InputError(f"{source}: {NO_ROUTE_SWEEPS}")
        options = RunOptions.from_dict(dict(raw_options), source)
    except InputError as err:
        problems += err.problems
        options = RunOptions()
    except (TypeError, AttributeError):
        problems.append(f"{source}: [options] must be a table of option = value")
        options = RunOptions()
    common: tuple[Change, ...] = ()
    include = data.get("include", [])
    include = [include] if isinstance(include, str) else include
    if not isinstance(include, list) or not all(isinstance(i, str) for i in include):
        problems.append(f"{source}: include must be a list of variant files")
        include = []
    for inc in include:
        try:
            common += read_referenced(inc, f"{source}: include", base_dir).changes
        except InputError as err:
            problems += err.problems
    axes = tuple(a for i, raw in enumerate(_tables(data, "axis", source, problems), 1)
                 if (a := _axis(raw, f"{source}: axis {i}", base_dir, problems)) is not None)
    sample = data.get("sample", {})
    if not isinstance(sample, dict):
        problems.append(f"{source}: [sample] must be a table with runs and seed")
        sample = {}
    _unknown(sample, ("runs", "seed"), f"{source}: [sample]", problems)
    raw_axes = data.get("axis") or []
    raw_randoms = _tables(data, "random", source, problems)
    randoms = tuple(r for i, raw in enumerate(raw_randoms, 1)
                    if (r := _random(raw, f"{source}: random {i}", base_dir, problems))
                    is not None)
    runs, seed = sample.get("runs", 1 if not randoms else None), sample.get("seed", 0)
    if randoms and runs is None:
        problems.append(f"{source}: [sample] runs is missing; say how many Monte Carlo runs "
                        f"to draw, e.g. runs = 100")
    if runs is not None and (isinstance(runs, bool) or not isinstance(runs, int) or runs < 1):
        problems.append(f"{source}: [sample] runs must be a whole number >= 1, got {runs!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"{source}: [sample] seed must be a whole number >= 0, got {seed!r}")
    # a [[random]] that failed is reported already: the rest would only echo it
    if sample and not raw_randoms:
        problems.append(f"{source}: [sample] has no [[random]] parameter to draw; add one or "
                        f"remove [sample]")
    replicates = runs if isinstance(runs, int) and not isinstance(runs, bool) else 1
    size = math.prod(len(a.levels) for a in axes) * replicates
    if size > MAX_SWEEP_RUNS:
        parts = [f"{len(a.levels)} ({a.name})" for a in axes]
        parts += [f"{replicates:,} Monte Carlo runs"] if randoms else []
        problems.append(f"{source}: expands to {size:,} runs ({' x '.join(parts)}), more than "
                        f"the {MAX_SWEEP_RUNS:,} a sweep may hold; use fewer values or runs, "
                        f"or split it into several sweeps")
    names = [a.name for a in axes] + [r.name for r in randoms]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"{source}: name '{name}' is used twice; give each axis and random "
                        f"parameter its own name")
    if not raw_axes and not raw_randoms:
        problems.append(f"{source}: has no [[axis]] and no [[random]]; add at least one")
    if problems:
        raise InputError(problems)
    spec = SweepSpec(source, str(description).strip(), options, common, axes, randoms,
                     int(runs) if isinstance(runs, int) else 1, int(seed))
    _check_changes(spec)
    return spec


def _unknown(data: Mapping[str, Any], known: Sequence[str], where: str,
             problems: list[str]) -> None:
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            problems.append(f"{where}: key '{key}' is not known; "
                            + (f"did you mean '{close[0]}'?" if close
                               else f"known keys are {', '.join(known)}"))


def _tables(data: Mapping[str, Any], key: str, source: str,
            problems: list[str]) -> list[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        problems.append(f"{source}: {key} must be a list of tables ([[{key}]] in TOML)")
        return []
    return items


def _levels(raw: Any, where: str, base_dir: Path | None,
            problems: list[str]) -> tuple[tuple[str, tuple[dict[str, Any], ...]], ...]:
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{where}: levels must be a table of name = [changes] or "
                        f"name = \"variant file\"")
        return ()
    out = []
    for label, item in raw.items():
        if isinstance(item, str):
            try:
                v = read_referenced(item, f"{where}: level '{label}'", base_dir)
            except InputError as err:
                problems += err.problems
                continue
            out.append((str(label), tuple(c.to_dict() for c in v.changes)))
        elif isinstance(item, list) and all(isinstance(c, dict) for c in item):
            out.append((str(label), tuple(dict(c) for c in item)))
        else:
            problems.append(f"{where}: level '{label}' must be a list of changes or a "
                            f"variant file name")
    return tuple(out)


def _op_template(raw: Mapping[str, Any], skip: Sequence[str], where: str,
                 problems: list[str]) -> tuple[dict[str, Any], str | None]:
    op = raw.get("op")
    param = raw.get("param")
    if not isinstance(op, str) or op not in OPERATIONS:
        close = difflib.get_close_matches(str(op), list(OPERATIONS), n=1)
        problems.append(f"{where}: op {op!r} is not known; "
                        + (f"did you mean '{close[0]}'?" if close
                           else f"use one of {', '.join(OPERATIONS)}"))
        return {}, None
    if not isinstance(param, str) or param not in OPERATIONS[op].params:
        problems.append(f"{where}: param {param!r} is not a parameter of {op}; use one of "
                        f"{', '.join(OPERATIONS[op].params)}")
        return {}, None
    fixed = {k: v for k, v in raw.items() if k not in skip}
    return {"op": op, **fixed}, param


def _axis(raw: Mapping[str, Any], where: str, base_dir: Path | None,
          problems: list[str]) -> _Axis | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: name is missing; add name = \"...\" (the result column)")
        return None
    where = f"{where} ('{name}')"
    if "levels" in raw:
        extra = [k for k in raw if k not in ("name", "levels")]
        if extra:
            problems.append(f"{where}: an axis with levels takes only name and levels, not "
                            f"{', '.join(extra)}")
        levels = _levels(raw["levels"], where, base_dir, problems)
        return _Axis(name, levels) if levels else None
    values = raw.get("values")
    if not isinstance(values, list) or not values:
        problems.append(f"{where}: values is missing; give a list of values, or levels")
        return None
    template, param = _op_template(raw, ("name", "op", "param", "values"), where, problems)
    if param is None:
        return None
    return _Axis(name, tuple((v, ({**template, param: v},)) for v in values))


def _random(raw: Mapping[str, Any], where: str, base_dir: Path | None,
            problems: list[str]) -> _Random | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: name is missing; add name = \"...\" (the result column)")
        return None
    where = f"{where} ('{name}')"
    dist = raw.get("distribution")
    if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
        problems.append(f"{where}: distribution {dist!r} is not known; use one of "
                        f"{', '.join(DISTRIBUTIONS)}")
        return None
    spec: dict[str, Any] = {"distribution": dist}
    for key in DISTRIBUTIONS[dist]:
        number = finite_number(raw.get(key))
        if number is None:
            problems.append(f"{where}: {dist} needs {key} = <finite number>")
            return None
        spec[key] = number
    if dist == "uniform" and spec["low"] > spec["high"]:
        problems.append(f"{where}: low {spec['low']:g} is above high {spec['high']:g}")
    if dist == "triangular" and not spec["low"] <= spec["mode"] <= spec["high"]:
        problems.append(f"{where}: triangular needs low <= mode <= high")
    for key in ("sd", "sigma"):
        if key in spec and spec[key] < 0:
            problems.append(f"{where}: {key} must be >= 0")
    if "clip" in raw:
        clip = raw["clip"]
        ends = [finite_number(c) for c in clip] if isinstance(clip, list) else []
        if not (len(ends) == 2 and ends[0] is not None and ends[1] is not None
                and ends[0] <= ends[1]):
            problems.append(f"{where}: clip must be [low, high], two finite numbers")
        else:
            spec["clip"] = ends
    levels: tuple[tuple[str, tuple[dict[str, Any], ...]], ...] = ()
    if dist == "choice":
        if "levels" in raw:
            levels = _levels(raw["levels"], where, base_dir, problems)
            spec["levels"] = [label for label, _ in levels]
            n = len(levels)
        elif isinstance(raw.get("values"), list) and raw["values"]:
            spec["values"] = list(raw["values"])
            n = len(raw["values"])
        else:
            problems.append(f"{where}: choice needs values = [...] or levels = {{...}}")
            return None
        weights = raw.get("weights")
        if weights is not None:
            ws = [finite_number(w) for w in weights] if isinstance(weights, list) else []
            if not (len(ws) == n and all(w is not None and w >= 0 for w in ws)
                    and sum(w or 0.0 for w in ws) > 0):
                problems.append(f"{where}: weights must be {n} finite numbers >= 0, not all 0")
            else:
                spec["weights"] = ws
    if levels:
        return _Random(name, spec, {}, None, levels)
    skip = ("name", "op", "param", *RANDOM_KEYS)
    template, param = _op_template(raw, skip, where, problems)
    if param is None:
        return None
    return _Random(name, spec, template, param, ())


def _check_changes(spec: SweepSpec) -> None:
    """Check the shape of every change the sweep can produce (ids are checked per run)."""
    problems: list[str] = []
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for a in spec.axes:
        groups += [(f"{spec.source}: axis '{a.name}' value {_label(label)}", list(changes))
                   for label, changes in a.levels]
    for r in spec.randoms:
        if r.levels:
            groups += [(f"{spec.source}: random '{r.name}' level {label}", list(changes))
                       for label, changes in r.levels]
        elif r.param is not None:
            groups.append((f"{spec.source}: random '{r.name}'",
                           [{**r.template, r.param: 1.0}]))
    for where, changes in groups:
        if not changes:
            continue
        try:
            variant_from_dict({"description": "check", "change": changes}, where)
        except InputError as err:
            problems += [p for p in err.problems if p not in problems]
    if problems:
        raise InputError(problems)

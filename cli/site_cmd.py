"""The ``site`` command: classic siting models on OR-Library files or on an instance."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    ForceOption,
    FormatOption,
    SeedOption,
    ThreadsOption,
    gap_option,
    out_option,
    output_folder,
    progress,
    show,
    solver_option,
    time_limit_option,
    warn_checker,
    write_csv,
    write_json,
)
from reserve_opt.cli.render import OutputFormat, no_result_line, print_table, say
from reserve_opt.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from reserve_opt.models.siting import CheckReport, SitingResult
    from reserve_opt.models.siting.instance import SitingData

MODELS = ("p-median", "p-center", "capacitated-p-median", "max-coverage", "set-cover",
          "backup-cover", "cflp", "uflp")
INPUT_FORMATS = ("orlib-cap", "orlib-pmed", "matrix", "instance")
#: Models whose sites cover clients within a radius or a travel time.
COVERAGE_MODELS = ("max-coverage", "set-cover", "backup-cover")
#: Models that open a given number of sites (-p).
P_MODELS = ("p-median", "p-center", "capacitated-p-median", "max-coverage")
#: Models that send each client to sites by distance (orlib-pmed files and instances).
DISTANCE_MODELS = ("p-median", "p-center", "capacitated-p-median")
#: Optimum files the OR-Library benchmarks keep next to their instances, per model.
#: Models with two methods (``--method``): the Lagrangian one (default) and the plain MIP.
METHOD_MODELS = ("p-median", "cflp", "uflp")
METHODS = ("lagrangian", "mip")
OPTIMA_FILES = {"cflp": "capopt.txt", "uflp": "uncapopt.txt", "p-median": "pmedopt.txt"}
#: |ours - published| / published at or below this counts as matching a known optimum.
MATCH_TOL = 1e-6
DEFAULT_TIME_LIMIT_S = 120.0
TITLES = {"p-median": "p-median", "p-center": "p-center",
          "capacitated-p-median": "capacitated p-median", "max-coverage": "maximal coverage",
          "set-cover": "set covering", "backup-cover": "backup coverage (LSCP-B)",
          "cflp": "capacitated facility location",
          "uflp": "uncapacitated facility location"}


@dataclass
class SiteRun:
    """One solved siting problem with everything the renderers need."""

    model: str
    name: str
    input_format: str
    result: SitingResult
    client_ids: list[str]
    site_ids: list[str]
    check: CheckReport
    breakdown: dict[str, float]
    units: dict[str, str]
    p: int | None = None
    known: dict[str, Any] | None = None
    data: SitingData | None = None
    notes: list[str] = field(default_factory=list)
    fixed: list[int] = field(default_factory=list)

    def served_by(self) -> list[int]:
        """Per client the serving site's index (-1 if none).

        Allocation models: the site with the largest share; coverage models: the nearest
        open site that covers the client.
        """
        import numpy as np

        r = self.result
        if r.assignment is not None:
            return [int(v) for v in r.assigned_site()]
        if self.data is None or r.open_sites.size == 0:
            return [-1] * len(self.client_ids)
        cov = self.data.coverage[:, r.open_sites]
        d = np.where(cov, self.data.distance_km[:, r.open_sites], np.inf)
        best = r.open_sites[np.argmin(d, axis=1)]
        return [int(b) if cov[i].any() else -1 for i, b in enumerate(best)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: status, objective, bound, gap, seconds, costs, sites, check."""
        r = self.result
        served = self.served_by()
        out: dict[str, Any] = {
            "model": self.model,
            "name": self.name,
            "input_format": self.input_format,
            "status": r.status.value,
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "solve_seconds": r.solve_seconds,
            "solver": r.solver,
            "cost_breakdown": self.breakdown,
            "units": self.units,
            "p": self.p,
            "open_sites": [self.site_ids[j] for j in r.open_sites],
            "n_open": int(r.open_sites.size),
            "fixed_sites": [self.site_ids[j] for j in self.fixed],
            "check": {"ok": self.check.ok, "objective": _num(self.check.objective),
                      "problems": list(self.check.problems)},
            "known_optimum": self.known,
        }
        if self.data is not None:
            out["scenario"] = self.data.scenario
            out["coverage_rule"] = self.data.coverage_rule
        if r.has_solution:
            out["assignment"] = {c: (self.site_ids[j] if j >= 0 else None)
                                 for c, j in zip(self.client_ids, served, strict=True)}
            if r.covered is not None:
                out["uncovered"] = [c for c, ok in zip(self.client_ids, r.covered, strict=True)
                                    if not ok]
            if r.backup is not None:
                out["backed_up"] = [c for c, ok in zip(self.client_ids, r.backup, strict=True)
                                    if ok]
        out["notes"] = self.notes
        return out


def _num(v: float) -> float | None:
    return v if math.isfinite(v) else None


def detect_format(path: Path) -> str:
    """``instance`` for a folder or document, ``matrix`` for CSV/Parquet, else OR-Library.

    A ``cap`` file starts with ``m n`` (two numbers), a ``pmed`` file with
    ``n_vertices n_edges p`` (three).

    Raises
    ------
    InputError
        If the path is missing or the content fits neither layout.
    """
    if not path.exists():
        raise InputError(f"{path} does not exist; give an OR-Library file or an instance "
                         "folder or JSON document.")
    if path.is_dir() or path.suffix.lower() in (".json", ".toml", ".yaml", ".yml"):
        return "instance"
    if path.suffix.lower() in (".csv", ".parquet"):
        return "matrix"
    try:
        with path.open() as fh:
            first = next((ln.split() for ln in fh if ln.strip()), [])
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"Cannot read {path}: {err}.") from None
    from reserve_opt.models.siting.orlib import is_number

    numeric = all(is_number(t) for t in first)
    if numeric and len(first) == 2:
        return "orlib-cap"
    if numeric and len(first) == 3:
        return "orlib-pmed"
    raise InputError(f"Cannot tell the format of {path} from its first line; pass "
                     "--input-format orlib-cap, orlib-pmed, matrix or instance.")


def site(
    model: Annotated[str, typer.Argument(help="p-median, p-center, capacitated-p-median, "
                                         "max-coverage, set-cover, backup-cover, cflp or "
                                         "uflp.", show_default=False)],
    path: Annotated[Path | None, typer.Argument(
        help="OR-Library file (orlib-cap or orlib-pmed), a cost matrix CSV (a row per "
        "client: its name, an optional 'demand' column, then a column per site), or an "
        "instance folder or JSON document; or leave it out and give --costs.",
        show_default=False)] = None,
    costs: Annotated[Path | None, typer.Option(
        "--costs", help="A cost table instead of PATH: CSV or Parquet, long (columns "
        "client, site, cost and optionally weight, a row per pair) or a wide matrix (a row "
        "per client, a column per site, optional 'demand').", show_default=False)] = None,
    facilities: Annotated[int | None, typer.Option(
        "--facilities", "-p", help="Sites to open (p-median, p-center, capacitated-p-median, "
        "max-coverage), besides the fixed ones unless --count-fixed; an orlib-pmed file "
        "gives its own.")] = None,
    input_format: Annotated[str | None, typer.Option(
        "--input-format", help="orlib-cap, orlib-pmed, matrix or instance (default: "
        "detected).")] = (
        None),
    scenario: Annotated[str | None, typer.Option(
        help="Instance input: weight regions by this scenario's demand (m3) and apply its "
        "outages; default: population and normal conditions.")] = None,
    radius_km: Annotated[float | None, typer.Option(
        "--radius-km", help="Coverage: a site covers clients within this road distance (km; "
        "the file's distance units for orlib-pmed and matrix files).")] = None,
    max_hours: Annotated[float | None, typer.Option(
        "--max-hours", help="Coverage: a site covers regions within this travel time (h); "
        "default: each region's 6/8/10 h response standard.")] = None,
    capacity: Annotated[float | None, typer.Option(
        "--capacity", help="cflp on an orlib-cap file: every warehouse's capacity, in place "
        "of the file's; needed for capa, capb and capc, which write the word 'capacity' "
        "(capa: 8000, 10000, 12000 or 14000). capacitated-p-median on an orlib-pmed or "
        "matrix file: every site's capacity, in demand served (a pmed vertex has demand 1).",
        show_default=False)] = None,
    fixed: Annotated[str | None, typer.Option(
        "--fixed", help="OR-Library and matrix files: sites open already, comma-separated "
        "(site numbers from 1, e.g. 3,17; a matrix's column names); they stay open (an "
        "instance's existing government warehouses are fixed open by itself).",
        show_default=False)] = None,
    count_fixed: Annotated[bool, typer.Option(
        "--count-fixed", help="Fixed sites (--fixed, or an instance's existing government "
        "warehouses) count among the -p sites, instead of coming on top.")] = False,
    free_existing: Annotated[bool, typer.Option(
        "--free-existing", help="Instance: existing government warehouses are candidates "
        "like any other site (they may close), not fixed open.")] = False,
    optima: Annotated[Path | None, typer.Option(
        help="File of known optima ('name value' lines); default: the benchmark's own "
        "capopt.txt, uncapopt.txt or pmedopt.txt next to PATH.")] = None,
    solver: Annotated[str, solver_option(
        "highs, scip, cpsat, pulp-cbc, ortools-cbc or auto.")] = "highs",
    time_limit: Annotated[float, time_limit_option(
        "Seconds; the best plan found so far is returned with its gap.")] = (
        DEFAULT_TIME_LIMIT_S),
    gap: Annotated[float, gap_option(
        "Relative MIP gap to stop at (0: prove optimality).")] = 0.0,
    method: Annotated[str | None, typer.Option(
        "--method", help="p-median, cflp, uflp: 'lagrangian' (default: Lagrangian bound, "
        "fixing, then branching over the sites, no MIP solver; cflp/uflp up to 5,000 "
        "client-site pairs: one --solver MIP) "
        "or 'mip' (one --solver MIP: the radius model for p-median).")
    ] = None,
    seed: SeedOption = 0,
    threads: ThreadsOption = 1,
    out: Annotated[Path | None, out_option(
        "Folder for solution tables (CSV), GeoPackage layers (instance input) and "
        "solution.json.")] = None,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Open sites: p-median, p-center, capacitated p-median, coverage, backup, CFLP, UFLP."""
    from reserve_opt.solvers import SolverOptions

    with reported_errors():
        if (path is None) == (costs is None):
            raise InputError("Give exactly one of PATH (a benchmark file or an instance) or "
                             "--costs FILE (a cost table).")
        if costs is not None:
            if input_format not in (None, "matrix"):
                raise InputError(f"--input-format {input_format}: --costs is a cost table; "
                                 "leave --input-format out.")
            path, input_format = costs, "matrix"
        assert path is not None
        dest = output_folder(out, "site", [path, optima], force)
        if model not in MODELS:
            raise InputError(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}.")
        if input_format is not None and input_format not in INPUT_FORMATS:
            raise InputError(f"Unknown --input-format {input_format!r}; choose one of "
                             f"{', '.join(INPUT_FORMATS)}.")
        kind = input_format or detect_format(path)
        if not path.exists():
            raise InputError(f"{path} does not exist; give an OR-Library file or an instance "
                             "folder or JSON document.")
        # an option the model does not use is refused, never silently dropped
        unused = [flag for flag, value, models in (
            ("-p/--facilities", facilities, P_MODELS),
            ("--radius-km", radius_km, COVERAGE_MODELS),
            ("--max-hours", max_hours, COVERAGE_MODELS),
            ("--count-fixed", count_fixed or None, P_MODELS),
            ("--method", method, METHOD_MODELS),
            ("--optima", optima, tuple(OPTIMA_FILES))) if value is not None and model not in models]
        if unused:
            raise InputError(f"{', '.join(unused)}: not used by {model}; leave it out.")
        if method is not None and method not in METHODS:
            raise InputError(f"--method {method!r}: unknown; choose one of "
                             f"{', '.join(METHODS)}.")
        if capacity is not None and (kind, model) not in (
                ("orlib-cap", "cflp"), ("orlib-pmed", "capacitated-p-median"),
                ("matrix", "capacitated-p-median")):
            raise InputError(f"--capacity {capacity:g}: applies to cflp on an orlib-cap file "
                             "and capacitated-p-median on an orlib-pmed or matrix file; leave "
                             "it out here.")
        if kind == "instance" and fixed is not None:
            raise InputError(f"--fixed {fixed}: applies to OR-Library and matrix files; an "
                             "instance's "
                             "existing government warehouses are fixed open already "
                             "(--free-existing lets them close).")
        if kind != "instance" and free_existing:
            raise InputError(f"--free-existing: applies to instances, not to {kind} files; "
                             "leave it out.")
        if count_fixed and (free_existing or (kind != "instance" and fixed is None)):
            raise InputError("--count-fixed: no site is fixed open here; leave it out or "
                             "name the fixed sites with --fixed.")
        opts = SolverOptions(time_limit_s=time_limit, mip_gap=gap, threads=threads, seed=seed)
        args = dict(model=model, path=path, p=facilities, solver=solver, options=opts,
                    count_fixed=count_fixed, method=method or "lagrangian")
        with progress(f"solving {model} on {path.name} with {solver}"):
            if kind == "instance":
                if optima is not None:
                    raise InputError("--optima applies to OR-Library files, not to instances.")
                run = _run_instance(**args, scenario=scenario,  # type: ignore[arg-type]
                                    radius_km=radius_km, max_hours=max_hours,
                                    free_existing=free_existing)
            else:
                if scenario is not None or max_hours is not None:
                    raise InputError("--scenario and --max-hours apply to instances, not to "
                                     f"{kind} files.")
                run = _run_orlib(**args, kind=kind, radius=radius_km,  # type: ignore[arg-type]
                                 optima=optima, capacity=capacity, fixed=fixed)
        if run.result.has_solution and not run.check.ok:
            warn_checker(run.check.problems)
        if dest is not None and run.result.has_solution:
            with dest.write() as folder:
                write_site(run, folder)
    show(fmt, run.to_dict, lambda: print_site(run),
         wrote=out if run.result.has_solution else None)
    if not run.result.has_solution:
        raise typer.Exit(1)


def _need_p(model: str, p: int | None) -> int:
    if p is None:
        raise InputError(f"{model} needs the number of sites to open; pass -p/--facilities N.")
    return p


def _total_p(p: int, fixed: list[int], count_fixed: bool, m: int, where: str) -> int:
    """Sites open in all: p, plus the fixed ones unless they count among the p."""
    sites = f"{len(fixed)} site{'' if len(fixed) == 1 else 's'}"
    if count_fixed and p < len(fixed):
        raise InputError(f"-p {p} with --count-fixed is fewer than the {sites} fixed open in "
                         f"{where}; give -p {len(fixed)} or more, or leave out --count-fixed.")
    if count_fixed or not fixed:
        return p
    if p < 0 or p + len(fixed) > m:
        raise InputError(f"-p {p} new sites and the {sites} fixed open exceed the {m} sites "
                         f"of {where}; give -p from 0 to {m - len(fixed)}, or --count-fixed.")
    return p + len(fixed)


def _fixed_sites(text: str | None, site_ids: list[str], where: str,
                 numbered: bool = True) -> list[int]:
    """Site indices of a ``--fixed`` list of site numbers (``3,17``) or names."""
    if text is None:
        return []
    index = {s: j for j, s in enumerate(site_ids)}
    out: list[int] = []
    for raw in text.split(","):
        name = raw.strip()
        if name not in index:
            hint = (f"site numbers from 1 to {len(site_ids)}" if numbered
                    else "site names from its header")
            raise InputError(f"--fixed: {where} has no site {name!r}; give {hint} separated "
                             "by commas.")
        if index[name] in out:
            raise InputError(f"--fixed: site {name} is listed twice; list each site once.")
        out.append(index[name])
    return sorted(out)


def _solve_distance(model: str, d: npt.NDArray[np.float64], p: int,
                    w: npt.NDArray[np.float64] | None, fixed: list[int], solver: str,
                    options: Any, capacity: npt.NDArray[np.float64] | None = None,
                    method: str = "lagrangian") -> tuple[SitingResult, CheckReport]:
    """p-median, p-center or capacitated p-median on a distance matrix, checked."""
    import numpy as np

    from reserve_opt.models import siting as st

    if model == "p-median":
        r = st.p_median(d, p, w, solver=solver, options=options, fixed=fixed,
                        formulation="lagrangian" if method == "lagrangian" else "radius")
        return r, st.check(r, distance=d, weights=w, p=p, fixed=fixed)
    if model == "p-center":
        r = st.p_center(d, p, solver=solver, options=options, fixed=fixed)
        return r, st.check(r, distance=d, p=p, fixed=fixed)
    q = w if w is not None else np.ones(d.shape[0])
    r = st.capacitated_p_median(d, p, q, capacity, solver=solver, options=options, fixed=fixed)
    return r, st.check(r, distance=d, demand=q, capacity=capacity, p=p, fixed=fixed)


def _solve_coverage(model: str, cov: Any, p: int | None, w: npt.NDArray[np.float64] | None,
                    fixed: list[int], solver: str, options: Any,
                    ) -> tuple[SitingResult, CheckReport]:
    """Maximal coverage, set cover (fixed sites cost nothing) or backup cover, checked."""
    import numpy as np

    from reserve_opt.models import siting as st

    if model == "max-coverage":
        assert p is not None
        r = st.max_coverage(cov, p, w, solver=solver, options=options, fixed=fixed)
        return r, st.check(r, coverage=cov, weights=w, p=p, fixed=fixed)
    if model == "set-cover":
        costs = np.ones(cov.shape[1])
        costs[fixed] = 0.0  # open already: the objective counts the sites to add
        r = st.set_cover(cov, costs, solver=solver, options=options, fixed=fixed)
        return r, st.check(r, coverage=cov, fixed_cost=costs, fixed=fixed)
    r = st.backup_cover(cov, w, solver=solver, options=options, fixed=fixed)
    return r, st.check(r, coverage=cov, weights=w, fixed=fixed)


def _coverage_terms(model: str, r: SitingResult, total: float, unit: str,
                    fixed: list[int]) -> tuple[dict[str, float], dict[str, str]]:
    """Objective terms and units of a coverage model's answer."""
    obj = _or0(r.objective)
    if model == "max-coverage":
        return ({f"covered_{unit}": obj, f"total_{unit}": total,
                 "covered_share": obj / total if total else 0.0},
                {"objective": f"{unit} covered"})
    if model == "set-cover":
        return ({"new_sites": obj, "fixed_sites": float(len(fixed))},
                {"objective": "sites opened besides the fixed ones so that every client is "
                 "covered"})
    return ({f"backed_up_{unit}": obj, f"total_{unit}": total,
             "sites": float(r.open_sites.size)},
            {"objective": f"{unit} covered by two open sites or more, with the fewest sites "
             "that cover everyone"})


def _run_orlib(*, model: str, path: Path, p: int | None, solver: str, options: Any, kind: str,
               radius: float | None, optima: Path | None, count_fixed: bool,
               capacity: float | None = None, fixed: str | None = None,
               method: str = "lagrangian") -> SiteRun:
    import numpy as np

    from reserve_opt.models import siting as st

    name = path.stem
    used_p = file_p = None
    if kind == "orlib-cap":
        if model not in ("cflp", "uflp"):
            raise InputError(f"Model {model!r} does not apply to an orlib-cap file; use cflp "
                             "or uflp.")
        capacitated = model == "cflp"
        cap = st.read_orlib_cap(path, capacity, uncapacitated=not capacitated)
        n, m = cap.cost.shape
        fix = _fixed_sites(fixed, [str(j + 1) for j in range(m)], path.name)
        r = st.facility_location(cap.demand, cap.fixed_cost, cap.cost,
                                 cap.capacity if capacitated else None,
                                 capacitated=capacitated, solver=solver, options=options,
                                 fixed=fix, method=method)  # type: ignore[arg-type]
        rep = st.check(r, cost=cap.cost, demand=cap.demand, fixed_cost=cap.fixed_cost,
                       capacity=cap.capacity if capacitated else None, fixed=fix)
        units = {"objective": "cost (file units)"}
        breakdown = _fl_breakdown(r, cap.fixed_cost, cap.cost)
        run = SiteRun(model, name, kind, r, [str(i + 1) for i in range(n)],
                      [str(j + 1) for j in range(m)], rep, breakdown, units, fixed=fix)
    else:
        if model in ("cflp", "uflp"):
            raise InputError(f"Model {model!r} does not apply to an {kind} file; use "
                             "p-median, p-center, capacitated-p-median, max-coverage, "
                             "set-cover or backup-cover.")
        if kind == "matrix":
            mx = st.read_costs(path)
            dist, w, file_p = mx.distance, mx.demand, None
            client_ids, site_ids = list(mx.client_ids), list(mx.site_ids)
            unit = "clients" if w is None else "demand"
            file_units = "matrix units"
        else:
            pm = st.read_orlib_pmed(path)
            dist, w, file_p = pm.distance, None, pm.p
            client_ids = site_ids = [str(j + 1) for j in range(pm.distance.shape[1])]
            unit, file_units = "vertices", "file units"
        n, m = dist.shape
        fix = _fixed_sites(fixed, site_ids, path.name, numbered=kind != "matrix")
        if model in DISTANCE_MODELS:
            asked = p if p is not None else file_p if file_p is not None else _need_p(model, p)
            used_p = _total_p(asked, fix, count_fixed, m, path.name)
            caps = None
            if model == "capacitated-p-median":
                if capacity is None:
                    raise InputError(f"capacitated-p-median on an {kind} file needs "
                                     "--capacity N: the demand one site may serve"
                                     + (" (each vertex has demand 1)." if kind == "orlib-pmed"
                                        else "."))
                caps = np.full(m, capacity)
            r, rep = _solve_distance(model, dist, used_p, w, fix, solver, options, caps,
                                     method)
            if model == "p-center":
                breakdown = {"radius": _or0(r.objective)}
                units = {"objective": f"largest distance to the nearest open site ({file_units})"}
            else:
                breakdown = {"weighted_distance": _or0(r.objective)}
                weighted = "" if w is None else "demand x "
                units = {"objective": f"sum of {weighted}distances to the serving site "
                         f"({file_units})"}
        else:
            if radius is None:
                raise InputError(f"{model} on an {kind} file needs a coverage radius; "
                                 f"pass --radius-km R (in the {file_units} of distance).")
            cov = st.coverage_from_distance(dist, radius)
            if model == "max-coverage":
                used_p = _total_p(_need_p(model, p), fix, count_fixed, m, path.name)
            r, rep = _solve_coverage(model, cov, used_p, w, fix, solver, options)
            total = float(n if w is None else w.sum())
            breakdown, units = _coverage_terms(model, r, total, unit, fix)
        run = SiteRun(model, name, kind, r, client_ids, site_ids, rep, breakdown, units,
                      p=used_p, fixed=fix)
    if capacity is not None:
        what = {"orlib-cap": "warehouse", "orlib-pmed": "vertex"}.get(kind, "site")
        run.notes.append(f"every {what}'s capacity is {capacity:g} (--capacity).")
    if fix:
        run.notes.append("the published optimum is for no fixed site; not compared.")
    else:
        run.known = _known_optimum(run, path, optima,
                                   file_p=file_p,
                                   capacity=capacity)
    return run


def _or0(v: float | None) -> float:
    return 0.0 if v is None else float(v)


def _fl_breakdown(r: SitingResult, fixed: npt.NDArray[np.float64],
                  cost: npt.NDArray[np.float64]) -> dict[str, float]:
    if not r.has_solution or r.assignment is None:
        return {}
    f = float(fixed[r.open_sites].sum())
    a = float((cost * r.assignment).sum())
    return {"fixed": f, "assignment": a, "total": f + a}


def _known_optimum(run: SiteRun, path: Path, optima: Path | None,
                   file_p: int | None, capacity: float | None = None) -> dict[str, Any] | None:
    """The published optimum of this file and how the run compares, if one is known.

    ``--optima`` is the user's input: a file that cannot be read is an error. The optima
    file beside the benchmark is not: it is named in a one-line warning and skipped.
    """
    from reserve_opt.models.siting.orlib import read_optima_file

    if run.model not in OPTIMA_FILES:
        return None
    src = optima if optima is not None else path.parent / OPTIMA_FILES[run.model]
    if optima is not None and not optima.is_file():
        raise InputError(f"--optima {optima} is not a readable file.")
    if not src.is_file():
        return None
    try:
        table = read_optima_file(src)
    except InputError as err:
        if optima is not None:
            raise
        typer.echo(f"warning: {err.problems[0].rstrip('.')}; going on without the known "
                   "optimum.", err=True)
        return None
    known = table.get(run.name, capacity)
    if known is None:
        with_cap = "" if capacity is None else f" with capacity {capacity:g}"
        run.notes.append(f"{src.name} lists no optimum for {run.name}{with_cap}.")
        return None
    if run.model == "p-median" and run.p != file_p:
        run.notes.append(f"{src.name} holds the optimum for p = {file_p}, not p = {run.p}.")
        return None
    obj = run.result.objective
    rel = None if obj is None else (obj - known) / abs(known) if known else obj - known
    return {"file": str(src), "value": known, "relative_difference": rel,
            "matches": rel is not None and abs(rel) <= MATCH_TOL, "tolerance": MATCH_TOL}


def _run_instance(*, model: str, path: Path, p: int | None, solver: str, options: Any,
                  scenario: str | None, radius_km: float | None,
                  max_hours: float | None, count_fixed: bool = False,
                  free_existing: bool = False, method: str = "lagrangian") -> SiteRun:
    import numpy as np

    from reserve_opt.io import load_instance
    from reserve_opt.models import siting as st
    from reserve_opt.models.siting.instance import siting_data

    inst = load_instance(path)
    data = siting_data(inst, scenario=scenario, radius_km=radius_km, max_hours=max_hours)
    if not data.weight.any():
        if scenario is None:
            raise InputError(f"No region of {inst.name!r} has a population; give regions "
                             "their population, or pick a --scenario with demand.")
        raise InputError(f"Scenario {scenario!r} has no demand in any region; pick a scenario "
                         "with demand, or leave out --scenario to weight regions by population.")
    cur = data.currency
    wu = data.weight_unit
    m = len(data.site_ids)
    # existing government warehouses are there: open, and on top of p unless asked
    fix = [] if free_existing else [int(j) for j in np.flatnonzero(data.existing)]
    if count_fixed and not fix:
        raise InputError(f"--count-fixed: {inst.name!r} has no existing government "
                         "warehouse to fix open; leave it out.")
    notes: list[str] = []
    used_p: int | None = None
    if model in P_MODELS:
        used_p = _total_p(_need_p(model, p), fix, count_fixed, m, repr(inst.name))
    if model in ("p-median", "p-center"):
        assert used_p is not None
        w = data.weight if model == "p-median" else None
        r, rep = _solve_distance(model, data.distance_km, used_p, w, fix, solver, options,
                                 method=method)
        if model == "p-median":
            breakdown = {f"weighted_distance_{wu}_km": _or0(r.objective)}
            units = {"objective": f"{wu} x road km to the nearest open site"}
        else:
            breakdown = {"radius_km": _or0(r.objective)}
            units = {"objective": "road km from the farthest region to its nearest open site"}
    elif model == "capacitated-p-median":
        assert used_p is not None
        cap = data.finite_capacity()
        r, rep = _solve_distance(model, data.distance_km, used_p, data.demand_m3, fix, solver,
                                 options, cap)
        breakdown = {"weighted_distance_m3_km": _or0(r.objective)}
        units = {"objective": "m3 x road km to the serving site", "capacity": "m3 of storage "
                 "space", "demand": "m3"}
    elif model in COVERAGE_MODELS:
        cov = data.coverage
        if model != "max-coverage":
            lonely = ~data.coverage.any(axis=1) & (data.weight > 0)
            if lonely.any():
                ids = [data.client_ids[i] for i in np.flatnonzero(lonely)]
                raise InputError(f"No site covers regions {ids} ({data.coverage_rule}); widen "
                                 "--max-hours or --radius-km, or use max-coverage.")
            # regions without weight (no demand in the scenario) need no cover
            cov = data.coverage | (data.weight <= 0)[:, None]
        r, rep = _solve_coverage(model, cov, used_p, data.weight, fix, solver, options)
        breakdown, units = _coverage_terms(model, r, float(data.weight.sum()), wu, fix)
    else:
        capacitated = model == "cflp"
        if not data.demand_m3.any():
            raise InputError("Facility location needs demand: give commodities a "
                             "need_per_person_day, need_per_person or persons_per_unit, or pick a "
                             "--scenario with demand.")
        cap = data.finite_capacity() if capacitated else None
        if cap is not None and cap.sum() < data.demand_m3.sum():
            need = "one day of need of the whole population" if scenario is None else (
                f"scenario {scenario!r}")
            raise InputError(f"Total site capacity {cap.sum():,.0f} m3 is below the demand of "
                             f"{need} ({data.demand_m3.sum():,.0f} m3); use uflp or another "
                             "--scenario.")
        r = st.facility_location(data.demand_m3, data.fixed_cost, data.assign_cost, cap,
                                 capacitated=capacitated, solver=solver, options=options,
                                 fixed=fix, method=method)  # type: ignore[arg-type]
        rep = st.check(r, cost=data.assign_cost, demand=data.demand_m3,
                       fixed_cost=data.fixed_cost, capacity=cap, fixed=fix)
        breakdown = _fl_breakdown(r, data.fixed_cost, data.assign_cost)
        units = {"objective": cur, "fixed": f"{cur} (candidate warehouses' largest size, "
                 "unsigned contracts' retainers)",
                 "assignment": f"{cur} (transport of the regions' demand)",
                 "capacity": "m3 of storage space", "demand": "m3"}
    if fix:
        notes.append(f"existing government warehouses {[data.site_ids[j] for j in fix]} are "
                     "fixed open" + (" and count among -p" if count_fixed and used_p else
                                     " on top of -p" if used_p else "")
                     + " (--free-existing lets them close).")
    if r.has_solution:
        served = np.asarray(
            SiteRun(model, inst.name, "instance", r, list(data.client_ids),
                    list(data.site_ids), rep, {}, {}, data=data).served_by())
        bad = [data.client_ids[i] for i in np.flatnonzero(served >= 0)
               if not data.reachable[i, served[i]]]
        if bad:
            notes.append(f"Regions {bad} are assigned to a site they cannot reach under the "
                         "scenario's outages (priced at 10x the longest reachable distance).")
    return SiteRun(model, inst.name, "instance", r, list(data.client_ids), list(data.site_ids),
                   rep, breakdown, units, p=used_p, data=data, notes=notes, fixed=fix)


def write_site(run: SiteRun, folder: Path) -> None:
    """Write sites.csv, clients.csv, solution.json and, for instances, sites.gpkg.

    The GeoPackage holds two layers: ``opened_sites`` (points) and ``assignments`` (a line
    from each region to the site serving it).
    """
    import numpy as np
    import pandas as pd

    r = run.result
    served = np.asarray(run.served_by())
    n, m = len(run.client_ids), len(run.site_ids)
    is_open = np.zeros(m, dtype=bool)
    is_open[r.open_sites] = True
    d = run.data
    weight = d.weight if d is not None else np.ones(n)
    is_fixed = np.zeros(m, dtype=bool)
    is_fixed[run.fixed] = True
    sites = pd.DataFrame({"site": run.site_ids, "opened": is_open, "fixed": is_fixed,
                          "clients_served": np.bincount(served[served >= 0], minlength=m)})
    clients = pd.DataFrame({"client": run.client_ids,
                            "site": [run.site_ids[j] if j >= 0 else "" for j in served]})
    if d is not None:
        wu = d.weight_unit
        sites.insert(1, "kind", d.site_kinds)
        sites[f"fixed_cost_{d.currency}"] = d.fixed_cost
        sites["capacity_m3"] = d.capacity_m3
        if r.assignment is not None:
            sites["load_m3"] = d.demand_m3 @ r.assignment
        clients.insert(1, f"weight_{wu}", weight)
        rows = np.arange(n)
        ok = served >= 0
        sj = np.where(ok, served, 0)
        clients["distance_km"] = np.where(ok, d.distance_km[rows, sj], np.nan)
        clients["time_h"] = np.where(ok, d.time_h[rows, sj], np.nan)
        clients["reachable"] = np.where(ok, d.reachable[rows, sj], False)
    if r.covered is not None:
        clients["covered"] = np.asarray(r.covered)
    if r.backup is not None:
        clients["backed_up"] = np.asarray(r.backup)
    write_csv(sites, folder / "sites.csv")
    write_csv(clients, folder / "clients.csv")
    if d is not None:
        _write_gpkg(run, served, folder / "sites.gpkg")
    write_json(folder / "solution.json", run.to_dict())


def _write_gpkg(run: SiteRun, served: npt.NDArray[np.int64], target: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    d = run.data
    assert d is not None
    locs = d.locations
    opened = [{"site": run.site_ids[j], "kind": d.site_kinds[j],
               "clients_served": int((served == j).sum()),
               "geometry": Point(*locs[run.site_ids[j]])} for j in run.result.open_sites]
    gpd.GeoDataFrame(opened, geometry="geometry", crs="EPSG:4326").to_file(
        target, layer="opened_sites", driver="GPKG")
    lines = [{"region": c, "site": run.site_ids[j], "distance_km": float(d.distance_km[i, j]),
              "time_h": float(d.time_h[i, j]),
              "geometry": LineString([locs[c], locs[run.site_ids[j]]])}
             for i, (c, j) in enumerate(zip(run.client_ids, served, strict=True)) if j >= 0]
    gpd.GeoDataFrame(lines, geometry="geometry", crs="EPSG:4326").to_file(
        target, layer="assignments", driver="GPKG")


def print_site(run: SiteRun) -> None:
    """Print a siting answer for people: status, objective, costs, sites, check."""
    r = run.result
    gap = "n/a" if r.gap is None or not math.isfinite(r.gap) else f"{r.gap:.4%}"
    obj = _fmt(r.objective)
    bound = _fmt(r.bound)
    say(f"{run.name}: {TITLES[run.model]} ({run.input_format}), {r.status.value} in "
        f"{r.solve_seconds:.2f} s with {r.solver}")
    say(f"objective {obj} ({run.units['objective']}), bound {bound}, gap {gap}")
    if run.data is not None and run.model in COVERAGE_MODELS:
        say(f"coverage: {run.data.coverage_rule}")
    if run.known is not None:
        k = run.known
        rel = k["relative_difference"]
        verdict = "matches" if k["matches"] else "DOES NOT match"
        say(f"known optimum {_fmt(k['value'])} ({Path(k['file']).name}): {verdict}"
        + ("" if rel is None else f", relative difference {rel:.1e}"))
    if run.fixed and run.data is None:
        say("fixed open: " + ", ".join(run.site_ids[j] for j in run.fixed))
    if not r.has_solution:
        say(no_result_line("plan", r.status))
        return
    say("independent check: " + ("ok" if run.check.ok else
                                 "FAILED: " + "; ".join(run.check.problems)))
    say()
    print_table("Objective terms", ["term", "amount"],
                [[k, v] for k, v in run.breakdown.items()])
    served = run.served_by()
    counts = [served.count(int(j)) for j in r.open_sites]
    cols = ["site", "clients served"]
    rows: list[list[Any]] = [[run.site_ids[j], c] for j, c in zip(r.open_sites, counts,
                                                                 strict=True)]
    if run.data is not None:
        cols = ["site", "kind", "clients served"]
        rows = [[run.site_ids[j], run.data.site_kinds[j], c]
                for j, c in zip(r.open_sites, counts, strict=True)]
    shown = rows[:30]
    print_table(f"Open sites ({len(rows)})", cols, shown, total=len(rows),
                where="all in sites.csv (--out) or --format json")
    for note in run.notes:
        say(f"note: {note}")


def _fmt(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3f}"


def register(app: typer.Typer) -> None:
    """Add the ``site`` command to ``app``."""
    app.command()(site)

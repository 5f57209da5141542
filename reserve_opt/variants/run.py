"""Run one model on one instance with one set of options: the unit of whatif and sweeps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from reserve_opt.errors import InputError
from reserve_opt.validation.cells import finite_number
from reserve_opt.variants.compare import plan_summary

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.models.placement import PlacementOptions
    from reserve_opt.solvers import SolverOptions

ModelName = Literal["plan", "allocate", "route"]
MODELS: tuple[str, ...] = ("plan", "allocate", "route")

ROUTE_TIME_LIMIT_S = 10.0
"""Seconds per routing solve by default, as ``reserve-opt route``."""

ROUTE_FIELDS = ("period", "engine", "route_time_limit_s", "route_seed", "route_max_iterations")
"""Options only route runs read (sweeps leave them out of their run keys)."""

NO_ROUTE_SWEEPS = ("sweeps do not run model route; use plan or allocate, or compare routes "
                   "with reserve-opt whatif --model route")
"""Why a sweep refuses ``model = "route"``."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The model and its options, the same for every run of a whatif or a sweep.

    The defaults are those of ``reserve-opt plan``, so a whatif run of a variant equals a
    ``plan`` run of the patched instance.

    Parameters
    ----------
    model
        ``"plan"`` (placement), ``"allocate"`` (one event) or ``"route"`` (one day of
        the event's allocation on vehicles, as ``reserve-opt route``).
    solver
        Solver registry name.
    time_limit_s
        Seconds per solve, or ``None``.
    mip_gap
        Relative MIP gap to stop at.
    threads
        Solver threads (sweeps use 1: the parallelism is across runs).
    seed
        Solver random seed.
    sharing, response_time, service_level, risk_weight, cvar_level
        Placement options (see :class:`~reserve_opt.models.placement.PlacementOptions`).
    scenario
        Event of an allocate or route run: a scenario id.
    periods
        Days of an allocate or route run, or ``None`` for the model's default (a route
        run's: the routed day, as ``reserve-opt route``).
    period
        Day of the allocation a route run routes (1-based).
    engine
        Routing engine of a route run: ``pyvrp`` or ``ortools``.
    route_time_limit_s
        Seconds per routing solve.
    route_seed
        Random seed of the routing engine (PyVRP), fixed so runs repeat.
    route_max_iterations
        Stop each routing solve after this many iterations (PyVRP) or solutions (OR-Tools)
        instead of ``route_time_limit_s``: the same routes on any machine.
    """

    model: str = "plan"
    solver: str = "highs"
    time_limit_s: float | None = 120.0
    mip_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    sharing: str = "auto"
    response_time: bool = False
    service_level: float | None = None
    risk_weight: float = 0.0
    cvar_level: float = 0.9
    scenario: str | None = None
    periods: int | None = None
    period: int = 1
    engine: str = "pyvrp"
    route_time_limit_s: float = ROUTE_TIME_LIMIT_S
    route_seed: int = 0
    route_max_iterations: int | None = None

    def __post_init__(self) -> None:
        kinds: dict[str, tuple[type, ...]] = {
            "model": (str,), "solver": (str,), "sharing": (str,), "time_limit_s": (int, float),
            "mip_gap": (int, float), "threads": (int,), "seed": (int,),
            "response_time": (bool,), "service_level": (int, float),
            "risk_weight": (int, float), "cvar_level": (int, float), "scenario": (str,),
            "periods": (int,), "period": (int,), "engine": (str,),
            "route_time_limit_s": (int, float), "route_seed": (int,),
            "route_max_iterations": (int,)}
        wrong = [f"option {k} = {getattr(self, k)!r} must be "
                 f"{' or '.join(t.__name__ for t in kinds[k])}"
                 for k in kinds if getattr(self, k) is not None and (
                     not isinstance(getattr(self, k), kinds[k])
                     or (isinstance(getattr(self, k), bool) and bool not in kinds[k]))]
        if wrong:
            raise InputError(wrong)
        if self.model not in MODELS:
            raise InputError(f"model '{self.model}' is not known; use plan, allocate or "
                             "route")
        if self.model == "allocate" and not self.scenario:
            raise InputError("model allocate needs the event: add --scenario ID (in a sweep "
                             "file, scenario = \"ID\" under [options])")
        if self.model == "route":
            self._check_route()
        if self.time_limit_s is not None and finite_number(self.time_limit_s) is None:
            raise InputError("time limit must be a finite number of seconds")
        # the solver's and the placement model's own checks, before any run is built (a
        # sweep would otherwise fail every run, each with the same message)
        self.solver_options()
        if self.model == "plan":
            self.placement_options()

    def solver_options(self) -> SolverOptions:
        """The solver options of every solve of a run."""
        from reserve_opt.solvers import SolverOptions

        return SolverOptions(time_limit_s=self.time_limit_s, mip_gap=self.mip_gap,
                             threads=self.threads, seed=self.seed)

    def placement_options(self) -> PlacementOptions:
        """The placement model's options of a plan run."""
        from reserve_opt.models.placement import PlacementOptions

        return PlacementOptions(sharing=self.sharing,  # type: ignore[arg-type]
                                response_time=self.response_time,
                                service_level=self.service_level,
                                risk_weight=self.risk_weight, cvar_level=self.cvar_level)

    def _check_route(self) -> None:
        from reserve_opt.models.routing import ENGINES

        if not self.scenario:
            raise InputError("model route needs the event whose allocation is routed: add "
                             "--scenario ID")
        if self.period < 1:
            raise InputError(f"period {self.period} is not a day of the event; days are "
                             "1-based, use --period 1 or more")
        if self.periods is not None and self.periods < self.period:
            raise InputError(f"periods {self.periods} ends before the routed day "
                             f"{self.period}; give --periods {self.period} or more")
        if self.engine not in ENGINES:
            raise InputError(f"engine '{self.engine}' is not known; use "
                             f"{' or '.join(ENGINES)}")
        if not ((finite_number(self.route_time_limit_s) or 0.0) > 0):
            raise InputError("route time limit must be a positive, finite number of seconds")
        if self.route_max_iterations is not None and self.route_max_iterations < 1:
            raise InputError(f"route max iterations {self.route_max_iterations}: give a whole "
                             "number of 1 or more")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (every field)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str) -> RunOptions:
        """Options from a mapping (a grid file's ``[options]``), unknown keys refused.

        Route-only options are not among them: sweeps do not run route.
        """
        names = {f.name for f in fields(cls)} - set(ROUTE_FIELDS)
        unknown = [k for k in data if k not in names]
        if unknown:
            raise InputError([f"{source}: option '{k}' is not known; options are "
                              f"{', '.join(sorted(names))}" for k in unknown])
        try:
            return cls(**data)
        except InputError as err:
            raise InputError([f"{source}: {p}" for p in err.problems]) from None


def check_scenario(inst: Instance, opts: RunOptions, name: str) -> None:
    """Refuse an allocate or route run whose event is not a scenario of ``inst``."""
    if opts.model in ("allocate", "route") and opts.scenario not in inst.scenario_index:
        raise InputError(f"{name}: scenario '{opts.scenario}' is not in the instance; use one "
                         f"of {', '.join(s.id for s in inst.scenarios)}")


def resolve_for(base: Instance, inst: Instance, opts: RunOptions) -> tuple[RunOptions,
                                                                          str | None]:
    """The options to run a variant ``inst`` of ``base`` with, and a note if they changed.

    ``sharing = "auto"`` means agreements when an instance has any, else pooled. A variant
    that drops the base's last agreement would then switch to pooled sharing, where every
    region draws on every stock, the opposite of what it models; such a variant keeps
    ``agreements`` (no sharing at all). Everything else is passed through unchanged, so a
    run equals ``reserve-opt plan`` of the patched instance with the same options.
    """
    if opts.sharing == "auto" and base.agreements and not inst.agreements:
        from dataclasses import replace

        return replace(opts, sharing="agreements"), (
            "sharing kept to 'agreements' (no agreement is left; 'auto' would pool every "
            "stock)")
    return opts, None


def run_model(inst: Instance, opts: RunOptions) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Solve ``inst`` with the model and options of ``opts``.

    Returns
    -------
    dict
        The model's own JSON result (``PlacementResult.to_dict()``, the same as
        ``reserve-opt plan --format json``; or ``AllocationResult.to_dict()``; or
        ``RouteRun.to_dict()``, the keys of ``reserve-opt route --format json``).
    dict
        The summary (see :func:`reserve_opt.variants.compare.plan_summary`,
        :func:`~reserve_opt.variants.allocate.allocation_summary`,
        :func:`~reserve_opt.variants.route.route_summary`).
    object
        The result object itself.
    """
    solver_options = opts.solver_options()
    if opts.model == "plan":
        from reserve_opt.models.placement import solve_placement

        result = solve_placement(inst, opts.placement_options(), solver=opts.solver,
                                 solver_options=solver_options)
        return result.to_dict(), plan_summary(inst, result), result
    if opts.model == "route":
        from reserve_opt.variants.route import route_event, route_summary

        run = route_event(inst, opts, solver_options)
        return run.to_dict(), route_summary(inst, run), run
    from reserve_opt.variants.allocate import allocation_summary, solve_event

    res = solve_event(inst, opts, solver_options)
    return res.to_dict(), allocation_summary(inst, res), res

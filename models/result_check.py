"""Check any result file against an instance with the model's independent checker.

A plan (``reserve-opt plan --out``) goes to :func:`~reserve_opt.models.placement.check.
check_placement`, an allocation (``allocate --out``) to :func:`~reserve_opt.models.allocation.
check_allocation`. The kind is read from the folder's ``.reserve-opt`` marker, else from the
document's shape. Nothing is re-solved: the checkers recompute every constraint and cost
from the instance and the result's own lines, and hold the solver's claims (status, bound,
gap) against each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.io.outdir import MARKER

__all__ = ["ResultCheck", "check_result", "result_kind"]

Kind = Literal["plan", "allocate"]


@dataclass(frozen=True)
class ResultCheck:
    """What :func:`check_result` found.

    Attributes
    ----------
    kind
        ``plan`` or ``allocate``: which checker ran.
    status
        The status the result claims (``optimal``, ``feasible``...).
    violations
        Broken constraints, cost mismatches and inconsistent solver claims, one sentence
        each; empty when the result passes.
    warnings
        Allowed but worth a look.
    costs
        Cost terms the checker recomputed, currency.
    """

    kind: Kind
    status: str
    violations: tuple[str, ...]
    warnings: tuple[str, ...]
    costs: dict[str, float]

    @property
    def ok(self) -> bool:
        """No violations."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"kind": self.kind, "status": self.status, "ok": self.ok,
                "violations": list(self.violations), "warnings": list(self.warnings),
                "costs": self.costs}


def _solution(path: Path) -> tuple[Path, Path]:
    """The result's folder and its ``solution.json``."""
    folder = path if path.is_dir() else path.parent
    sol = path / "solution.json" if path.is_dir() else path
    if not sol.is_file():
        raise InputError(f"{path}: has no solution.json; give a folder that 'reserve-opt "
                         "plan --out' or 'reserve-opt allocate --out' wrote.")
    return folder, sol


def result_kind(path: str | Path) -> Kind:
    """Which command wrote the result at ``path``: ``plan`` or ``allocate``.

    Raises
    ------
    InputError
        When the folder was written by another command or the document is neither.
    """
    folder, sol = _solution(Path(path))
    command: object = None
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        command = marker.get("command") if isinstance(marker, dict) else None
    except (OSError, ValueError):
        pass
    if command is None:
        try:
            doc = json.loads(sol.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InputError(f"{sol}: not JSON ({err}); give a folder that 'reserve-opt "
                             "plan --out' or 'reserve-opt allocate --out' wrote.") from None
        if isinstance(doc, dict) and isinstance(doc.get("event"), str):
            command = "allocate"
        elif isinstance(doc, dict) and "opened" in doc and "stock" in doc:
            command = "plan"
    if command not in ("plan", "allocate"):
        what = f"the output of reserve-opt {command}" if isinstance(command, str) else (
            "neither a plan nor an allocation")
        raise InputError(f"{path}: holds {what}; check takes the output of 'reserve-opt "
                         "plan --out' or 'reserve-opt allocate --out'.")
    return "plan" if command == "plan" else "allocate"


def read_placement(path: str | Path) -> Any:
    """Read a plan's ``solution.json`` (or its folder) as a ``PlacementResult``.

    Raises
    ------
    InputError
        When the file is missing, not JSON, or a field or line is not as ``plan`` writes it.
    """
    from reserve_opt.models.placement.result import PlacementResult

    _, sol = _solution(Path(path))
    try:
        doc = json.loads(sol.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{sol}: not JSON ({err}); give the solution.json that "
                         "'reserve-opt plan --out DIR' wrote.") from None
    return PlacementResult.from_dict(doc, str(sol))


def check_result(instance: Instance, path: str | Path, *,
                 plan: str | Path | None = None) -> ResultCheck:
    """Run the independent checker of the model that wrote ``path`` on its result.

    Parameters
    ----------
    instance
        The instance the result was made for.
    path
        A result folder (or its ``solution.json``) from ``plan --out`` or ``allocate --out``.
    plan
        For an allocation made with ``allocate --plan``: that plan, whose stock and
        contracts the allocation drew on (checked first, as ``allocate --plan`` does).

    Returns
    -------
    ResultCheck

    Raises
    ------
    InputError
        When the result cannot be read, or ``plan`` is given for a plan.
    """
    kind = result_kind(path)
    if kind == "plan":
        from reserve_opt.models.placement.check import check_placement

        if plan is not None:
            raise InputError("--plan is for an allocation made from a plan; "
                             f"{path} is itself a plan: leave --plan out.")
        placement = read_placement(path)
        rep = check_placement(instance, placement)
        return ResultCheck("plan", placement.status.value, rep.violations, rep.warnings,
                           dict(rep.costs))
    from reserve_opt.models.allocation import check_allocation, read_plan
    from reserve_opt.models.allocation.from_folder import read_allocation

    stock = None
    if plan is not None:
        instance, stock = read_plan(plan, instance)
    alloc = read_allocation(path)
    if alloc.event not in {s.id for s in instance.scenarios}:
        raise InputError(f"{path}: allocates event {alloc.event!r}, which is not a scenario "
                         "of the instance; check an allocation of a scenario against the "
                         "instance it was made for.")
    rep2 = check_allocation(instance, alloc.event, alloc, stock=stock)
    return ResultCheck("allocate", alloc.status.value, rep2.violations, rep2.warnings,
                       dict(rep2.costs))

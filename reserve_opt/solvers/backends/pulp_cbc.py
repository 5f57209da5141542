"""CBC through PuLP: the CBC binary that PuLP bundles (``PULP_CBC_CMD``), fed an MPS file.

The matrix is written straight to free MPS (see :mod:`reserve_opt.solvers.mps`) instead
of building PuLP variable and constraint objects: on a 50,000-variable p-median model
that is several times faster and gives the same file CBC would read anyway. The
binary's solution file gives primal values and (for LPs) row duals; its log gives the
best bound when a limit stops the search. "Infeasible" is reported only when CBC proved it:
its pre-processing's claim is checked by a search without pre-processing (see
:data:`PREPROCESS_CLAIM`).

PuLP 3.3 bundles CBC and warns that PuLP 4 will not; the project pins ``pulp<4``.
"""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from reserve_opt.solvers.backends.base import Backend, Capabilities
from reserve_opt.solvers.model import MatrixModel
from reserve_opt.solvers.mps import kept_rows, write_mps
from reserve_opt.solvers.options import SolverOptions
from reserve_opt.solvers.result import SolveResult, make_result
from reserve_opt.solvers.status import SolveStatus

_BOUND_RE = re.compile(r"^(?:Lower bound|Upper bound):\s*(\S+)", re.MULTILINE)
_PARTIAL_RE = re.compile(r"best possible (\S+?)\)")
_NUM_RE = re.compile(r"objective value\s+(\S+)")


@functools.cache
def cbc_path() -> str | None:
    """Path of PuLP's bundled CBC binary, or ``None`` if PuLP or the binary is missing."""
    try:
        import pulp
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            # PuLP 3.3 warns that PULP_CBC_CMD goes away in PuLP 4; we pin pulp<4.
            warnings.simplefilter("ignore", DeprecationWarning)
            cmd = pulp.PULP_CBC_CMD(msg=False)
        if not cmd.available():
            return None
        path = str(cmd.path)
    except Exception:  # pulp raises various errors when the binary is absent
        return None
    return path if os.path.exists(path) else None


#: What CBC's log says when pre-processing gave up on the model. CBC 2.10 says it when the
#: time limit interrupts pre-processing's LP solves (seen on the bundled toy at 0.001 s and
#: on Liaoning at 0.03 s), and on some feasible models (coin-or/Cbc issues 740, 747, 749):
#: it is no proof of infeasibility.
PREPROCESS_CLAIM = "Pre-processing says infeasible"


def cbc_status(head: str, log: str, *, is_mip: bool) -> SolveStatus:
    """The status of a CBC run, from its solution file's first line and its log.

    ``Infeasible`` / ``Integer infeasible`` count only when proven: after
    :data:`PREPROCESS_CLAIM` the status is ``NO_SOLUTION``. ``Stopped on ...`` is
    ``FEASIBLE`` when an integer solution came with it, else ``NO_SOLUTION``.

    Parameters
    ----------
    head
        First line of the solution file, e.g. ``"Stopped on time - objective value 5"``.
    log
        CBC's standard output and error.
    is_mip
        Whether the model has integer variables.

    Returns
    -------
    SolveStatus
    """
    first = head.split()[0] if head.split() else ""
    if first == "Optimal":
        return SolveStatus.OPTIMAL
    if first in ("Infeasible", "Integer"):
        proven = not (is_mip and PREPROCESS_CLAIM in log)
        return SolveStatus.INFEASIBLE if proven else SolveStatus.NO_SOLUTION
    if first == "Unbounded":
        return SolveStatus.UNBOUNDED
    if first == "Stopped":
        obj_m = _NUM_RE.search(head)
        found = obj_m is not None and abs(float(obj_m.group(1))) < 1e49
        found = found and "no integer solution" not in head
        found = found and "No feasible solution" not in log
        return SolveStatus.FEASIBLE if found else SolveStatus.NO_SOLUTION
    return SolveStatus.ERROR


def _run_cbc(path: str, mps: Path, model: MatrixModel, options: SolverOptions,
             time_limit_s: float | None, *, preprocess: bool) -> tuple[list[str], str] | str:
    """Run the CBC binary on ``mps``: the solution file's lines and the log, or an error."""
    sol = mps.with_suffix(".sol")
    sol.unlink(missing_ok=True)
    args = [path, str(mps), "-timeMode", "elapsed"]
    if time_limit_s is not None:
        args += ["-sec", repr(float(time_limit_s))]
    if not preprocess:
        args += ["-preprocess", "off"]
    args += [
        "-ratioGap", repr(float(options.mip_gap)),
        "-threads", str(options.threads),
        "-randomSeed", str(options.seed + 1),
        "-randomCbcSeed", str(options.seed + 1),
        "-log", "1",
        "-solve" if model.is_mip else "-initialSolve",
        "-printingOptions", "all",
        "-solution", str(sol),
    ]  # fmt: skip
    proc = subprocess.run(
        args, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    log = proc.stdout + proc.stderr
    if options.verbose:
        sys.stderr.write(log)
    if proc.returncode != 0 or not sol.exists():
        return f"CBC exited with code {proc.returncode}: {log[-2000:]}"
    return sol.read_text().splitlines(), log


class PulpCbcBackend(Backend):
    """CBC 2.10 from PuLP's bundle, run as a subprocess on an MPS file."""

    name = "pulp-cbc"
    capabilities = Capabilities(supports_mip=True, supports_lp_duals=True)

    def is_available(self) -> bool:
        """Whether PuLP imports and its CBC binary exists."""
        return cbc_path() is not None

    def _solve(self, model: MatrixModel, options: SolverOptions) -> SolveResult:
        t0 = time.perf_counter()
        path = cbc_path()
        assert path is not None  # checked by Backend.solve
        sign = -1.0 if model.sense == "max" else 1.0
        with tempfile.TemporaryDirectory(prefix="reserve_opt_cbc_") as tmp:
            mps = write_mps(model, Path(tmp) / "model.mps")
            limit = options.time_limit_s
            run = _run_cbc(path, mps, model, options, limit, preprocess=True)
            if isinstance(run, str):
                return self._error(model, t0, run)
            lines, log = run
            if model.is_mip and PREPROCESS_CLAIM in log:
                # Pre-processing's "infeasible" is no proof (it says so when the time limit
                # interrupts it): a search without it, in the time left, gives the verdict.
                left = None if limit is None else max(limit - (time.perf_counter() - t0), 0.0)
                run = _run_cbc(path, mps, model, options, left, preprocess=False)
                if isinstance(run, str):
                    return self._error(model, t0, run)
                lines, log = run
                lines = [f"{lines[0] if lines else ''} (CBC's pre-processing gave up, which "
                         f"proves nothing; searched again without it)", *lines[1:]]
        return self._parse(model, lines, log, sign, t0)

    def _error(self, model: MatrixModel, t0: float, message: str) -> SolveResult:
        return make_result(model, status=SolveStatus.ERROR, solver=self.name,
                           seconds=time.perf_counter() - t0, message=message)

    def _parse(
        self, model: MatrixModel, lines: list[str], log: str, sign: float, t0: float
    ) -> SolveResult:
        head = lines[0] if lines else ""
        obj_m = _NUM_RE.search(head)
        sol_obj = float(obj_m.group(1)) if obj_m else math.nan
        status = cbc_status(head, log, is_mip=model.is_mip)
        x = np.zeros(model.num_variables)
        duals_kept: dict[int, float] = {}
        for line in lines[1:]:
            parts = line.split()
            if len(parts) < 4:
                continue
            if parts[0] == "**":
                parts = parts[1:]
            name = parts[1]
            if name[0] == "C":
                x[int(name[1:])] = float(parts[2])
            elif name[0] == "R":
                duals_kept[int(name[1:])] = float(parts[3])
        if status is SolveStatus.FEASIBLE and not model.is_mip and model.max_violation(x) > 1e-6:
            # a simplex stopped by its limit holds an iterate, not a feasible solution
            status = SolveStatus.NO_SOLUTION
        duals = None
        if not model.is_mip and status is SolveStatus.OPTIMAL:
            duals = np.zeros(model.num_constraints)
            rows = kept_rows(model)
            duals[rows] = [sign * duals_kept.get(int(i), 0.0) + 0.0 for i in rows]
        bound: float | None = None
        if status.has_solution:
            m = _BOUND_RE.search(log) or _PARTIAL_RE.search(log)
            if m:
                bound = sign * float(m.group(1))
            elif status is SolveStatus.OPTIMAL:
                bound = sign * sol_obj
        elif status is SolveStatus.NO_SOLUTION:
            m = _BOUND_RE.search(log) or _PARTIAL_RE.search(log)
            bound = sign * float(m.group(1)) if m else None
        return make_result(
            model,
            status=status,
            solver=self.name,
            seconds=time.perf_counter() - t0,
            bound=bound,
            x=x if status.has_solution else None,
            duals=duals,
            message=head,
        )

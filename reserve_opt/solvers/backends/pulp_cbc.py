"""CBC through PuLP: the CBC binary that PuLP bundles (``PULP_CBC_CMD``), fed an MPS file.

The matrix is written straight to free MPS (see :mod:`reserve_opt.solvers.mps`) instead
of building PuLP variable and constraint objects: on a 50,000-variable p-median model
that is several times faster and gives the same file CBC would read anyway. The
binary's solution file gives primal values and (for LPs) row duals; its log gives the
best bound when a limit stops the search.

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
            sol = Path(tmp) / "model.sol"
            args = [path, str(mps), "-timeMode", "elapsed"]
            if options.time_limit_s is not None:
                args += ["-sec", repr(float(options.time_limit_s))]
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
                return make_result(
                    model,
                    status=SolveStatus.ERROR,
                    solver=self.name,
                    seconds=time.perf_counter() - t0,
                    message=f"CBC exited with code {proc.returncode}: {log[-2000:]}",
                )
            lines = sol.read_text().splitlines()
        return self._parse(model, lines, log, sign, t0)

    def _parse(
        self, model: MatrixModel, lines: list[str], log: str, sign: float, t0: float
    ) -> SolveResult:
        head = lines[0] if lines else ""
        first = head.split()[0] if head else ""
        obj_m = _NUM_RE.search(head)
        sol_obj = float(obj_m.group(1)) if obj_m else math.nan
        if first == "Optimal":
            status = SolveStatus.OPTIMAL
        elif first in ("Infeasible", "Integer"):
            status = SolveStatus.INFEASIBLE
        elif first == "Unbounded":
            status = SolveStatus.UNBOUNDED
        elif first == "Stopped":
            found = "objective value" in head and abs(sol_obj) < 1e49
            found = found and "no integer solution" not in head
            found = found and "No feasible solution" not in log
            status = SolveStatus.FEASIBLE if found else SolveStatus.NO_SOLUTION
        else:
            status = SolveStatus.ERROR
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

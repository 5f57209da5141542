"""Solver options shared by every backend."""

from __future__ import annotations

import math
from dataclasses import dataclass

from reserve_opt.errors import InputError

#: Largest seed every backend takes (HiGHS, SCIP, CBC and CP-SAT read a signed 32-bit int).
MAX_SEED = 2**31 - 1


@dataclass(frozen=True, slots=True)
class SolverOptions:
    """Options passed through to whichever backend solves a model.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit in seconds, or ``None`` for no limit. When it runs out the
        best solution found so far and the best bound are returned
        (status ``FEASIBLE``), or status ``NO_SOLUTION`` if none was found.
    mip_gap
        Relative optimality gap at which a MIP solve may stop and report ``OPTIMAL``.
        The default 0 asks for a proof of optimality (up to the solver's own absolute
        tolerances, about 1e-6 to 1e-9).
    threads
        Number of threads. The default 1 keeps runs reproducible; some solvers
        (CP-SAT, CBC) are not deterministic with more threads. HiGHS via OR-Tools
        ignores this option (its thread count is a process-wide setting).
    seed
        Random seed handed to the solver. Same model + same seed + ``threads=1`` and no
        time limit gives the same answer.
    verbose
        Stream the solver's log to standard error.
    """

    time_limit_s: float | None = None
    mip_gap: float = 0.0
    threads: int = 1
    seed: int = 0
    verbose: bool = False

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.time_limit_s is not None and not (
            math.isfinite(self.time_limit_s) and self.time_limit_s > 0
        ):
            problems.append(
                f"time_limit_s must be a positive number of seconds or None, "
                f"got {self.time_limit_s!r}."
            )
        if not (math.isfinite(self.mip_gap) and self.mip_gap >= 0):
            problems.append(f"mip_gap must be a finite number >= 0, got {self.mip_gap!r}.")
        if int(self.threads) != self.threads or self.threads < 1:
            problems.append(f"threads must be a whole number >= 1, got {self.threads!r}.")
        if int(self.seed) != self.seed or not 0 <= self.seed <= MAX_SEED:
            problems.append(f"seed must be a whole number from 0 to {MAX_SEED}, got "
                            f"{self.seed!r}.")
        if problems:
            raise InputError(problems)

"""The one status enum every backend's answer is normalised to."""

from __future__ import annotations

from enum import StrEnum


class SolveStatus(StrEnum):
    """Outcome of a solve, the same for every backend.

    Attributes
    ----------
    OPTIMAL
        A solution proven optimal within the requested relative gap.
    FEASIBLE
        A limit (usually the time limit) stopped the solver with a solution in hand; its
        objective and the best bound are reported.
    INFEASIBLE
        The model has no feasible solution.
    UNBOUNDED
        The objective can be improved without limit.
    NO_SOLUTION
        A limit stopped the solver before it found any feasible solution; nothing is
        proven about whether one exists (never reported as ``INFEASIBLE``).
    ERROR
        The solver failed, or its answer could not be interpreted (see ``message``).
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        """Whether a status of this kind carries primal values."""
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)

    @property
    def sentence(self) -> str:
        """What the status means, for people: one clause without a full stop."""
        return _SENTENCES[self]


_SENTENCES = {
    SolveStatus.OPTIMAL: "proven optimal",
    SolveStatus.FEASIBLE: "the time limit stopped the solver with a solution in hand; the gap "
                          "bounds how far from optimal it may be",
    SolveStatus.INFEASIBLE: "proven infeasible: no solution exists",
    SolveStatus.UNBOUNDED: "unbounded: the objective improves without limit",
    SolveStatus.NO_SOLUTION: "no solution found within the time limit (none is proven not to "
                             "exist)",
    SolveStatus.ERROR: "the solver failed",
}

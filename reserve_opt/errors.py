"""Exceptions raised by reserve-opt.

Every error a user can cause by their input derives from :class:`InputError`, whose
message is one sentence that names the offending item and says how to fix it. The CLI
prints those messages (one line each) and exits with code 1, without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class ReserveOptError(Exception):
    """Base class of every exception raised on purpose by reserve-opt."""


class InputError(ReserveOptError):
    """Bad input: a file, table, row or value the user must fix.

    Parameters
    ----------
    problems
        One message per problem; each is a full sentence naming the offending item
        and what to do about it.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


class SolverError(ReserveOptError):
    """A solver is missing, crashed, or returned something unusable."""

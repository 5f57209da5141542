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


def shown(text: object, limit: int = 80) -> str:
    """``text`` fit to quote in a one-line message: printable and at most ``limit`` long.

    What a user's file or a parser's exception says can be long, span lines or hold control
    characters (a file that is not a table at all, e.g. ``/proc/self/environ``); messages
    quote it through this so they stay one short line that cannot carry a whole file.

    Parameters
    ----------
    text
        What to quote; ``str(text)`` is used.
    limit
        Most characters kept; longer text is cut and ends in ``...``.

    Returns
    -------
    str
        The text with each run of whitespace as one space and other unprintable
        characters as ``?``.
    """
    flat = " ".join(str(text).split())
    clean = "".join(ch if ch.isprintable() else "?" for ch in flat)
    return clean if len(clean) <= limit else clean[: max(limit - 3, 0)] + "..."

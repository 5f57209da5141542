"""Time and memory of one call, shared by the benchmark scripts (run as ``python bench/x.py``)."""

from __future__ import annotations

import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def measure(fn: Callable[[], T]) -> tuple[T, float, float]:
    """Return (result, seconds without tracemalloc, tracemalloc peak in MiB).

    ``fn`` runs twice: once timed, once traced, so tracing does not slow the timing.
    """
    gc.collect()
    t0 = time.perf_counter()
    res = fn()
    secs = time.perf_counter() - t0
    del res
    gc.collect()
    tracemalloc.start()
    res = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return res, secs, peak / 2**20


def maxrss_mib() -> float:
    """Peak resident set size of this process so far, MiB."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 1024

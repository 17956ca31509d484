"""Keep freed memory in the process instead of returning it to the system (glibc only).

The saddle-point solvers allocate and free arrays of 1–30 MB thousands of times per second. glibc
serves each from a fresh ``mmap`` and unmaps it on ``free``, so every allocation pays page faults on
first touch: measured on the λ_c(J_D = 0) root of ``python -m theory.phase_diagram``, 28 s of system
time for 46 s of user time. Raising the mmap threshold to its maximum (32 MiB on 64-bit) and the trim
threshold to 1 GiB makes those arrays reuse heap memory (0.3 s of system time, same results); the
cost is that the process keeps its peak heap. Commands (:func:`toolkit.cli.run`) and sweep workers
(:func:`toolkit.sweep.default_executor`) call :func:`retain_freed_memory` once; library users can too.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_MAX = 32 * 1024 * 1024          # glibc's largest mmap threshold on 64-bit (4 Mi * sizeof(long))
_TRIM = 1024 * 1024 * 1024

_done = False


def retain_freed_memory() -> bool:
    """Set glibc's mmap threshold to 32 MiB and its trim threshold to 1 GiB, once per process.

    Returns True when both settings were accepted; False (and nothing changed) off glibc.
    """
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM))
    return _done

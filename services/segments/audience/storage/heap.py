"""Give the C heap's free memory back to the system after a cold load.

Loading a million profiles makes and drops millions of small objects (the
documents as read); glibc keeps the freed pages, ~100 MB at 1M profiles, in
the process's resident memory until `malloc_trim` returns them. Elsewhere
(musl, macOS) there is no such call and this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc


def release_free_heap() -> bool:
    """True when glibc returned memory (or had none to return) to the system."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True

"""Keep glibc from returning large tensor buffers to the OS after every training step.

glibc's malloc serves blocks above its mmap threshold (at most 32 MiB when adapting) with fresh
``mmap`` pages and unmaps them on free, so every step of a convolutional network with large
activations pays page faults to zero tens of megabytes again: on 2 cores, LeNet at batch 256
spent a third of its time in the kernel. Raising the mmap and trim thresholds lets those
buffers be reused from the heap. Measured in docs/performance.md. A no-op where libc is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 30

_tuned = False


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds to 1 GiB (once); return whether it applied."""
    global _tuned
    if _tuned or not sys.platform.startswith("linux"):
        return _tuned
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    _tuned = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD))
    return _tuned

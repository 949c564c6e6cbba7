"""The C heap of a long-running worker: large blocks kept out of it, so that its memory stays flat.

glibc's malloc serves a block above its mmap threshold (128 KiB at first) with a mapping of its own, returned to
the system when freed; but on freeing such a block it raises the threshold to the block's size (up to 32 MiB). A
worker frees multi-megabyte blocks at every snapshot (the encoded state), so after the first one later blocks of
that size come from the heap, among small long-lived objects, and leave holes in it: the worker's RSS rose in
steps of ~20 MB over a long run. Setting the threshold explicitly turns that adjustment off (mallopt(3)).

Measured with bench/kafka.py (one run each): the restarted worker's RSS over 5x more history went
[181, 184, 183, 204, 204] MB with the adjustment and [155, 157, 157, 160, 162] MB without it; over 10x more, without
it, it stayed between 154 and 160 MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, kept


def keep_large_blocks_out_of_the_heap() -> bool:
    """Fix glibc's mmap threshold for this process; False where the C library is not glibc (nothing to do)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))

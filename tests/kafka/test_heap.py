"""A worker fixes glibc's mmap threshold: after a multi-megabyte block is freed (a snapshot's), blocks above 128 KiB
still get mappings of their own, given back when freed, instead of coming from the heap (processor/kafka/heap.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from pathlib import Path
if sys.argv[1] == "fixed":
    from processor.kafka.heap import keep_large_blocks_out_of_the_heap
    assert keep_large_blocks_out_of_the_heap()
def rss():
    return int(next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:")).split()[1])
big = b"x" * (16 << 20)  # served by a mapping; freeing it raises glibc's threshold to 16 MiB unless fixed
del big
before = rss()
blocks, kept = [], []
for n in range(200):  # 256 KiB blocks, each followed by a small block that stays (both from malloc)
    blocks.append(b"y" * (256 << 10))
    kept.append(b"z" * 1000 + bytes([n]))
del blocks
print(rss() - before)  # KiB still resident once the large blocks are freed
"""


def resident_after_freeing(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and /proc are Linux's")
def test_blocks_above_the_threshold_stay_out_of_the_heap_after_a_large_one_was_freed() -> None:
    # 200 blocks of 256 KiB = 51,200 KiB
    assert resident_after_freeing("default") > 40_000  # from the heap: the small blocks between pin it
    assert resident_after_freeing("fixed") < 5_000  # a mapping each, returned when freed

"""Resident memory as the tests measure it (Linux): the rise of the high-water mark.

glibc raises its mmap threshold each time a large block is freed, and then serves blocks
of that size from its heap, which it keeps: a copy made twice then shows only the first
time, and a test would depend on which tests ran before it. Fixing the threshold (as
``mallopt(M_MMAP_THRESHOLD, ...)`` does) makes every large block come and go with mmap;
``conftest.py`` fixes it before any test runs.
"""

import contextlib
import ctypes

_M_MMAP_THRESHOLD = -3


def fix_mmap_threshold() -> None:
    """From now on, glibc serves every block over 1 MiB by mmap and returns it when freed."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to fix
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 1 << 20)


def peak_growth(run) -> int:
    """Bytes by which the process's resident high-water mark rises during ``run()``."""

    def high_water_mark():
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    fix_mmap_threshold()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the mark restarts from what is resident now
    before = high_water_mark()
    run()
    return high_water_mark() - before


def anonymous_bytes() -> int:
    """The process's resident anonymous memory (heap, not file pages such as a memmap's)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("RssAnon:"))
    return int(line.split()[1]) * 1024


def peak_anonymous_growth(run, interval: float = 0.002) -> int:
    """Bytes by which resident anonymous memory rises at most during ``run()``, sampled
    every ``interval`` seconds by a thread (the kernel keeps no high-water mark of it)."""
    import threading

    fix_mmap_threshold()
    before = anonymous_bytes()
    peak, done = [before], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], anonymous_bytes())
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        run()
    finally:
        done.set()
        sampler.join()
    return max(peak[0], anonymous_bytes()) - before

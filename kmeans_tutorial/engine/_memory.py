"""Handing freed memory back to the operating system after a fit (glibc only).

glibc's ``malloc`` keeps freed blocks for reuse rather than returning them. A fit frees
XLA's buffers, the labels and the aligned copy of the data in scattered blocks, so each
further fit takes fresh pages and the process grows over repeated fits (docs/BENCHMARKS.md,
design choices: "six TF1 fits"). Orthanc calls ``malloc_trim`` for the same reason (its note:
https://orthanc.uclouvain.be/hg/orthanc/file/217863b09457/OrthancServer/Resources/ImplementationNotes/memory_consumption.txt).
"""

import ctypes
from collections.abc import Callable


def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` on a C library without it (musl, macOS)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _find_malloc_trim()


def return_freed_memory() -> None:
    """Give the pages of freed blocks back to the system; nothing without glibc."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)

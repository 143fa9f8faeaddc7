"""Handing NumPy data to TensorFlow without a copy.

TensorFlow works on a NumPy buffer in place only when the buffer is aligned to 64 bytes
(``EIGEN_MAX_ALIGN_BYTES``): a TF1 ``session.run`` then feeds it as it is (except on TF
2.18, which copies every fed array), and TF2 can wrap it through DLPack. Otherwise a feed
copies it on every ``session.run``, and ``tf.constant`` copies every array, aligned or not.
NumPy's large arrays usually start 16 bytes into a page, so they need one aligned copy;
this module makes it once per fit.

The cost of each copy avoided is measured in docs/BENCHMARKS.md (design choices: "TF1
feed" and "a TF2 tensor of X").
"""

import numpy as np
import numpy.typing as npt

ALIGNMENT = 64


def is_shareable(array: np.ndarray) -> bool:
    """Whether TensorFlow can use ``array``'s buffer in place (DLPack needs it writeable)."""
    return array.ctypes.data % ALIGNMENT == 0 and array.flags.c_contiguous and array.flags.writeable


def aligned_empty(shape: int | tuple[int, ...], dtype: npt.DTypeLike) -> np.ndarray:
    """An uninitialised C-ordered array whose data starts on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buffer = np.empty(nbytes + ALIGNMENT, dtype=np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT
    return buffer[start : start + nbytes].view(dtype).reshape(shape)


def shareable(array: np.ndarray) -> np.ndarray:
    """``array`` itself if TensorFlow can use it in place, else an aligned copy of it."""
    if is_shareable(array):
        return array
    copy = aligned_empty(array.shape, array.dtype)
    np.copyto(copy, array)
    return copy

"""Data reaches TensorFlow without a copy when it can (``kmeans_tutorial.estimator._sharing``)."""

import numpy as np
import pytest

from kmeans_tutorial.estimator._sharing import ALIGNMENT, is_shareable, shareable


def unaligned(shape, dtype=np.float32):
    """An array whose data starts 16 bytes past a 64-byte boundary (as NumPy's large ones)."""
    itemsize = np.dtype(dtype).itemsize
    size = int(np.prod(shape))
    buffer = np.empty(size * itemsize + 2 * ALIGNMENT, dtype=np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT + 16
    return buffer[start : start + size * itemsize].view(dtype).reshape(shape)


def test_an_aligned_array_is_used_as_it_is():
    X = shareable(unaligned((100, 3)))  # now aligned
    assert X.ctypes.data % ALIGNMENT == 0
    assert shareable(X) is X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_unaligned_array_is_copied_once_to_an_aligned_one(dtype):
    X = unaligned((100, 3), dtype)
    X[...] = np.arange(300).reshape(100, 3)
    assert not is_shareable(X)
    copy = shareable(X)
    assert is_shareable(copy) and copy.dtype == dtype
    assert not np.shares_memory(copy, X)
    np.testing.assert_array_equal(copy, X)


def test_a_read_only_array_is_copied_as_dlpack_cannot_share_it():
    X = shareable(np.ones((10, 2)))
    X.flags.writeable = False
    assert not is_shareable(X)
    assert shareable(X).flags.writeable


def test_tf2_computes_on_the_array_itself():
    """The TF2 core wraps X through DLPack: a change to X shows in its tensor."""
    from tf2_eager.kmeans import _EagerCore

    X = shareable(np.zeros((50, 2), dtype=np.float32))
    core = _EagerCore(X, np.ones(50, np.float32), np.zeros(2, np.float32))
    X[3, 1] = 7.0
    assert float(core.X[3, 1]) == 7.0


def test_tf1_feeds_the_array_itself():
    from tf1_graph.kmeans import _GraphCore

    X = shareable(np.zeros((50, 2), dtype=np.float32))
    core = _GraphCore(X, np.ones(50, np.float32), np.zeros(2, np.float32))
    assert core.feed[core.X] is X


def test_a_fit_gives_freed_memory_back(impl, monkeypatch):
    """Each fit ends by handing freed blocks back (``estimator._memory``), core released."""
    import kmeans_tutorial.estimator.base as estimator

    released = []
    monkeypatch.setattr(estimator, "return_freed_memory", lambda: released.append(True))
    X = np.random.RandomState(0).standard_normal((60, 2))
    impl.KMeans(3, n_init=2, random_state=0).fit(X)
    assert released == [True]


def test_return_freed_memory_runs_here():
    from kmeans_tutorial.estimator import _memory as memory

    memory.return_freed_memory()  # glibc here: the call itself must not fail
    assert memory._MALLOC_TRIM is not None or not __import__("sys").platform.startswith("linux")

"""Data reaches TensorFlow without a copy when it can (``kmeans_tutorial.engine.sharing``)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kmeans_tutorial.engine.sharing import ALIGNMENT, is_shareable, shareable

ROOT = Path(__file__).resolve().parents[2]


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
    from tf2_eager.engine.kmeans import _EagerCore

    X = shareable(np.zeros((50, 2), dtype=np.float32))
    core = _EagerCore(X, np.ones(50, np.float32), np.zeros(2, np.float32))
    X[3, 1] = 7.0
    assert float(core.X[3, 1]) == 7.0


FEED_PROBE = """
import json, sys
import numpy as np
sys.path[:0] = ["tests", "tests/engine"]
from measure import fix_mmap_threshold, peak_growth
from test_sharing import unaligned
from kmeans_tutorial.engine.sharing import shareable
from tf1_graph.engine.kmeans import _GraphCore

fix_mmap_threshold()
# 64 MiB of float32 in few, wide rows: the run's own arrays (labels, a distance a row) grow
# with the rows and stay far below a copy of X. (With 2**21 rows of 8, they came to 18 MiB
# where TensorFlow's allocator did not reuse the first run's blocks.)
n_rows, n_features = 2**18, 64
centers = np.random.RandomState(0).standard_normal((4, n_features)).astype(np.float32)
weights, offset = shareable(np.ones(n_rows, np.float32)), np.zeros(n_features, np.float32)
aligned_X = shareable(np.ones((n_rows, n_features), np.float32))
unaligned_X = unaligned((n_rows, n_features))
unaligned_X[...] = 1.0
aligned, other = _GraphCore(aligned_X, weights, offset), _GraphCore(unaligned_X, weights, offset)
aligned.labels_inertia(centers)  # compiles the op both cores share (one graph per shape)
print(json.dumps({
    "aligned": peak_growth(lambda: aligned.labels_inertia(centers)),
    "unaligned": peak_growth(lambda: other.labels_inertia(centers)),
}))
"""


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="Linux only")
def test_tf1_feeds_the_array_itself():
    """A TF1 core's run holds no copy of an aligned X (64 MiB); of an unaligned one, it does.

    In a process of its own: in one that has run other tests, a copy can land in memory
    that is already resident and not show. (TF 2.18's feeds copy every array: there both
    copy.)
    """
    import tensorflow as tf

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", FEED_PROBE], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    growth = json.loads(done.stdout.strip().splitlines()[-1])
    assert growth["unaligned"] > 48 * 2**20, growth
    if not tf.__version__.startswith("2.18."):
        # Both runs hold the program's own arrays (their size is XLA's choice, and differs
        # between CPUs); the unaligned one holds a copy of X besides.
        assert growth["unaligned"] - growth["aligned"] > 48 * 2**20, growth


def test_a_fit_gives_freed_memory_back(impl, monkeypatch):
    """Each fit ends by handing freed blocks back (``engine._memory``), core released."""
    from kmeans_tutorial.engine import kmeans

    released = []
    monkeypatch.setattr(kmeans, "return_freed_memory", lambda: released.append(True))
    X = np.random.RandomState(0).standard_normal((60, 2))
    impl.KMeans(3, n_init=2, random_state=0).fit(X)
    assert released == [True]


def test_return_freed_memory_runs_here():
    from kmeans_tutorial.engine import _memory as memory

    memory.return_freed_memory()  # glibc here: the call itself must not fail
    assert memory._MALLOC_TRIM is not None or not __import__("sys").platform.startswith("linux")

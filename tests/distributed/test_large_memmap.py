"""A fit on a 2.4 GiB ``.npy`` memmap grows anonymous memory by at most 512 MiB.

Each package fits in a fresh process (so the figure is the fit's, TensorFlow's start-up
included); the file is read in chunks by the page cache, never copied. Run by the nox
session ``distributed`` (``pytest tests/distributed``), once: writing the file takes a while.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

N_SAMPLES, N_FEATURES, N_CLUSTERS = 20_000_000, 32, 8  # 2.38 GiB of float32
LIMIT = 512 * 2**20

CHILD = """
import sys, numpy as np
sys.path.insert(0, {tests!r})
from measure import peak_anonymous_growth
import {package} as package
X = np.load({path!r}, mmap_mode="r")
estimator = package.{cls}({k}, random_state=0, max_iter=2)
growth = peak_anonymous_growth(lambda: estimator.fit(X))
assert estimator.labels_.shape == (len(X),)
print(growth)
"""


@pytest.fixture(scope="module")
def big_npy(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "X.npy"
    X = np.lib.format.open_memmap(path, "w+", np.float32, (N_SAMPLES, N_FEATURES))
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=10, size=(N_CLUSTERS, N_FEATURES)).astype(np.float32)
    for start in range(0, N_SAMPLES, 2_000_000):
        labels = rng.integers(0, N_CLUSTERS, 2_000_000)
        noise = rng.standard_normal((2_000_000, N_FEATURES), dtype=np.float32)
        X[start : start + 2_000_000] = centres[labels] + noise
    X.flush()
    del X
    assert path.stat().st_size > 2.3 * 2**30
    yield path
    path.unlink()


@pytest.mark.parametrize("cls", ["KMeans", "MiniBatchKMeans"])
@pytest.mark.parametrize("package", ["tf1_graph", "tf2_eager"])
def test_a_large_memmap_fit_stays_within_512_mib(big_npy, package, cls):
    import tf1_graph

    code = CHILD.format(
        tests=str(Path(__file__).parents[1]), package=package, path=str(big_npy), cls=cls,
        k=N_CLUSTERS,
    )  # fmt: skip
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": str(Path(tf1_graph.__file__).parents[1]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    growth = int(done.stdout.split()[-1])
    assert growth <= LIMIT, f"{growth / 2**20:.0f} MiB"

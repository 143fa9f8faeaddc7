"""Time k-means implementations against scikit-learn, each in its own process, and write
``docs/BENCHMARKS.md`` and ``docs/benchmarks.png``.

    python benchmarks/run.py [--repeats 5] [--quick]

For each (n, d, k), every implementation runs 10 Lloyd iterations from the same initial
centres on the same float32 data: the lesson's functions (TF1 graph, TF2 eager), the
``KMeans`` estimators (TF1, TF2) and scikit-learn's Lloyd. Each runs in a fresh process:
one warm-up, then the median of ``--repeats`` runs, and the process's peak memory (counted
from just after the data was made) above what it held before the data existed. The floor
is what the machine cannot beat: the bytes of ``X`` read once an iteration at the measured
memory bandwidth, or the distance matmul's flops at the measured matmul rate, whichever is
larger. Sparse data (``SPARSE_CONFIGS``, float64 CSR as a TF-IDF matrix comes) runs the
``KMeans`` estimators and scikit-learn alike; its memory target is the stored data (values,
column indices, row offsets) + 256 MiB. Needs scikit-learn (the peer) and scipy.

Writes its own section of ``docs/BENCHMARKS.md``; ``benchmarks/ablations.py`` writes another.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from kmeans_tutorial.engine._memory import return_freed_memory

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [(1500, 2, 3), (100_000, 2, 3), (1_000_000, 2, 3), (1_000_000, 32, 64),
           (200_000, 128, 256)]  # fmt: skip
IMPLEMENTATIONS = ["lesson-tf1", "lesson-tf2", "kmeans-tf1", "kmeans-tf2", "scikit-learn"]
# (n, d, k, density): a TF-IDF-like matrix, 1% of its entries stored.
SPARSE_CONFIGS = [(100_000, 10_000, 20, 0.01)]
SPARSE_IMPLEMENTATIONS = ["kmeans-tf1", "kmeans-tf2", "scikit-learn"]
ITERATIONS = 10
LESSON_MEMORY_LIMIT = 8 * 2**30  # the lesson's n x k x d tensor must fit, with some room


def rss_bytes() -> int:
    """Resident memory of this process now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak_rss() -> None:
    """Start the high-water mark afresh from the memory held now (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def peak_rss_bytes() -> int:
    """The high-water mark of resident memory since the last ``reset_peak_rss`` (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def make_data(n: int, d: int, k: int):
    """float32 blobs around k centres, and k distinct rows as the common start."""
    rng = np.random.RandomState(0)
    centres = rng.uniform(-10, 10, (k, d)).astype(np.float32)
    X = rng.standard_normal((n, d)).astype(np.float32) * 3
    X += centres[rng.randint(0, k, n)]
    init = X[rng.choice(n, k, replace=False)].copy()
    return X, init


def make_sparse_data(n: int, d: int, k: int, density: float):
    """A float64 CSR matrix with about ``density`` of its entries stored, and k of its rows
    (dense) as the common start. Built from its arrays: scipy.sparse.random is far slower."""
    from scipy import sparse

    rng = np.random.RandomState(0)
    per_row = rng.binomial(d, density, n)
    indptr = np.concatenate([[0], np.cumsum(per_row)])
    columns = np.concatenate([np.sort(rng.choice(d, m, replace=False)) for m in per_row])
    values = rng.exponential(size=len(columns))
    X = sparse.csr_matrix((values, columns.astype(np.int32), indptr), shape=(n, d))
    init = X[rng.choice(n, k, replace=False)].toarray()
    return X, init


def stored_bytes(X) -> int:
    """What a matrix holds: all of a dense one, the three arrays of a CSR one."""
    if hasattr(X, "indptr"):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def lesson_runner(impl: str):
    """The lesson's assign/update functions, iterated 10 times, as the lesson would."""
    import tensorflow as tf

    if impl == "lesson-tf2":
        from tf2_eager import assign_to_nearest, update_centroids

        def run(X, init):
            samples, centroids = tf.constant(X), tf.constant(init)
            for _ in range(ITERATIONS):
                labels = assign_to_nearest(samples, centroids)
                centroids = update_centroids(samples, labels, len(init))
            return centroids.numpy(), ITERATIONS

        return run
    from tf1_graph import assign_to_nearest, update_centroids

    v1 = tf.compat.v1
    built = {}

    def run(X, init):
        if "graph" not in built:  # build once (the warm-up), run many times
            graph = tf.Graph()
            with graph.as_default():
                samples = v1.placeholder(tf.float32, X.shape)
                centroids = start = v1.placeholder(tf.float32, init.shape)
                for _ in range(ITERATIONS):
                    labels = assign_to_nearest(samples, centroids)
                    centroids = update_centroids(samples, labels, len(init))
            built.update(graph=graph, fetch=centroids, inputs=(samples, start))
            built["session"] = v1.Session(graph=graph)
        samples, start = built["inputs"]
        result = built["session"].run(built["fetch"], {samples: X, start: init})
        return result, ITERATIONS

    return run


def estimator_runner(impl: str):
    if impl == "scikit-learn":
        from sklearn.cluster import KMeans
    elif impl == "kmeans-tf1":
        from tf1_graph import KMeans
    else:
        from tf2_eager import KMeans

    def run(X, init):
        model = KMeans(len(init), init=init, n_init=1, max_iter=ITERATIONS, tol=0.0)
        if impl == "scikit-learn":
            model.set_params(algorithm="lloyd")
        model.fit(X)
        return model.cluster_centers_, model.n_iter_

    return run


def child(impl: str, n: int, d: int, k: int, repeats: int, density: float = 0.0) -> dict:
    """Run one implementation on one configuration, in this (fresh) process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    run = lesson_runner(impl) if impl.startswith("lesson") else estimator_runner(impl)
    before = rss_bytes()
    X, init = make_sparse_data(n, d, k, density) if density else make_data(n, d, k)
    return_freed_memory()  # the temporaries' pages that malloc would keep
    reset_peak_rss()  # the data counts; the temporaries that made it do not
    run(X, init)  # warm-up: imports, graph building, tracing, XLA compilation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        centers, n_iter = run(X, init)
        times.append(time.perf_counter() - start)
    return {
        "impl": impl, "n": n, "d": d, "k": k, "median_s": statistics.median(times),
        "times_s": times, "peak_bytes": peak_rss_bytes() - before,
        "data_bytes": stored_bytes(X), "density": density,
        "n_iter": int(n_iter), "centers_sum": float(np.asarray(centers, np.float64).sum()),
    }  # fmt: skip


def floor_rates() -> dict:
    """Memory bandwidth (bytes/s, a large float32 sum) and matmul rate (flops/s, TF)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    big = np.ones(2**27, dtype=np.float32)  # 512 MiB
    big.sum()
    start = time.perf_counter()
    for _ in range(5):
        big.sum()
    bandwidth = 5 * big.nbytes / (time.perf_counter() - start)
    a = tf.random.normal((2048, 2048))
    tf.matmul(a, a).numpy()
    start = time.perf_counter()
    for _ in range(10):
        tf.matmul(a, a).numpy()
    rate = 10 * 2 * 2048**3 / (time.perf_counter() - start)
    return {"bandwidth": bandwidth, "matmul_flops": rate}


def floor_seconds(n, d, k, rates) -> float:
    data_time = ITERATIONS * n * d * 4 / rates["bandwidth"]
    if d <= 2:  # the work is reading the data
        return data_time
    return max(data_time, ITERATIONS * 2 * n * k * d / rates["matmul_flops"])


def in_subprocess(arguments: list[str], script: str = __file__) -> dict:
    """Run ``script`` with ``arguments`` in a fresh process; the JSON its last line prints."""
    done = subprocess.run(
        [sys.executable, script, *arguments],
        capture_output=True, text=True, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{arguments} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="only the two smallest configs")
    parser.add_argument("--child", nargs=4, metavar=("IMPL", "N", "D", "K"), help=argparse.SUPPRESS)
    parser.add_argument("--density", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        impl, *sizes = args.child
        print(json.dumps(child(impl, *map(int, sizes), args.repeats, args.density)))
        return
    if args.floor:
        print(json.dumps(floor_rates()))
        return
    rates = in_subprocess(["--floor"])
    print(f"memory bandwidth {rates['bandwidth'] / 1e9:.1f} GB/s, "
          f"matmul {rates['matmul_flops'] / 1e9:.1f} GFLOP/s", flush=True)  # fmt: skip
    rows = []
    for n, d, k in CONFIGS[:2] if args.quick else CONFIGS:
        for impl in IMPLEMENTATIONS:
            need = n * k * d * 4 * 1.1 + n * d * 4
            if impl.startswith("lesson") and need > LESSON_MEMORY_LIMIT:
                rows.append({"impl": impl, "n": n, "d": d, "k": k, "skipped_need": need})
                print(f"{impl:>13} n={n} d={d} k={k}: skipped, needs {need / 2**30:.1f} GiB")
                continue
            row = in_subprocess(["--child", impl, str(n), str(d), str(k),
                                 "--repeats", str(args.repeats)])  # fmt: skip
            rows.append(row)
            print(f"{impl:>13} n={n} d={d} k={k}: {row['median_s']:.3f} s, "
                  f"peak {row['peak_bytes'] / 2**20:.0f} MiB", flush=True)  # fmt: skip
    sparse_rows = []
    for n, d, k, density in SPARSE_CONFIGS:
        for impl in SPARSE_IMPLEMENTATIONS:
            row = in_subprocess(["--child", impl, str(n), str(d), str(k), "--density",
                                 str(density), "--repeats", str(args.repeats)])  # fmt: skip
            sparse_rows.append(row)
            print(f"{impl:>13} sparse n={n} d={d} k={k} density={density}: "
                  f"{row['median_s']:.3f} s, peak {row['peak_bytes'] / 2**20:.0f} MiB, "
                  f"stored {row['data_bytes'] / 2**20:.0f} MiB", flush=True)  # fmt: skip
    startup = startup_seconds()
    for command, seconds in startup.items():
        print(f"{command}: {seconds:.2f} s")
    from report import write_markdown, write_plot

    path = ROOT / "docs" / "BENCHMARKS.md"
    write_markdown(rows, rates, args.repeats, path, floor_seconds, startup, sparse_rows)
    write_plot(rows, ROOT / "docs" / "benchmarks.png")
    (ROOT / "docs" / "benchmarks.json").write_text(
        json.dumps({"rates": rates, "rows": rows, "sparse_rows": sparse_rows})
    )


def startup_seconds() -> dict:
    """Median wall time of fresh processes: the CLI's help, a bare TF import, the lesson."""
    commands = {
        "kmeans-tutorial --help": ["-m", "kmeans_tutorial", "--help"],
        "python -c 'import tensorflow'": ["-c", "import tensorflow"],
        "kmeans-tutorial run --no-plot": ["-m", "kmeans_tutorial", "run", "--no-plot"],
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    medians = {}
    for name, arguments in commands.items():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, *arguments], capture_output=True, env=env, check=True)
            times.append(time.perf_counter() - start)
        medians[name] = statistics.median(times)
    return medians


if __name__ == "__main__":
    main()

"""Data stored in order: streamed fits against the in-memory fit, and k-means|| against
k-means++; writes its section of docs/BENCHMARKS.md.

    python benchmarks/ordered.py [--seeds 10] [--no-write]

Each data set is made by a generator of ours and stored in an order no fit should depend on:
sorted by the blob a row was drawn from (``sorted``), or along its first feature
(``drift``: a slow change, as of day by day); the last is scikit-learn's ``make_blobs``.
Fits, ``random_state`` 0, 1, ...:

- ``KMeans`` in memory with k-means++ (the reference) and with k-means||;
- ``KMeans`` on the file as a memmap (k-means++ on rows read at random);
- ``KMeans`` on the rows as a ``tf.data`` dataset in stored order, from tensors and from a
  ``.npy`` file read by TensorFlow, with the default init (k-means||, 3 rounds) and with
  Spark's 2 rounds;
- ``MiniBatchKMeans`` on a dataset of 1,024-row batches, in stored order and shuffled.

Each ratio is a fit's inertia over the in-memory k-means++ fit's median over the seeds
(lower is better); the table gives the median and the worst over the seeds, the seconds of
the median fit (warm: every program of the data set's shapes compiled by a fit before), and
the passes over the data the init reads. The two packages give the same fits bit for bit
(``tests/engine/test_kmeans_parallel.py``), so ``tf2_eager``'s are measured.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

BATCH = 10_000
RECORD_ROWS = 1_000
# (name, n, d, k, order, seeds); MiniBatchKMeans is not run at k = 1,024, where its
# hundred passes of 1,024-row steps take minutes a fit.
DATASETS = [
    ("blobs-40", 200_000, 8, 40, "sorted", 10),
    ("blobs-64-drift", 200_000, 16, 64, "drift", 10),
    ("blobs-1024", 100_000, 16, 1024, "sorted", 3),
    ("sklearn-blobs-32", 100_000, 16, 32, "sorted", 10),
]
MINIBATCH_LARGEST_K = 64
MINIBATCH_ROWS = 1024


def make_data(name: str, n: int, d: int, k: int, order: str, seed: int = 0) -> np.ndarray:
    """``n`` rows of ``k`` Gaussian blobs (unit spread, centres uniform in a box sized so that
    blobs rarely touch; for a ``name`` starting with "sklearn", ``make_blobs``'), stored
    sorted by blob or along the first feature."""
    if name.startswith("sklearn"):  # scikit-learn's own blobs, overlapping a little
        from sklearn.datasets import make_blobs

        X, blob = make_blobs(n, d, centers=k, cluster_std=2.0, random_state=seed)
        return np.ascontiguousarray(X[np.argsort(blob, kind="stable")], dtype=np.float32)
    rng = np.random.default_rng(seed)
    side = 6.0 * k ** (1.0 / d) * 2
    centres = rng.uniform(-side, side, (k, d))
    blob = rng.integers(0, k, n)
    X = (centres[blob] + rng.standard_normal((n, d))).astype(np.float32)
    rows = np.argsort(blob, kind="stable") if order == "sorted" else np.argsort(X[:, 0])
    return np.ascontiguousarray(X[rows])


def file_dataset(path: str, n_features: int):
    """A ``.npy`` read by TensorFlow in stored order, ``RECORD_ROWS`` rows a record."""
    import tensorflow as tf

    X = np.load(path, mmap_mode="r")
    records = tf.data.FixedLengthRecordDataset(
        path, 4 * n_features * RECORD_ROWS, header_bytes=X.offset
    )
    return records.batch(BATCH // RECORD_ROWS).map(
        lambda raw: tf.reshape(tf.io.decode_raw(raw, tf.float32), [-1, n_features])
    )


def kmeans_fit(package, k: int, data, init: str, **params):
    """A fit of ``KMeans(k, init=init, **params)`` on ``data``: its inertia for a seed."""
    return lambda seed: package.KMeans(k, init=init, random_state=seed, **params).fit(data).inertia_


def minibatch_fit(package, k: int, data):
    """A fit of ``MiniBatchKMeans(k)`` on a dataset of ``MINIBATCH_ROWS``-row batches."""

    def fit(seed):
        model = package.MiniBatchKMeans(k, batch_size=MINIBATCH_ROWS, random_state=seed)
        return model.fit(data).inertia_

    return fit


def measure(fit, seeds: int):
    """(inertia, seconds) of ``fit(seed)`` for each seed, after a fit that compiles."""
    fit(0)
    results = []
    for seed in range(seeds):
        start = time.perf_counter()
        inertia = fit(seed)
        results.append((inertia, time.perf_counter() - start))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="at most this many seeds")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--only", nargs="*", help="these data sets (names) only")
    args = parser.parse_args()

    import tensorflow as tf

    import tf2_eager

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, n, d, k, order, seeds in DATASETS:
            if args.only and name not in args.only:
                continue
            X = make_data(name, n, d, k, order)
            path = str(Path(folder) / f"{name}.npy")
            np.save(path, X)
            memmap = np.load(path, mmap_mode="r")
            tensors = tf.data.Dataset.from_tensor_slices(X).batch(BATCH)
            files = file_dataset(path, d)
            shuffled = X[np.random.default_rng(1).permutation(n)]
            small, small_shuffled = (
                tf.data.Dataset.from_tensor_slices(data).batch(MINIBATCH_ROWS)
                for data in (X, shuffled)
            )

            kmeans = partial(kmeans_fit, tf2_eager, k)
            minibatch = partial(minibatch_fit, tf2_eager, k)
            spark = partial(kmeans_fit, tf2_eager, k, init_steps=2)
            fits = [
                ("KMeans, array in memory", "k-means++", kmeans(X, "k-means++"), "0"),
                ("KMeans, array in memory", "k-means||", kmeans(X, "k-means||"), "5"),
                ("KMeans, memmap", "k-means++ (random rows)", kmeans(memmap, "k-means++"), "0"),
                (
                    "KMeans, dataset of tensors",
                    "default (k-means||)",
                    kmeans(tensors, "k-means++"),
                    "6",
                ),
                (
                    "KMeans, dataset of tensors",
                    "k-means||, init_steps=2",
                    spark(tensors, "k-means||"),
                    "5",
                ),
                (
                    "KMeans, dataset of a file",
                    "default (k-means||)",
                    kmeans(files, "k-means++"),
                    "6",
                ),
                ("MiniBatchKMeans, dataset, shuffled", "default", minibatch(small_shuffled), "1"),
                ("MiniBatchKMeans, dataset, stored order", "default", minibatch(small), "1"),
            ]
            if k > MINIBATCH_LARGEST_K:
                fits = [fit for fit in fits if not fit[0].startswith("MiniBatch")]
            reference = None
            for label, init, fit, passes in fits:
                results = measure(fit, min(seeds, args.seeds))
                inertias = [inertia for inertia, _ in results]
                if reference is None:
                    reference = statistics.median(inertias)
                if label.startswith("MiniBatch") and "shuffled" in label:
                    mb_reference = statistics.median(inertias)
                ratios = [inertia / reference for inertia in inertias]
                row = {
                    "data": f"{name} ({n:,} x {d}, k = {k}, {order}; seeds 0-{len(results) - 1})",
                    "fit": label,
                    "init": init,
                    "median": statistics.median(ratios),
                    "worst": max(ratios),
                    "seconds": statistics.median(seconds for _, seconds in results),
                    "passes": passes,
                }
                if label.startswith("MiniBatch") and "stored" in label:
                    row["vs_shuffled"] = statistics.median(inertias) / mb_reference
                rows.append(row)
                print(row, flush=True)
    text = markdown(rows)
    print(text)
    if not args.no_write:
        from report import cpu_line, replace_section

        replace_section(
            ROOT / "docs" / "BENCHMARKS.md",
            "benchmarks/ordered.py",
            text.replace("{cpu}", cpu_line()),
        )


def markdown(rows: list) -> str:
    lines = [
        "## Data stored in order: `python benchmarks/ordered.py`",
        "",
        "{cpu}. Inertia over the in-memory k-means++ fit's median (lower is better), median "
        "and worst of the seeds; seconds of a warm fit (median); passes the init "
        "reads. MiniBatchKMeans in "
        "stored order is also given over the same fit on the rows shuffled.",
        "",
        "| data | fit | init | median | worst | s | init passes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        row = {key: value.replace("|", "\\|") if isinstance(value, str) else value
               for key, value in row.items()}  # fmt: skip
        extra = f" ({row['vs_shuffled']:.3f}x shuffled)" if "vs_shuffled" in row else ""
        lines.append(
            f"| {row['data']} | {row['fit']} | {row['init']} | {row['median']:.3f}{extra} | "
            f"{row['worst']:.3f} | {row['seconds']:.2f} | {row['passes']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Streamed fits and MiniBatchKMeans, measured; writes its section of docs/BENCHMARKS.md.

    python benchmarks/streaming.py [--repeats 3] [--no-write]

1. A Lloyd pass read from a memmap and from a ``tf.data`` dataset, against the same pass
   on an array in memory (warm: the second fit of a process), rows per second.
2. Anonymous memory of a fit on a 2.4 GiB ``.npy`` memmap (fresh process, TensorFlow's
   start-up included), for ``KMeans`` and ``MiniBatchKMeans`` in both packages.
3. ``MiniBatchKMeans`` at (1e6, 32, 64) against scikit-learn's: the first fit of a fresh
   process (compilation included) and the median of warm fits, with their inertia.

Every measurement runs in a fresh process, timed after the imports.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

PASS_SIZE = (4_000_000, 32, 16)
PASS_ITERATIONS = 10
BATCH = 65536
LARGE = (20_000_000, 32, 8)
MINIBATCH_SIZE = (1_000_000, 32, 64)


def _package(impl: str):
    import importlib

    return importlib.import_module({"tf1": "tf1_graph", "tf2": "tf2_eager"}[impl])


RECORD_ROWS = 1000  # rows a record of the file: tf.data's cost is per record


def _npy_dataset(path: str):
    """The ``.npy`` read by TensorFlow, ``RECORD_ROWS`` rows a record, in batches of
    ``BATCH // RECORD_ROWS`` records: a pipeline whose own cost is small beside a pass."""
    import tensorflow as tf

    X = np.load(path, mmap_mode="r")
    n_features = X.shape[1]
    assert len(X) % RECORD_ROWS == 0
    records = tf.data.FixedLengthRecordDataset(
        path, 4 * n_features * RECORD_ROWS, header_bytes=X.offset
    )
    batches = records.batch(BATCH // RECORD_ROWS).map(
        lambda raw: tf.reshape(tf.io.decode_raw(raw, tf.float32), [-1, n_features])
    )
    return batches.prefetch(2)


def child_pass(impl: str, source: str, path: str) -> dict:
    """Seconds a Lloyd pass takes, warm, on ``source``: array, memmap or dataset."""
    package = _package(impl)
    k = PASS_SIZE[2]
    X = {"array": lambda: np.load(path), "memmap": lambda: np.load(path, mmap_mode="r")}.get(
        source, lambda: _npy_dataset(path)
    )()
    init = np.load(path, mmap_mode="r")[:k].copy()

    def fit():
        model = package.KMeans(k, init=init, n_init=1, max_iter=PASS_ITERATIONS, tol=0.0)
        return model.fit(X)

    fit()  # compiles
    start = time.perf_counter()
    model = fit()
    seconds = time.perf_counter() - start
    passes = model.n_iter_ + (1 if source != "array" else 0)  # streams assign once more
    row = {"impl": impl, "source": source, "pass_s": seconds / passes, "n_iter": model.n_iter_}
    if source == "dataset":  # the pipeline alone: a pass that only reads
        start = time.perf_counter()
        for _ in X:
            pass
        row["read_s"] = time.perf_counter() - start
    return row


def child_memory(impl: str, cls: str, path: str) -> dict:
    from measure import peak_anonymous_growth

    package = _package(impl)
    X = np.load(path, mmap_mode="r")
    estimator = getattr(package, cls)(LARGE[2], random_state=0, max_iter=2)
    start = time.perf_counter()
    growth = peak_anonymous_growth(lambda: estimator.fit(X))
    return {"impl": impl, "cls": cls, "growth": growth, "seconds": time.perf_counter() - start}


def child_minibatch(impl: str, path: str, repeats: int) -> dict:
    if impl == "scikit-learn":
        from sklearn.cluster import MiniBatchKMeans
    else:
        MiniBatchKMeans = _package(impl).MiniBatchKMeans
    X = np.load(path)
    k = MINIBATCH_SIZE[2]
    times, models = [], []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        models.append(MiniBatchKMeans(k, random_state=0).fit(X))
        times.append(time.perf_counter() - start)
    return {
        "impl": impl,
        "first_s": times[0],
        "warm_s": statistics.median(times[1:]),
        "n_steps": int(models[0].n_steps_),
        "inertia": float(models[0].inertia_),
    }


def run_child(*arguments: str) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", *arguments], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def blobs(path: Path, n: int, d: int, k: int) -> Path:
    """Blobs written in blocks into a ``.npy`` (never whole in memory)."""
    if path.exists():
        return path
    X = np.lib.format.open_memmap(path, "w+", np.float32, (n, d))
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=10, size=(k, d)).astype(np.float32)
    for start in range(0, n, 1_000_000):
        rows = min(1_000_000, n - start)
        X[start : start + rows] = centres[rng.integers(0, k, rows)] + rng.standard_normal(
            (rows, d), dtype=np.float32
        )
    X.flush()
    return path


def markdown(passes: list, memory: list, minibatch: list, repeats: int) -> str:
    n, d, k = PASS_SIZE
    lines = [
        "## Streamed fits and MiniBatchKMeans: `python benchmarks/streaming.py`",
        "",
        f"### A Lloyd pass streamed against one in memory ({n:,} x {d} float32, k = {k})",
        "",
        f"`KMeans(init=..., max_iter={PASS_ITERATIONS}, tol=0).fit(X)`, the second fit of a "
        "process; seconds a pass (a streamed fit makes one more pass, to assign). The "
        f"dataset is the `.npy` read by `FixedLengthRecordDataset`, {RECORD_ROWS:,} rows a "
        f"record, in batches of {BATCH // RECORD_ROWS * RECORD_ROWS:,} rows; reading it "
        "alone (no fit) is the last column.",
        "",
        "| impl | in memory | memmap | dataset | memmap / in memory | dataset / in memory "
        "| reading the dataset alone |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    read = {row["impl"]: row["read_s"] for row in passes if row["source"] == "dataset"}
    for impl in ("tf2", "tf1"):
        by = {row["source"]: row["pass_s"] for row in passes if row["impl"] == impl}
        rate = {source: n / seconds / 1e6 for source, seconds in by.items()}
        lines.append(
            f"| {impl} | {by['array']:.3f} s ({rate['array']:.0f} M rows/s) | "
            f"{by['memmap']:.3f} s ({rate['memmap']:.0f} M rows/s) | "
            f"{by['dataset']:.3f} s ({rate['dataset']:.0f} M rows/s) | "
            f"{by['memmap'] / by['array']:.2f} | {by['dataset'] / by['array']:.2f} | "
            f"{read[impl]:.3f} s |"
        )
    n, d, k = LARGE
    lines += [
        "",
        f"### A 2.4 GiB memmap ({n:,} x {d} float32, k = {k}, `max_iter=2`)",
        "",
        "Growth of resident anonymous memory during `fit` in a fresh process (sampled every "
        "2 ms; TensorFlow's runtime and compilation included), and the fit's seconds.",
        "",
        "| impl | estimator | anonymous memory | limit | seconds |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in memory:
        lines.append(
            f"| {row['impl']} | {row['cls']} | {row['growth'] / 2**20:.0f} MiB | 512 MiB | "
            f"{row['seconds']:.1f} |"
        )
    n, d, k = MINIBATCH_SIZE
    reference = next(row for row in minibatch if row["impl"] == "scikit-learn")
    lines += [
        "",
        f"### MiniBatchKMeans at ({n:,}, {d}, {k}), `MiniBatchKMeans({k}, random_state=0)`",
        "",
        f"First fit of a fresh process and the median of {repeats} more; inertia of the first.",
        "",
        "| impl | first fit | warm fit | x scikit-learn (first / warm) | steps | inertia "
        "/ scikit-learn's |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in minibatch:
        lines.append(
            f"| {row['impl']} | {row['first_s']:.2f} s | {row['warm_s']:.2f} s | "
            f"{row['first_s'] / reference['first_s']:.2f} / "
            f"{row['warm_s'] / reference['warm_s']:.2f} | {row['n_steps']} | "
            f"{row['inertia'] / reference['inertia']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    if "--child" in sys.argv:
        task, *rest = sys.argv[sys.argv.index("--child") + 1 :]
        function = {"pass": child_pass, "memory": child_memory, "minibatch": child_minibatch}
        if task == "minibatch":
            rest[-1] = int(rest[-1])
        print(json.dumps(function[task](*rest)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = str(blobs(folder / "pass.npy", *PASS_SIZE))
        passes = [
            run_child("pass", impl, source, path)
            for impl in ("tf2", "tf1")
            for source in ("array", "memmap", "dataset")
        ]
        for row in passes:
            print(row, flush=True)
        path = str(blobs(folder / "minibatch.npy", *MINIBATCH_SIZE))
        minibatch = [
            run_child("minibatch", impl, path, str(args.repeats))
            for impl in ("scikit-learn", "tf2", "tf1")
        ]
        for row in minibatch:
            print(row, flush=True)
        path = str(blobs(folder / "large.npy", *LARGE))
        memory = [
            run_child("memory", impl, cls, path)
            for cls in ("KMeans", "MiniBatchKMeans")
            for impl in ("tf2", "tf1")
        ]
        for row in memory:
            print(row, flush=True)
    text = markdown(passes, memory, minibatch, args.repeats)
    print(text)
    if not args.no_write:
        from report import replace_section

        replace_section(ROOT / "docs" / "BENCHMARKS.md", "benchmarks/streaming.py", text)


if __name__ == "__main__":
    main()

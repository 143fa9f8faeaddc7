"""Per-pass time of a fit at 1 and 2 workers, and what they exchange; writes docs/BENCHMARKS.md's
measured section.

    python benchmarks/scaling.py [--no-write]

Each configuration fits ``KMeans(k, init=..., tol=0)`` on uniform random data read from a
``.npy`` by ``tf.data`` (``tests/distributed/distributed_worker.py``, a batch a record), twice, with
``max_iter`` 2 and 12, each in fresh processes; a pass's time is the difference over 10
passes, so start-up, tracing and the final assignment cancel out. The clusters run on
127.0.0.1 in a network namespace of their own
(``tests/distributed/distributed_cluster.py``). Bytes are counted from the shapes of what
each global batch all-reduces and all-gathers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from report import replace_section

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests" / "distributed"
N_SAMPLES, N_FEATURES, N_CLUSTERS, BATCH = 2_000_000, 32, 64, 50_000
SINGLE = ("single", "tf1-single")
CONFIGS = [  # (label, mode, processes)
    ("tf2, 1 process", "single", 1),
    ("tf2, MirroredStrategy, 2 logical CPUs", "mirrored", 1),
    ("tf2, MultiWorkerMirroredStrategy, 2 workers", "multi-worker", 2),
    ("tf1, 1 process", "tf1-single", 1),
    ("tf1, train.Server cluster, 2 workers", "tf1-cluster", 2),
]


def fit_seconds(mode: str, processes: int, data: Path, folder: Path, max_iter: int) -> float:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    flags = [f"--batch={BATCH}", f"--clusters={N_CLUSTERS}", f"--max_iter={max_iter}"]
    folder.mkdir(parents=True, exist_ok=True)
    if processes == 1:
        out = folder / "worker0.npz"
        command = [sys.executable, str(TESTS / "distributed_worker.py"), mode, str(data), str(out)]
    else:
        command = ["unshare", "-rn", sys.executable, str(TESTS / "distributed_cluster.py"),
                   str(processes), "900", mode, str(data), str(folder)]  # fmt: skip
    subprocess.run([*command, *flags], env=env, check=True, capture_output=True)
    return max(float(np.load(folder / f"worker{i}.npz")["seconds"]) for i in range(processes))


def exchanged_bytes(mode: str, workers: int) -> int:
    """Bytes sent between processes (or devices) in a pass after the first: each global
    batch's per-cluster sums and weights, inertia, rows and count of bad values (float32,
    int32), all-reduced by TF2; TF1's tasks send theirs, and their rows' labels (int32),
    to the chief. A pass that leaves a cluster empty also gathers k farthest rows a
    replica (not counted: rare)."""
    k = N_CLUSTERS
    batches = -(-N_SAMPLES // BATCH)
    if mode == "tf1-cluster":
        others = workers - 1
        return batches * others * 4 * (k * N_FEATURES + k + 3) + 4 * N_SAMPLES * others // workers
    return batches * 4 * (k * N_FEATURES + k + 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        data = folder / "uniform.npy"
        X = np.lib.format.open_memmap(data, "w+", np.float32, (N_SAMPLES, N_FEATURES))
        X[:] = np.random.default_rng(0).random((N_SAMPLES, N_FEATURES), dtype=np.float32)
        X.flush()
        del X
        for label, mode, processes in CONFIGS:
            short = fit_seconds(mode, processes, data, folder / f"{mode}-2", 2)
            long = fit_seconds(mode, processes, data, folder / f"{mode}-12", 12)
            rows.append((label, mode, (long - short) / 10))
            print(label, rows[-1][2], flush=True)
    batches = -(-N_SAMPLES // BATCH)
    lines = [
        f"Measured on this machine (2 cores): {N_SAMPLES:,} x {N_FEATURES} float32 (uniform), "
        f"k = {N_CLUSTERS}, global batches of {BATCH:,} rows ({batches} a pass).",
        "",
        "| configuration | seconds a pass | x one process | sent between replicas a pass |",
        "| --- | --- | --- | --- |",
    ]
    single = {"tf2": rows[0][2], "tf1": rows[3][2]}
    for label, mode, seconds in rows:
        sent = f"{exchanged_bytes(mode, 2) / 1024:,.0f} KiB" if mode not in SINGLE else "none"
        lines.append(f"| {label} | {seconds:.3f} s | {seconds / single[label[:3]]:.2f} | {sent} |")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        heading = "## Scaling out: `python benchmarks/scaling.py`\n\n"
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "benchmarks/scaling.py", heading + text)


if __name__ == "__main__":
    main()

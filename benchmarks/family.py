"""scikit-learn's k-means family here against scikit-learn's own: ``algorithm="elkan"``
against ``"lloyd"``, and ``BisectingKMeans``.

    python benchmarks/family.py [--repeats 3] [--no-write]

Every measurement runs in a fresh process of its own, its times taken after the imports:
the process's first fit (compilation and all), then the median of ``--repeats`` warm fits.

- **elkan**: ``KMeans(k, init=C, n_init=1)`` (default ``tol``) from the same ``k`` random
  rows ``C``, ``algorithm="lloyd"`` and ``"elkan"``, on float32 ``make_blobs(n, d,
  centers=k, cluster_std=s, random_state=0)``: well separated (``s = 1``) and overlapping
  (``s = 4``), at three shapes. Iterations are reported: elkan's are Lloyd's.
- **BisectingKMeans** with its defaults (``init="random"``, ``random_state=0``) at k = 16
  and 256 on ``make_blobs(100_000, 16, centers=k)``, and the inertia against
  scikit-learn's.

Writes its section of ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import replace_section  # noqa: E402
from run import in_subprocess  # noqa: E402

ELKAN_SIZES = [(200_000, 16, 64), (100_000, 64, 256), (300_000, 2, 8)]
SPREADS = {"separated": 1.0, "overlapping": 4.0}
BISECTING_SIZES = [(100_000, 16, 16), (100_000, 16, 256)]
IMPLS = ["scikit-learn", "tf2", "tf1"]


def estimator(impl: str, name: str):
    if impl == "scikit-learn":
        import sklearn.cluster as module
    elif impl == "tf2":
        import tf2_eager as module
    else:
        import tf1_graph as module
    return getattr(module, name)


def child(task: str, impl: str, path: str, option: str, repeats: int) -> dict:
    """One process's measurement: its first fit, then ``repeats`` warm ones."""
    X = np.load(path)
    if task == "elkan":
        k = int(option.split(":")[1])
        init = X[np.random.RandomState(1).choice(len(X), k, replace=False)]
        algorithm = option.split(":")[0]
        cls = estimator(impl, "KMeans")

        def fit():
            return cls(k, init=init, n_init=1, algorithm=algorithm).fit(X)

    else:
        k = int(option)
        cls = estimator(impl, "BisectingKMeans")

        def fit():
            return cls(k, random_state=0).fit(X)

    start = time.perf_counter()
    fitted = fit()
    first = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        fit()
        warm.append(time.perf_counter() - start)
    return {
        "first": first,
        "warm": statistics.median(warm),
        "inertia": float(fitted.inertia_),
        "n_iter": int(getattr(fitted, "n_iter_", 0)),
    }


def data_file(directory: Path, n: int, d: int, k: int, spread: float) -> Path:
    from sklearn.datasets import make_blobs

    path = directory / f"blobs_{n}_{d}_{k}_{spread}.npy"
    if not path.exists():
        X, _ = make_blobs(n, d, centers=k, cluster_std=spread, random_state=0)
        np.save(path, X.astype(np.float32))
    return path


def measure(args, task, impl, path, option) -> dict:
    row = in_subprocess(
        ["--child", task, impl, str(path), option, "--repeats", str(args.repeats)],
        script=__file__,
    )
    print(task, impl, path.name, option, json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, impl, path, option = args.child
        print(json.dumps(child(task, impl, path, option, args.repeats)))
        return
    elkan, bisecting = [], []
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        for n, d, k in ELKAN_SIZES:
            for spread_name, spread in SPREADS.items():
                path = data_file(directory, n, d, k, spread)
                row = {"shape": (n, d, k), "data": spread_name}
                for impl in ("scikit-learn", "tf2"):
                    for algorithm in ("lloyd", "elkan"):
                        row[impl, algorithm] = measure(
                            args, "elkan", impl, path, f"{algorithm}:{k}"
                        )
                elkan.append(row)
        for n, d, k in BISECTING_SIZES:
            path = data_file(directory, n, d, k, 1.0)
            bisecting.append(
                {
                    "shape": (n, d, k),
                    **{impl: measure(args, "bisect", impl, path, str(k)) for impl in IMPLS},
                }
            )
    text = markdown(elkan, bisecting, args.repeats)
    print(text)
    if not args.no_write:
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "benchmarks/family.py", text)


def markdown(elkan: list[dict], bisecting: list[dict], repeats: int) -> str:
    lines = [
        "## scikit-learn's family: elkan and BisectingKMeans",
        "",
        f"`python benchmarks/family.py` (warm: the median of {repeats} fits after the "
        "process's first).",
        "",
        '### `algorithm="elkan"` against `"lloyd"`, from the same start',
        "",
        "| (n, d, k) | data | iterations | scikit-learn lloyd / elkan | tf2 lloyd / elkan "
        "| tf2 elkan speed-up | tf2 first fit lloyd / elkan |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in elkan:
        n, d, k = row["shape"]
        sk_l, sk_e = row["scikit-learn", "lloyd"], row["scikit-learn", "elkan"]
        tf_l, tf_e = row["tf2", "lloyd"], row["tf2", "elkan"]
        lines.append(
            f"| ({n:,}, {d}, {k}) | {row['data']} | {tf_l['n_iter']} / {tf_e['n_iter']} "
            f"| {sk_l['warm']:.2f} / {sk_e['warm']:.2f} s "
            f"| {tf_l['warm']:.2f} / {tf_e['warm']:.2f} s "
            f"| {tf_l['warm'] / tf_e['warm']:.2f}x "
            f"| {tf_l['first']:.2f} / {tf_e['first']:.2f} s |"
        )
    lines += [
        "",
        "### `BisectingKMeans`, defaults, `make_blobs(100,000, 16, centers=k)`",
        "",
        "| k | scikit-learn first / warm | tf2 first / warm | tf1 first / warm "
        "| tf2 / scikit-learn warm | inertia tf2 / scikit-learn |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in bisecting:
        k = row["shape"][2]
        sk, two, one = row["scikit-learn"], row["tf2"], row["tf1"]
        lines.append(
            f"| {k} | {sk['first']:.2f} / {sk['warm']:.2f} s "
            f"| {two['first']:.2f} / {two['warm']:.2f} s "
            f"| {one['first']:.2f} / {one['warm']:.2f} s "
            f"| {two['warm'] / sk['warm']:.2f}x | {two['inertia'] / sk['inertia']:.3f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""scikit-learn's k-means family here against scikit-learn's own: ``algorithm="elkan"``
against ``"lloyd"``, and ``BisectingKMeans``.

    python benchmarks/family.py [--repeats 3] [--no-write]

Every measurement runs in a fresh process of its own, its times taken after the imports:
the process's first fit (compilation and all), then the median of ``--repeats`` warm fits.

- **elkan**: ``KMeans(k, init=C, n_init=1)`` (default ``tol``) from the same ``k`` random
  rows ``C``, ``algorithm="lloyd"`` and ``"elkan"``, on float32 ``make_blobs(n, d,
  centers=k, cluster_std=s, random_state=0)``: well separated (``s = 1``) and overlapping
  (``s = 4``), at three shapes. Warm fits of both alternate in one process; each first
  fit has a process of its own. Iterations are reported: elkan's are Lloyd's.
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
SPREADS = {"separated (std 1)": 1.0, "overlapping (std 4)": 4.0}
BISECTING_SIZES = [(100_000, 16, 16), (100_000, 16, 256)]
IMPLS = ["scikit-learn", "tf2", "tf1"]
ALGORITHMS = ("lloyd", "elkan")


def estimator(impl: str, name: str):
    if impl == "scikit-learn":
        import sklearn.cluster as module
    elif impl == "tf2":
        import tf2_eager as module
    else:
        import tf1_graph as module
    return getattr(module, name)


def child(task: str, impl: str, path: str, option: str, repeats: int) -> dict:
    """One process's measurement. ``bisect``: its first fit, then ``repeats`` warm ones.
    ``elkan``, option ``first:ALGORITHM:K``: the process's first fit alone; option
    ``warm:K``: both algorithms warmed up, then ``repeats`` fits of each, alternating, so
    that both meet the same machine (its speed drifts between processes)."""
    X = np.load(path)
    if task == "bisect":
        k = int(option)
        cls = estimator(impl, "BisectingKMeans")

        def fit():
            return cls(k, random_state=0).fit(X)

        first, fitted = timed(fit)
        warm = statistics.median(timed(fit)[0] for _ in range(repeats))
        return {"first": first, "warm": warm, "inertia": float(fitted.inertia_)}
    k = int(option.rsplit(":", 1)[1])
    init = X[np.random.RandomState(1).choice(len(X), k, replace=False)]
    cls = estimator(impl, "KMeans")

    def fit(algorithm):
        return cls(k, init=init, n_init=1, algorithm=algorithm).fit(X)

    if option.startswith("first:"):
        first, fitted = timed(lambda: fit(option.split(":")[1]))
        return {"first": first, "n_iter": int(fitted.n_iter_)}
    fitted = {algorithm: fit(algorithm) for algorithm in ALGORITHMS}  # warm-up
    times: dict[str, list[float]] = {algorithm: [] for algorithm in ALGORITHMS}
    for _ in range(repeats):
        for algorithm in ALGORITHMS:
            times[algorithm].append(timed(lambda: fit(algorithm))[0])  # noqa: B023
    return {
        **{algorithm: statistics.median(times[algorithm]) for algorithm in ALGORITHMS},
        "n_iter": [int(fitted[algorithm].n_iter_) for algorithm in ALGORITHMS],
        "same": bool(np.array_equal(fitted["lloyd"].labels_, fitted["elkan"].labels_)),
    }


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


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
    parser.add_argument("--repeats", type=int, default=5)
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
                    row[impl] = measure(args, "elkan", impl, path, f"warm:{k}")
                for algorithm in ALGORITHMS:
                    option = f"first:{algorithm}:{k}"
                    row["first", algorithm] = measure(args, "elkan", "tf2", path, option)
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
        f"`python benchmarks/family.py --repeats {repeats}`: float32 data, each measurement "
        "a fresh process, times after the imports. elkan against lloyd: warm fits of both "
        f"algorithms in one process, alternating, the median of {repeats} each (this "
        "machine's speed drifts by up to 1.5x between processes); first fits, each in a "
        "process of its own. Bisecting: the first fit, then the median of "
        f"{repeats} warm ones.",
        "",
        '### `algorithm="elkan"` against `"lloyd"`, from the same start',
        "",
        "| (n, d, k) | data | iterations lloyd / elkan | scikit-learn lloyd / elkan "
        "| its speed-up | tf2 lloyd / elkan | tf2 speed-up | tf2 first fit lloyd / elkan |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in elkan:
        n, d, k = row["shape"]
        theirs, ours = row["scikit-learn"], row["tf2"]
        iterations = " / ".join(map(str, ours["n_iter"])) + (
            "" if ours["same"] else " (labels differ)"
        )
        lines.append(
            f"| ({n:,}, {d}, {k}) | {row['data']} | {iterations} "
            f"| {theirs['lloyd']:.2f} / {theirs['elkan']:.2f} s "
            f"| {theirs['lloyd'] / theirs['elkan']:.2f}x "
            f"| {ours['lloyd']:.2f} / {ours['elkan']:.2f} s "
            f"| {ours['lloyd'] / ours['elkan']:.2f}x "
            f"| {row['first', 'lloyd']['first']:.2f} / {row['first', 'elkan']['first']:.2f} s |"
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

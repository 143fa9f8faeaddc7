"""k-means as users run it: a sweep over ``n_clusters``, cross-validation folds, large k.

    python benchmarks/workflows.py [--sizes 100000,16 ...] [--tasks sweep folds large_k seeding]
                                   [--cache DIR]

Needs the ``bench`` extra. Data: float32 ``make_blobs(n, d, centers=8, random_state=0)``
(for large k, ``centers=64``). Each implementation runs each workflow in a fresh process
of its own, timed after the imports, so the time includes whatever the first fits of the
process trace and compile:

- **sweep**: ``KMeans(k, random_state=0).fit(X)`` for k = 2..20, the defaults otherwise
  (k-means++, ``n_init="auto"``), as an elbow or silhouette plot is made;
- **folds**: ``KMeans(8, random_state=0).fit(X[: n - f * n // 100])`` for f = 1..5, five
  training sets of nearby sizes, as cross-validation makes them;
- **large k**: 10 Lloyd iterations from the same given centres (``tol=0``) at k = 4,096
  and 16,384, the first fit and the second; peak memory above what the process held
  before it loaded X;
- **seeding at large k**: ``kmeans_plusplus(X, k, random_state=0)`` at k = 4,096, one
  call, its program's compilation included (faiss has no k-means++; scikit-learn's is the
  peer), and the inertia of the chosen centres.

With ``--cache DIR``, each of our packages runs the sweep and the folds twice more with XLA's
persistent compilation cache in DIR (``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory``):
the first process fills the cache, the second finds its programs there (the "cached"
columns), as a user's next process would if the cache were on.

The summed inertia of each workflow is compared with scikit-learn's. Writes its section of
``docs/BENCHMARKS.md`` and ``docs/workflows.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from peers import ITERATIONS, blobs_file, inertia_of, lloyd_runner, load  # noqa: E402
from report import cpu_line, replace_section  # noqa: E402
from run import in_subprocess, peak_rss_bytes, reset_peak_rss, rss_bytes  # noqa: E402

SIZES = [(100_000, 16), (1_000_000, 32)]
SWEEP = range(2, 21)
FOLDS = range(1, 6)
FOLD_CLUSTERS = 8
LARGE_K_SIZE = (100_000, 64)
LARGE_KS = [4096, 16384]
# k-means++ at 16,384 would take scikit-learn about 8 minutes (108 s at 4,096 here).
SEEDING_KS = [4096]
IMPLS = {
    "sweep": ["scikit-learn", "sklearn-intelex", "tf2", "tf1"],
    "folds": ["scikit-learn", "sklearn-intelex", "tf2", "tf1"],
    "large_k": ["scikit-learn", "faiss", "tf2", "tf1"],
    "seeding": ["scikit-learn", "tf2", "tf1"],
}
LARGE_K_TASKS = ("large_k", "seeding")


def child(task: str, impl: str, path: str, k: int) -> dict:
    """One workflow of one implementation, in this (fresh) process."""
    if impl == "faiss":
        import faiss  # noqa: F401 (before the data, as the others' imports)
    KMeans, kmeans_plusplus = load(impl)
    before = rss_bytes()
    X = np.load(path)
    reset_peak_rss()
    row: dict = {"task": task, "impl": impl, "k": k}
    start = time.perf_counter()
    if task == "sweep":
        models = [KMeans(n_clusters=k, random_state=0).fit(X) for k in SWEEP]
        row["seconds"] = time.perf_counter() - start
        row["peak_bytes"] = peak_rss_bytes() - before  # before inertia_of's own blocks
        row["inertia"] = sum(inertia_of(X, model.cluster_centers_) for model in models)
    elif task == "folds":
        ends = [len(X) - f * len(X) // 100 for f in FOLDS]
        models = [KMeans(n_clusters=FOLD_CLUSTERS, random_state=0).fit(X[:end]) for end in ends]
        row["seconds"] = time.perf_counter() - start
        row["peak_bytes"] = peak_rss_bytes() - before
        row["inertia"] = sum(
            inertia_of(X[:end], model.cluster_centers_)
            for model, end in zip(models, ends, strict=True)
        )
    elif task == "seeding":
        centers, _ = kmeans_plusplus(X, k, random_state=0)
        row["seconds"] = time.perf_counter() - start
        row["peak_bytes"] = peak_rss_bytes() - before
        row["inertia"] = inertia_of(X, np.asarray(centers))
    else:
        init = X[np.random.RandomState(1).choice(len(X), k, replace=False)].copy()
        run = lloyd_runner(impl, KMeans, X, init)
        run()
        row["first_s"] = time.perf_counter() - start
        start = time.perf_counter()
        centers = run()
        row["seconds"] = time.perf_counter() - start
        row["peak_bytes"] = peak_rss_bytes() - before
        row["inertia"] = inertia_of(X, np.asarray(centers))
    row["data_bytes"] = X.nbytes
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", help="n,d pairs for sweep and folds")
    parser.add_argument("--tasks", nargs="*", default=list(IMPLS), choices=list(IMPLS))
    parser.add_argument("--impls", nargs="*", help="only these implementations")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--cache", help="also run ours with XLA's persistent cache in this dir")
    parser.add_argument("--child", nargs=4, metavar=("TASK", "IMPL", "PATH", "K"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.child:
        task, impl, path, k = args.child
        print(json.dumps(child(task, impl, path, int(k))))
        return
    sizes = [tuple(map(int, s.split(","))) for s in args.sizes] if args.sizes else SIZES
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        runs = []
        for task in args.tasks:
            if task in LARGE_K_TASKS:
                n, d = LARGE_K_SIZE
                path = blobs_file(Path(directory), n, d, 64)
                ks = LARGE_KS if task == "large_k" else SEEDING_KS
                runs += [(task, n, d, k, path) for k in ks]
            else:
                for n, d in sizes:
                    path = blobs_file(Path(directory), n, d, FOLD_CLUSTERS)
                    runs.append((task, n, d, 0, path))
        for task, n, d, k, path in runs:
            for impl in IMPLS[task]:
                if args.impls and impl not in args.impls:
                    continue
                row = in_subprocess(["--child", task, impl, str(path), str(k)], script=__file__)
                row.update(n=n, d=d)
                rows.append(row)
                print(describe(row), flush=True)
                if args.cache and impl in OURS and task in CACHED_TASKS:
                    rows.append(cached(task, impl, path, n, d, k, args.cache))
    if not args.no_write:
        # The workflows not run this time keep their last run's rows (``--tasks``).
        saved = ROOT / "docs" / "workflows.json"
        kept = json.loads(saved.read_text()) if saved.exists() else []
        rows = [row for row in kept if row["task"] not in args.tasks] + rows
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "benchmarks/workflows.py", markdown(rows))
        saved.write_text(json.dumps(rows, indent=1))


OURS = ("tf2", "tf1")
# The workflows of many fits, where a first fit's compilation counts most.
CACHED_TASKS = ("sweep", "folds")


def cached(task: str, impl: str, path: Path, n: int, d: int, k: int, cache: str) -> dict:
    """The workflow run twice with XLA's persistent cache in a fresh ``cache``: the second
    run's row, its programs found in the cache the first filled."""
    shutil.rmtree(cache, ignore_errors=True)
    flag = f"--tf_xla_persistent_cache_directory={cache}"
    saved = os.environ.get("TF_XLA_FLAGS")
    os.environ["TF_XLA_FLAGS"] = f"{saved or ''} {flag}".strip()
    try:
        for _ in range(2):
            row = in_subprocess(["--child", task, impl, str(path), str(k)], script=__file__)
    finally:
        if saved is None:
            del os.environ["TF_XLA_FLAGS"]
        else:
            os.environ["TF_XLA_FLAGS"] = saved
    row.update(n=n, d=d, impl=f"{impl}, cached")
    print(describe(row), flush=True)
    return row


def describe(row: dict) -> str:
    first = f"first {row['first_s']:.2f} s, " if "first_s" in row else ""
    k = f" k={row['k']}" if row["k"] else ""
    return (f"{row['task']:>7} {row['impl']:>15} n={row['n']} d={row['d']}{k}: {first}"
            f"{row['seconds']:.2f} s, inertia {row['inertia']:.6g}, "
            f"peak {row['peak_bytes'] / 2**20:.0f} MiB")  # fmt: skip


def markdown(rows: list[dict]) -> str:
    """One table per workflow: seconds, the ratio to the fastest peer, inertia against
    scikit-learn's."""
    lines = [
        "## Workflows: sweeps, folds, large k",
        "",
        "`python benchmarks/workflows.py`: each implementation runs each workflow in a fresh "
        "process, timed after the imports, so its first fits' tracing and compiling count. "
        f"{cpu_line()}. Ratios are to the fastest peer (not ours) of the same row, in the "
        "same run; inertia is the workflow's summed inertia over scikit-learn's. Peak memory "
        "(large k) is counted from before X was loaded; the target is 1.5 x the data + "
        "256 MiB (293 MiB here).",
    ]
    titles = {
        "sweep": f"Sweep: `KMeans(k, random_state=0).fit(X)`, k = {SWEEP.start}..{SWEEP.stop - 1}",
        "folds": f"Folds: `KMeans({FOLD_CLUSTERS}, random_state=0).fit(X[:n - f n / 100])`, "
        f"f = {FOLDS.start}..{FOLDS.stop - 1}",
        "large_k": f"Large k: {ITERATIONS} Lloyd iterations from given centres, (n, d) = "
        f"{LARGE_K_SIZE}; second fit, first fit in brackets",
        "seeding": f"k-means++ at large k: `kmeans_plusplus(X, k, random_state=0)`, (n, d) = "
        f"{LARGE_K_SIZE}; one call, compilation included",
    }
    for task, title in titles.items():
        task_rows = [row for row in rows if row["task"] == task]
        if not task_rows:
            continue
        known = IMPLS[task] + [f"{impl}, cached" for impl in OURS if impl in IMPLS[task]]
        impls = [impl for impl in known if any(row["impl"] == impl for row in task_rows)]
        lines += ["", f"### {title}", "", "| (n, d, k) | " + " | ".join(impls) + " |",
                  "| --- |" + " --- |" * len(impls)]  # fmt: skip
        for key in dict.fromkeys((row["n"], row["d"], row["k"]) for row in task_rows):
            by = {row["impl"]: row for row in task_rows if (row["n"], row["d"], row["k"]) == key}
            peers = [row["seconds"] for impl, row in by.items() if not impl.startswith(OURS)]
            fastest = min(peers) if peers else None
            reference = by.get("scikit-learn", {}).get("inertia")
            cells = []
            for impl in impls:
                row = by.get(impl)
                if row is None:
                    cells.append("-")
                    continue
                cell = f"{row['seconds']:.2f} s"
                if "first_s" in row:
                    cell += f" ({row['first_s']:.2f})"
                if fastest and impl.startswith(OURS):
                    cell += f", {row['seconds'] / fastest:.2f}x"
                if reference:
                    cell += f", inertia {row['inertia'] / reference:.3f}"
                if task in LARGE_K_TASKS and row.get("peak_bytes") is not None:
                    cell += f", {row['peak_bytes'] / 2**20:.0f} MiB"
                cells.append(cell)
            n, d, k = key
            label = f"({n:.0e}, {d}{', ' + str(k) if k else ''})".replace("e+0", "e")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

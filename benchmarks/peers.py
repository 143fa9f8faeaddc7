"""Both packages against scikit-learn, scikit-learn-intelex and faiss, as a user meets them.

    python benchmarks/peers.py [--repeats 3] [--sizes 100000,2,3 ...]

Needs the ``bench`` extra (scikit-learn, scikit-learn-intelex, faiss-cpu). Data: float32
``make_blobs(n, d, centers=k, random_state=0)``. Every measurement runs in a fresh process
of its own, and every time is taken after the imports:

- **first fit**: ``KMeans(n_clusters=k, random_state=0).fit(X)`` with the defaults
  (k-means++, ``n_init="auto"``, ``max_iter=300``, ``tol=1e-4``): the first fit of the
  process, compilation and all; then **warm fit**, the median of ``--repeats`` more. The
  inertia of the first fit, and the process's peak memory above what it held before it
  loaded X (so the data counts), against the target 1.5 x data + 256 MiB.
- **Lloyd**: 10 iterations from the same given centres (``tol=0``), one warm-up, then the
  median of ``--repeats``; faiss with ``max_points_per_centroid`` raised so that it uses
  every row.
- **k-means++**: the seeding alone (``kmeans_plusplus``), its first call and its warm
  median; scikit-learn-intelex and faiss have no public k-means++ alone.

Writes its section of ``docs/BENCHMARKS.md``, ``docs/peers.png`` and ``docs/peers.json``.

``--cache DIR`` measures XLA's persistent compilation cache instead: it runs both
packages' first fits twice, with ``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=DIR``
(DIR emptied first), so the first process of each fills it and the second finds it; it
writes its own section, beside the peers' first fits from ``docs/peers.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import replace_section  # noqa: E402
from run import in_subprocess, peak_rss_bytes, reset_peak_rss, rss_bytes  # noqa: E402

SIZES = [(100_000, 2, 3), (1_000_000, 32, 64), (200_000, 128, 256)]
PEERS = ["scikit-learn", "sklearn-intelex", "faiss"]
OURS = ["tf2", "tf1"]
ITERATIONS = 10
TASKS = {
    "first": ["scikit-learn", "sklearn-intelex", *OURS],
    "lloyd": [*PEERS, *OURS],
    "seed": ["scikit-learn", *OURS],
}


def load(impl: str):
    """The implementation's ``KMeans`` and ``kmeans_plusplus`` (None where it has none)."""
    if impl == "scikit-learn":
        from sklearn.cluster import KMeans, kmeans_plusplus
    elif impl == "sklearn-intelex":
        from sklearnex.cluster import KMeans

        kmeans_plusplus = None
    elif impl == "tf2":
        from tf2_eager import KMeans, kmeans_plusplus
    elif impl == "tf1":
        from tf1_graph import KMeans, kmeans_plusplus
    else:
        return None, None
    return KMeans, kmeans_plusplus


def inertia_of(X: np.ndarray, centers: np.ndarray) -> float:
    """Squared distance to the nearest centre, summed in float64, a block at a time."""
    total, centers = 0.0, centers.astype(np.float64)
    for start in range(0, len(X), 8192):
        block = X[start : start + 8192].astype(np.float64)
        distances = (
            (block**2).sum(axis=1)[:, None] - 2 * block @ centers.T + (centers**2).sum(axis=1)
        )
        total += float(np.maximum(distances.min(axis=1), 0).sum())
    return total


def timed(function, repeats: int) -> tuple[float, float]:
    """(first call, median of ``repeats`` more), in seconds."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:])


def lloyd_runner(impl: str, KMeans, X: np.ndarray, init: np.ndarray):
    """A function that runs ``ITERATIONS`` Lloyd iterations from ``init`` and returns the
    centres; faiss with ``max_points_per_centroid`` raised so that it uses every row."""
    if impl == "faiss":
        import faiss

        def run():
            kmeans = faiss.Kmeans(X.shape[1], len(init), niter=ITERATIONS, seed=0,
                                  max_points_per_centroid=len(X))  # fmt: skip
            kmeans.train(X, init_centroids=init)
            return kmeans.centroids

        return run

    def run():
        model = KMeans(n_clusters=len(init), init=init, n_init=1, max_iter=ITERATIONS, tol=0.0)
        return model.fit(X).cluster_centers_

    return run


def child(task: str, impl: str, path: str, k: int, repeats: int) -> dict:
    """One task of one implementation on one data set, in this (fresh) process."""
    before_imports = time.perf_counter()
    if impl == "faiss":
        import faiss  # noqa: F401 (timed with the imports; lloyd_runner uses it)
    KMeans, kmeans_plusplus = load(impl)
    import_s = time.perf_counter() - before_imports
    before = rss_bytes()
    X = np.load(path)
    init = X[np.random.RandomState(1).choice(len(X), k, replace=False)].copy()
    reset_peak_rss()
    row = {"task": task, "impl": impl, "import_s": import_s, "data_bytes": X.nbytes}
    if task == "first":
        models = []
        row["first_s"], row["warm_s"] = timed(
            lambda: models.append(KMeans(n_clusters=k, random_state=0).fit(X)), repeats
        )
        row["n_iter"] = int(models[0].n_iter_)
        centers = models[0].cluster_centers_
    elif task == "lloyd":
        run = lloyd_runner(impl, KMeans, X, init)
        run()  # warm-up
        _, row["warm_s"] = timed(run, repeats)
        centers = run()
    else:
        seeded = []
        row["first_s"], row["warm_s"] = timed(
            lambda: seeded.append(kmeans_plusplus(X, k, random_state=0)[0]), repeats
        )
        centers = seeded[0]
    row["peak_bytes"] = peak_rss_bytes() - before  # before the measurements below
    if task == "seed":  # the seeding's quality: its inertia, mean over 5 seeds
        seeds = [kmeans_plusplus(X, k, random_state=seed)[0] for seed in range(5)]
        row["seed_inertia_mean"] = statistics.mean(inertia_of(X, c) for c in seeds)
    row["inertia"] = inertia_of(X, np.asarray(centers))
    return row


def blobs_file(directory: Path, n: int, d: int, k: int) -> Path:
    from sklearn.datasets import make_blobs

    path = directory / f"blobs_{n}_{d}_{k}.npy"
    if not path.exists():
        X, _ = make_blobs(n_samples=n, n_features=d, centers=k, random_state=0)
        np.save(path, X.astype(np.float32))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="*", help="n,d,k triples (default: the three above)")
    parser.add_argument("--cache", help="XLA's persistent compilation cache directory")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--rewrite", action="store_true",
                        help="the section and plot again from docs/peers.json")  # fmt: skip
    parser.add_argument("--child", nargs=4, metavar=("TASK", "IMPL", "PATH", "K"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.child:
        task, impl, path, k = args.child
        print(json.dumps(child(task, impl, path, int(k), args.repeats)))
        return
    sizes = [tuple(map(int, size.split(","))) for size in args.sizes] if args.sizes else SIZES
    if args.rewrite:
        saved = json.loads((ROOT / "docs" / "peers.json").read_text())
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "benchmarks/peers.py",
                        markdown(saved["rows"], saved["repeats"]))  # fmt: skip
        plot(saved["rows"], ROOT / "docs" / "peers.png")
        return
    if args.cache:
        cache_run(sizes, args.cache, args.repeats, args.no_write)
        return
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for n, d, k in sizes:
            path = blobs_file(Path(directory), n, d, k)
            for task, impls in TASKS.items():
                for impl in impls:
                    row = in_subprocess(
                        ["--child", task, impl, str(path), str(k), "--repeats", str(args.repeats)],
                        script=__file__,
                    )
                    row.update(n=n, d=d, k=k)
                    rows.append(row)
                    print(describe(row), flush=True)
    if not args.no_write:
        text = markdown(rows, args.repeats)
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "benchmarks/peers.py", text)
        plot(rows, ROOT / "docs" / "peers.png")
        saved = {"repeats": args.repeats, "rows": rows}
        (ROOT / "docs" / "peers.json").write_text(json.dumps(saved, indent=1))


def size_label(n: int, d: int, k: int) -> str:
    """(1e6, 32, 64): the number of samples as the issue tables write it."""
    exponent = len(str(n)) - 1
    return f"({n / 10**exponent:g}e{exponent}, {d}, {k})"


def ordered_sizes(rows: list[dict]) -> list[tuple]:
    """The sizes in the rows, in ``SIZES`` order (others after, smallest first)."""
    found = {(row["n"], row["d"], row["k"]) for row in rows}
    known = [size for size in SIZES if size in found]
    return known + sorted(found - set(known), key=lambda size: size[0] * size[1])


def describe(row: dict) -> str:
    first = f"first {row['first_s']:.3f} s, " if "first_s" in row else ""
    return (f"{row['task']:>5} {row['impl']:>15} n={row['n']} d={row['d']} k={row['k']}: "
            f"{first}warm {row['warm_s']:.3f} s, inertia {row['inertia']:.6g}, "
            f"peak {row['peak_bytes'] / 2**20:.0f} MiB")  # fmt: skip


def cache_run(sizes, cache: str, repeats: int, no_write: bool) -> None:
    """Both packages' first fits with XLA's persistent cache: filling it, then finding it."""
    shutil.rmtree(cache, ignore_errors=True)
    flag = f"--tf_xla_persistent_cache_directory={cache}"
    os.environ["TF_XLA_FLAGS"] = f"{os.environ.get('TF_XLA_FLAGS', '')} {flag}".strip()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for n, d, k in sizes:
            path = blobs_file(Path(directory), n, d, k)
            for impl in OURS:
                for attempt in ("fills", "finds"):
                    row = in_subprocess(
                        ["--child", "first", impl, str(path), str(k), "--repeats", str(repeats)],
                        script=__file__,
                    )
                    row.update(n=n, d=d, k=k, cache=attempt)
                    rows.append(row)
                    print(f"cache {attempt}: {describe(row)}", flush=True)
    size = sum(file.stat().st_size for file in Path(cache).rglob("*") if file.is_file())
    files = sum(1 for file in Path(cache).rglob("*") if file.is_file())
    print(f"compilation cache: {size / 2**20:.1f} MiB in {files} files")
    if no_write:
        return
    uncached = {}
    if (ROOT / "docs" / "peers.json").exists():
        for row in json.loads((ROOT / "docs" / "peers.json").read_text())["rows"]:
            if row["task"] == "first":
                uncached[(row["impl"], row["n"], row["d"], row["k"])] = row["first_s"]
    lines = [
        "## XLA's persistent compilation cache",
        "",
        f"`python benchmarks/peers.py --cache DIR --repeats {repeats}`: each package's first "
        "default fit in a fresh process with `TF_XLA_FLAGS=--tf_xla_persistent_cache_directory"
        "=DIR`, twice: the first process compiles and fills the cache, the second loads from "
        f"it. After the run the cache held {size / 2**20:.1f} MiB in {files} files. 'Without' "
        "and the peers' first fits are from the last `python benchmarks/peers.py` run.",
        "",
        "| (n, d, k) | implementation | first fit, filling | first fit, finding | without "
        "| scikit-learn | sklearn-intelex |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    by = {(row["impl"], row["n"], row["d"], row["k"], row["cache"]): row for row in rows}

    def seconds(value):
        return f"{value:.3f} s" if value is not None else "—"

    for n, d, k in sizes:
        for impl in OURS:
            lines.append(
                f"| {size_label(n, d, k)} | {impl} "
                f"| {by[(impl, n, d, k, 'fills')]['first_s']:.3f} s "
                f"| {by[(impl, n, d, k, 'finds')]['first_s']:.3f} s "
                f"| {seconds(uncached.get((impl, n, d, k)))} "
                f"| {seconds(uncached.get(('scikit-learn', n, d, k)))} "
                f"| {seconds(uncached.get(('sklearn-intelex', n, d, k)))} |"
            )
    path = ROOT / "docs" / "BENCHMARKS.md"
    replace_section(path, "benchmarks/peers.py --cache", "\n".join(lines))


def markdown(rows: list[dict], repeats: int) -> str:
    """Tables: first and warm default fits, 10 Lloyd iterations, k-means++ alone."""
    from kmeans_tutorial.engine.lloyd_ops import compiles

    by = {(row["task"], row["impl"], row["n"], row["d"], row["k"]): row for row in rows}
    sizes = ordered_sizes(rows)
    lines = [
        "## Against scikit-learn, scikit-learn-intelex and faiss",
        "",
        f"`python benchmarks/peers.py --repeats {repeats}`: float32 blobs, each measurement "
        "a fresh process, times after the imports. Ratios are to the fastest peer of the "
        "same table in the same run (below 1 is faster). Peak memory is counted from before "
        "X was loaded, so the data counts; the target is 1.5 x the data + 256 MiB.",
    ]
    lines += [
        "",
        "### First default fit, and warm fits, `KMeans(n_clusters=k, random_state=0).fit(X)`",
        "",
        "| (n, d, k) | implementation | first fit | x fastest peer | warm fit | iterations "
        "| inertia / scikit-learn's | peak (x target) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, d, k in sizes:
        peers = [by[key] for impl in ("scikit-learn", "sklearn-intelex")
                 if (key := ("first", impl, n, d, k)) in by]  # fmt: skip
        fastest = min(row["first_s"] for row in peers)
        reference = by[("first", "scikit-learn", n, d, k)]["inertia"]
        for impl in TASKS["first"]:
            row = by.get(("first", impl, n, d, k))
            if row is None:
                continue
            target = 1.5 * row["data_bytes"] + 256 * 2**20
            lines.append(
                f"| {size_label(n, d, k)} | {impl} | {row['first_s']:.3f} s "
                f"| {row['first_s'] / fastest:.2f} | {row['warm_s']:.3f} s | {row['n_iter']} "
                f"| {row['inertia'] / reference:.4f} "
                f"| {row['peak_bytes'] / 2**20:.0f} MiB ({row['peak_bytes'] / target:.2f}) |"
            )
    lines += [
        "",
        "### 10 Lloyd iterations from the same centres (warm)",
        "",
        "| (n, d, k) | implementation | time | x fastest peer | peak (x target) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n, d, k in sizes:
        fastest = min(by[("lloyd", impl, n, d, k)]["warm_s"] for impl in PEERS)
        for impl in TASKS["lloyd"]:
            row = by[("lloyd", impl, n, d, k)]
            target = 1.5 * row["data_bytes"] + 256 * 2**20
            lines.append(
                f"| {size_label(n, d, k)} | {impl} | {row['warm_s']:.3f} s "
                f"| {row['warm_s'] / fastest:.2f} "
                f"| {row['peak_bytes'] / 2**20:.0f} MiB ({row['peak_bytes'] / target:.2f}) |"
            )
    lines += [
        "",
        "### What the first call costs: compilation, by program and shape",
        "",
        "Seconds a first call spends above a warm one, from the rows above: the seeding "
        "program (k-means++ alone), and the Lloyd program (the first default fit's excess "
        "less the seeding's). Each is traced and, unless the data is small "
        "(`lloyd_ops.compiles`), compiled by XLA once per data shape and number of centres.",
        "",
        "| (n, d, k) | implementation | compiled | seeding | Lloyd | first fit, all |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for n, d, k in sizes:
        for impl in OURS:
            fit, seed = by[("first", impl, n, d, k)], by[("seed", impl, n, d, k)]
            seeding = seed["first_s"] - seed["warm_s"]
            whole = fit["first_s"] - fit["warm_s"]
            compiled = "yes" if compiles(n, d, k) else "no"
            lines.append(
                f"| {size_label(n, d, k)} | {impl} | {compiled} | {seeding:.2f} s "
                f"| {whole - seeding:.2f} s | {whole:.2f} s |"
            )
    lines += [
        "",
        "### k-means++ alone, `kmeans_plusplus(X, k, random_state=0)`",
        "",
        "| (n, d, k) | implementation | first call | warm | inertia after seeding, "
        "mean of 5 seeds / scikit-learn's |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n, d, k in sizes:
        reference = by[("seed", "scikit-learn", n, d, k)]["seed_inertia_mean"]
        for impl in TASKS["seed"]:
            row = by[("seed", impl, n, d, k)]
            lines.append(
                f"| {size_label(n, d, k)} | {impl} | {row['first_s']:.3f} s "
                f"| {row['warm_s']:.3f} s | {row['seed_inertia_mean'] / reference:.4f} |"
            )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = ordered_sizes(rows)
    panels = [("first", "first_s", "first default fit, fresh process"),
              ("first", "warm_s", "warm default fit"),
              ("lloyd", "warm_s", "10 Lloyd iterations")]  # fmt: skip
    impls = ["scikit-learn", "sklearn-intelex", "faiss", "tf2", "tf1"]
    figure, axes = plt.subplots(1, len(panels), figsize=(15, 4.5))
    width = 0.8 / len(impls)
    for axis, (task, key, title) in zip(axes, panels, strict=True):
        for position, impl in enumerate(impls):
            values = [
                next((row[key] for row in rows if (row["task"], row["impl"]) == (task, impl)
                      and (row["n"], row["d"], row["k"]) == size), np.nan)
                for size in sizes
            ]  # fmt: skip
            axis.bar(np.arange(len(sizes)) + position * width, values, width, label=impl)
        axis.set_xticks(np.arange(len(sizes)) + 0.4 - width / 2)
        axis.set_xticklabels([size_label(*size) for size in sizes])
        axis.set_yscale("log")
        axis.set_ylabel("seconds")
        axis.set_title(title)
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    main()

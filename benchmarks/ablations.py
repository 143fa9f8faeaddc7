"""Measure each design choice of the ``KMeans`` engine against the alternative it replaced.

    python benchmarks/ablations.py [--repeats 5]

Every choice the code's comments justify by speed or memory is measured here, each in a
fresh process: the shipped form, then the alternative put in its place (by replacing one
function or constant of ``kmeans_tutorial.engine``), on the same data, 10 Lloyd
iterations from the same start, one warm-up, then the median of ``--repeats``. The table
goes to its own section of ``docs/BENCHMARKS.md``; the code's comments name the row.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import cpu_line, replace_section  # noqa: E402
from run import in_subprocess as run_in_subprocess  # noqa: E402
from run import make_data, peak_rss_bytes, reset_peak_rss, rss_bytes  # noqa: E402

ITERATIONS = 10


def _fit_seconds(package, X, init, repeats: int) -> float:
    """Median seconds of 10 Lloyd iterations from ``init``, after one warm-up fit."""
    model = package.KMeans(len(init), init=init, n_init=1, max_iter=ITERATIONS, tol=0.0)
    model.fit(X)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(X)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _static_size_slice_replaced(lloyd_ops):
    import tensorflow as tf

    def chunk_rows(X, index, chunk):
        start = tf.minimum(index * chunk, X.shape[0] - chunk)
        return start, tf.slice(X, [start, 0], [chunk, -1])  # the size left to run time

    lloyd_ops.chunk_rows = chunk_rows


def _argmin_replaced(lloyd_ops):
    import tensorflow as tf

    lloyd_ops.first_argmin = lambda values: tf.argmin(values, axis=1, output_type=tf.int32)


def _few_form_off(lloyd_ops):
    lloyd_ops.elementwise_form = lambda n_clusters, n_features: False


def _bigger_chunks(lloyd_ops):
    lloyd_ops.CHUNK_BUDGET = 2**22


def _chunks_by_distances(lloyd_ops):
    from kmeans_tutorial.engine import dense_core

    # As before: the budget counts a row's distances only, not its features.
    shipped = dense_core.chunk

    def chunk(name, rows, n_features, n_clusters):
        if name == "kmeans_plus_plus":
            return shipped(name, rows, n_features, n_clusters)
        return lloyd_ops.chunk_size(rows, n_clusters)

    dense_core.chunk = chunk


def _uncompiled(lloyd_ops):
    lloyd_ops.UNCOMPILED_WORK = 2**62


# name: (what is shipped, the alternative, (n, d, k), how to put the alternative in place)
LLOYD_ABLATIONS = {
    "chunk budget": (
        "2**19 numbers a chunk (4096 rows at d + k = 96)",
        "2**22 numbers a chunk (32768 rows)",
        (1_000_000, 32, 64),
        _bigger_chunks,
    ),
    **{
        f"chunk by d + k, k = {k}": (
            "2**19 / (d + k) rows a chunk",
            "2**19 / k rows a chunk",
            (n, d, k),
            _chunks_by_distances,
        )
        for n, d, k in [
            (1_000_000, 32, 8),
            (100_000, 16, 24),
            (1_000_000, 32, 64),
            (200_000, 128, 256),
        ]
    },
    **{
        f"XLA's dot or TensorFlow's kernels, k = {k}": (
            "one XLA computation (XLA's dot)",
            "plain TensorFlow ops, uncompiled (TensorFlow's matmul kernel)",
            (n, d, k),
            _uncompiled,
        )
        for n, d, k in [(1_000_000, 32, 64), (200_000, 128, 256)]
    },
    "static slice size": (
        "tf.slice(X, begin, [chunk, n_features])",
        "tf.slice(X, begin, [chunk, -1])",
        (1_000_000, 32, 64),
        _static_size_slice_replaced,
    ),
    "nearest centre": (
        "first_argmin: a min, then the first column equal to it",
        "tf.argmin",
        (1_000_000, 32, 64),
        _argmin_replaced,
    ),
    "few centres in 2-D": (
        "elementwise distances and masked sums, one centre at a time",
        "matmul distances and segment sums",
        (1_000_000, 2, 3),
        _few_form_off,
    ),
}


def lloyd_child(name: str, variant: str, repeats: int) -> dict:
    """10 iterations of TF2's KMeans (and TF1's for the shipped form), one way or the other."""
    from kmeans_tutorial.engine import lloyd_ops

    *_, (n, d, k), replace = LLOYD_ABLATIONS[name]
    if variant == "alternative":
        replace(lloyd_ops)
    import tf2_eager

    X, init = make_data(n, d, k)
    return {"seconds": _fit_seconds(tf2_eager, X, init, repeats)}


def feed_child(repeats: int) -> dict:
    """A TF1 ``session.run`` fed X (1e6 x 32 float32) aligned, as shipped, or as NumPy made it."""
    import tensorflow as tf

    from kmeans_tutorial.engine.sharing import is_shareable, shareable

    X, _ = make_data(1_000_000, 32, 64)
    unaligned = X if not is_shareable(X) else np.ones((len(X) + 1, 32), np.float32)[1:]
    graph = tf.Graph()
    with graph.as_default():
        fed = tf.compat.v1.placeholder(tf.float32, [None, 32])
        total = tf.reduce_sum(fed[:1])  # next to no work: the time is the feed's
    session = tf.compat.v1.Session(graph=graph)
    seconds = {}
    for label, array in (("shipped", shareable(X)), ("alternative", unaligned)):
        session.run(total, {fed: array})
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            session.run(total, {fed: array})
            times.append(time.perf_counter() - start)
        seconds[label] = statistics.median(times)
    return seconds


def constant_child() -> dict:
    """Resident memory a TF2 tensor of X (1e6 x 32 float32) adds: DLPack against tf.constant."""
    import tensorflow as tf

    from kmeans_tutorial.engine.sharing import shareable

    X = shareable(make_data(1_000_000, 32, 64)[0])
    tf.constant(np.ones(4))  # the runtime's own start-up does not count
    grown = {}
    for label, make in (
        ("shipped", lambda: tf.experimental.dlpack.from_dlpack(X.__dlpack__())),
        ("alternative", lambda: tf.constant(X)),
    ):
        reset_peak_rss()
        before = rss_bytes()
        tensor = make()
        float(tf.reduce_sum(tensor[:1]))
        grown[label] = peak_rss_bytes() - before
        del tensor
    return {"data_bytes": X.nbytes, **grown}


def trim_child(variant: str) -> dict:
    """Six TF1 fits in a row at (1e6, 32, 64): resident memory after each, and the peak."""
    import kmeans_tutorial.engine.base as base

    if variant == "alternative":
        base.return_freed_memory = lambda: None
    import tf1_graph

    before = rss_bytes()
    X, init = make_data(1_000_000, 32, 64)
    reset_peak_rss()
    after = []
    for _ in range(6):
        tf1_graph.KMeans(64, init=init, n_init=1, max_iter=ITERATIONS, tol=0.0).fit(X)
        after.append(rss_bytes() - before)
    return {"after_each": after, "peak": peak_rss_bytes() - before}


def _compile_everything(modules):
    modules["lloyd_ops"].UNCOMPILED_WORK = -1


def _compile_nothing(modules):
    modules["lloyd_ops"].UNCOMPILED_WORK = 2**62


def _seeding_chunks_by_trials(modules):
    lloyd_ops, seeding_ops = modules["lloyd_ops"], modules["seeding_ops"]
    from kmeans_tutorial.engine.seeding import n_trials

    # As Lloyd's budget counts distances: chunk x trials, ignoring the centred copy's width.
    seeding_ops.chunk_size = lambda n, d: lloyd_ops.chunk_size(n, n_trials(64))


# name: (shipped, alternative, (n, d, k), task, how to put the alternative in place). Each
# variant in a fresh process: its first call (compilation and all), then its warm median.
FIRST_CALL_ABLATIONS = {
    "compiled or not, small": (
        "uncompiled (n (d + k) <= 2**21)",
        "compiled by XLA",
        (100_000, 2, 3),
        "fit",
        _compile_everything,
    ),
    "compiled or not, large": (
        "compiled by XLA (n (d + k) > 2**21)",
        "uncompiled",
        (1_000_000, 2, 3),
        "fit",
        _compile_nothing,
    ),
    "seeding chunk": (
        "2**19 / d rows (the chunk's centred copy)",
        "2**19 / trials rows",
        (1_000_000, 32, 64),
        "k-means++",
        _seeding_chunks_by_trials,
    ),
}


def first_call_child(name: str, variant: str, repeats: int) -> dict:
    """A default fit (or k-means++ alone) of TF2's ``KMeans``: first call, then warm."""
    from kmeans_tutorial.engine import lloyd_ops, seeding_ops

    *_, (n, d, k), task, replace = FIRST_CALL_ABLATIONS[name]
    if variant == "alternative":
        replace({"lloyd_ops": lloyd_ops, "seeding_ops": seeding_ops})
    import tf2_eager

    X, _ = make_data(n, d, k)
    if task == "fit":
        call = lambda: tf2_eager.KMeans(k, random_state=0).fit(X)  # noqa: E731
    else:
        call = lambda: tf2_eager.kmeans_plusplus(X, k, random_state=0)  # noqa: E731
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"first": times[0], "warm": statistics.median(times[1:])}


def in_subprocess(arguments: list[str]) -> dict:
    return run_in_subprocess(arguments, script=__file__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = {
            "lloyd": lambda: lloyd_child(rest[0], rest[1], args.repeats),
            "feed": lambda: feed_child(args.repeats),
            "constant": constant_child,
            "trim": lambda: trim_child(rest[0]),
            "first": lambda: first_call_child(rest[0], rest[1], args.repeats),
        }[kind]()
        print(json.dumps(result))
        return
    mib = 2**20
    lines = [
        "## Design choices: `python benchmarks/ablations.py`",
        "",
        f"Each row: the shipped form against the alternative it replaced, each in a fresh "
        f"process, same data, median of {args.repeats} after a warm-up. Times are 10 Lloyd "
        f"iterations of `tf2_eager.KMeans` unless the row says otherwise; float32 data. "
        f"{cpu_line()}.",
        "",
        "| choice | (n, d, k) | shipped | alternative | shipped s | alternative s | "
        "alternative / shipped |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (shipped, alternative, sizes, _) in LLOYD_ABLATIONS.items():
        ours = in_subprocess(["--child", "lloyd", name, "shipped", "--repeats", str(args.repeats)])
        theirs = in_subprocess(
            ["--child", "lloyd", name, "alternative", "--repeats", str(args.repeats)]
        )
        ratio = theirs["seconds"] / ours["seconds"]
        print(f"{name}: {ours['seconds']:.3f} s against {theirs['seconds']:.3f} s", flush=True)
        lines.append(
            f"| {name} | {sizes} | {shipped} | {alternative} | {ours['seconds']:.3f} | "
            f"{theirs['seconds']:.3f} | {ratio:.2f} |"
        )
    feed = in_subprocess(["--child", "feed", "--repeats", str(args.repeats)])
    print(f"feed: {feed}", flush=True)
    lines.append(
        f"| TF1 feed (one `session.run`) | (1e6, 32) | X copied once to 64-byte alignment | "
        f"X as NumPy made it | {feed['shipped']:.4f} | {feed['alternative']:.4f} | "
        f"{feed['alternative'] / feed['shipped']:.1f} |"
    )
    lines += [
        "",
        "First calls: a default `tf2_eager.KMeans(k, random_state=0).fit(X)` (or "
        "`kmeans_plusplus` alone), its first call in a fresh process (compilation and all), "
        f"then the median of {args.repeats} more.",
        "",
        "| choice | (n, d, k) | call | shipped | alternative | shipped first / warm s "
        "| alternative first / warm s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, (shipped, alternative, sizes, task, _) in FIRST_CALL_ABLATIONS.items():
        ours, theirs = (
            in_subprocess(["--child", "first", name, variant, "--repeats", str(args.repeats)])
            for variant in ("shipped", "alternative")
        )
        print(f"{name}: {ours} against {theirs}", flush=True)
        lines.append(
            f"| {name} | {sizes} | {task} | {shipped} | {alternative} "
            f"| {ours['first']:.3f} / {ours['warm']:.3f} "
            f"| {theirs['first']:.3f} / {theirs['warm']:.3f} |"
        )
    lines.append("")
    constant = in_subprocess(["--child", "constant"])
    print(f"constant: {constant}", flush=True)
    trims = {
        variant: in_subprocess(["--child", "trim", variant])
        for variant in ("shipped", "alternative")
    }
    print(f"trim: {trims}", flush=True)
    lines += [
        "",
        "| memory | shipped | alternative | shipped MiB | alternative MiB |",
        "| --- | --- | --- | --- | --- |",
        f"| a TF2 tensor of X, {constant['data_bytes'] / mib:.0f} MiB (peak added) | "
        f"DLPack on X's buffer | `tf.constant(X)` | {constant['shipped'] / mib:.0f} | "
        f"{constant['alternative'] / mib:.0f} |",
        f"| six TF1 fits at (1e6, 32, 64): resident after the last | `malloc_trim` after "
        f"each fit | nothing | {trims['shipped']['after_each'][-1] / mib:.0f} | "
        f"{trims['alternative']['after_each'][-1] / mib:.0f} |",
        f"| the same six fits: peak | `malloc_trim` after each fit | nothing | "
        f"{trims['shipped']['peak'] / mib:.0f} | {trims['alternative']['peak'] / mib:.0f} |",
        "",
    ]
    replace_section(ROOT / "docs" / "BENCHMARKS.md", "benchmarks/ablations.py", "\n".join(lines))


if __name__ == "__main__":
    main()

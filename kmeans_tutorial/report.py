"""Plain-text reports the CLI prints: final centroids and the stage-by-stage parity table."""

from __future__ import annotations

import numpy as np

from kmeans_tutorial.results import LessonResult, StageDifference


def counted(number: int, noun: str) -> str:
    """``number`` and ``noun``, plural unless one: "1 iteration", "3 features"."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def format_centroids(title: str, result: LessonResult) -> str:
    """The final centroids, one row per cluster, under a title."""
    with np.printoptions(suppress=True):  # shortest repr that round-trips each float32
        body = np.array2string(result.final_centroids, separator=", ")
    after = counted(result.params.n_iterations, "iteration")
    return f"{title}: final centroids after {after}\n{body}"


def format_parity_table(rows: list[StageDifference]) -> str:
    """One line per stage: name, largest absolute difference, bit-identical yes/no."""
    width = max([len("stage")] + [len(row.stage) for row in rows])
    lines = [f"{'stage':<{width}}  {'max |Δ|':>10}  bit-identical"]
    lines += [
        f"{row.stage:<{width}}  {row.max_abs_difference:>10.3g}  "
        f"{'yes' if row.bit_identical else 'NO'}"
        for row in rows
    ]
    identical = sum(row.bit_identical for row in rows)
    lines.append(f"{identical} of {len(rows)} stages bit-identical")
    return "\n".join(lines)


def format_divergence(title: str, rows: list[StageDifference]) -> str:
    """Where a run first differs from the reference, or that it never does."""
    differing = [row for row in rows if not row.bit_identical]
    if not differing:
        return f"{title}: bit-identical to tf1_graph at every stage"
    first = differing[0]
    return (
        f"{title}: first differs from tf1_graph at {first.stage!r} "
        f"(max |Δ| {first.max_abs_difference:.3g}); {len(differing)} of {len(rows)} stages differ"
    )


def format_progress(title: str, result: LessonResult) -> str:
    """One line per iteration: inertia and summed squared centroid shift."""
    lines = [f"{title}: {counted(len(result.centroids), 'iteration')}",
             "iteration      inertia        shift"]  # fmt: skip
    lines += [
        f"{i:>9}  {inertia:>11.6g}  {shift:>11.4g}"
        for i, (inertia, shift) in enumerate(
            zip(result.inertia, result.center_shift, strict=True), 1
        )
    ]
    return "\n".join(lines)

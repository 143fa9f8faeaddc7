"""Turn the benchmark rows into docs/BENCHMARKS.md and docs/benchmarks.png."""

from __future__ import annotations

import datetime
import platform

MIB = 2**20


def _by_config(rows):
    configs = {}
    for row in rows:
        configs.setdefault((row["n"], row["d"], row["k"]), {})[row["impl"]] = row
    return configs


def write_markdown(rows, rates, repeats, path, floor_seconds, startup=None) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python benchmarks/run.py` on {datetime.date.today()} "
        f"({platform.machine()}, {platform.python_version()}); do not edit by hand.",
        "",
        f"10 Lloyd iterations from the same initial centres, float32 data; each implementation "
        f"in its own process, one warm-up, then the median of {repeats} runs. Peak memory is "
        "the process's high-water mark, counted from just after the data was made (so the "
        "data counts, and the temporaries that made it do not), above what it held before; it "
        "includes the warm-up's compilation. The target is 1.5 x the data + 256 MiB. The "
        "floor is max(bytes of X read 10 times at the "
        f"measured bandwidth, {rates['bandwidth'] / 1e9:.1f} GB/s; the distance matmul's flops "
        f"at the measured rate, {rates['matmul_flops'] / 1e9:.1f} GFLOP/s); at d = 2 it counts "
        "only bytes.",
        "",
        "| n | d | k | implementation | median s | x scikit-learn | x floor | peak MiB "
        "| x memory target | iterations |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (n, d, k), impls in _by_config(rows).items():
        peer = impls.get("scikit-learn", {}).get("median_s")
        floor = floor_seconds(n, d, k, rates)
        for impl, row in impls.items():
            if "skipped_need" in row:
                lines.append(
                    f"| {n:,} | {d} | {k} | {impl} | skipped: needs "
                    f"{row['skipped_need'] / 2**30:.1f} GiB | | | | | |"
                )
                continue
            target = 1.5 * row["data_bytes"] + 256 * MIB
            lines.append(
                f"| {n:,} | {d} | {k} | {impl} | {row['median_s']:.3f} | "
                f"{row['median_s'] / peer:.2f} | {row['median_s'] / floor:.1f} | "
                f"{row['peak_bytes'] / MIB:.0f} | {row['peak_bytes'] / target:.2f} | "
                f"{row['n_iter']} |"
            )
    if startup:
        lines += [
            "",
            "## Start-up (fresh processes, median of 5)",
            "",
            "| command | seconds |",
            "| --- | --- |",
            *(f"| `{command}` | {seconds:.2f} |" for command, seconds in startup.items()),
        ]
    lines += ["", "![time against n](benchmarks.png)", ""]
    path.write_text("\n".join(lines))


def write_plot(rows, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 5))
    for impl in sorted({row["impl"] for row in rows}):
        points = sorted(
            (row["n"] * row["d"] * row["k"], row["median_s"])
            for row in rows
            if row["impl"] == impl and "median_s" in row
        )
        if points:
            axes.loglog(*zip(*points, strict=True), "o-", label=impl)
    axes.set_xlabel("n x d x k (work per iteration)")
    axes.set_ylabel("seconds for 10 iterations (median)")
    axes.set_title("k-means, 10 Lloyd iterations, float32")
    axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(figure)

"""Turn the benchmark rows into docs/BENCHMARKS.md and docs/benchmarks.png."""

from __future__ import annotations

import datetime
import platform
import re
from pathlib import Path

MIB = 2**20


def _by_config(rows):
    configs = {}
    for row in rows:
        configs.setdefault((row["n"], row["d"], row["k"]), {})[row["impl"]] = row
    return configs


# The file's first line; what follows it up to the first script's section is written by hand.
TITLE = "# Benchmarks\n"


def replace_section(path: Path, name: str, text: str) -> None:
    """Put ``text`` in ``path`` as the section written by ``name``, keeping the others; its
    CPU named under its heading, unless the text names it (``cpu_line``)."""
    begin, end = f"<!-- begin: {name} -->", f"<!-- end: {name} -->"
    text = text.strip()
    if "Measured on" not in text:
        heading, _, rest = text.partition("\n")
        text = f"{heading}\n\n{cpu_line()}.\n{rest}"
    block = f"{begin}\n{text}\n{end}\n"
    old = path.read_text() if path.exists() else TITLE
    if not old.startswith(TITLE):  # an older file, written whole by one script
        old = TITLE
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n", re.DOTALL)
    new = pattern.sub(lambda _: block, old) if pattern.search(old) else f"{old}\n{block}"
    path.write_text(new)


def write_markdown(rows, rates, repeats, path, floor_seconds, startup=None, sparse_rows=()):
    lines = [
        "## Lloyd iterations: `python benchmarks/run.py`",
        "",
        f"Run on {datetime.date.today()} ({platform.machine()}, {platform.python_version()}).",
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
    if sparse_rows:
        lines += [
            "",
            "### Sparse input",
            "",
            "The same 10 iterations on a float64 CSR matrix, each implementation given the "
            "scipy matrix itself. Memory target: the stored data + 256 MiB.",
            "",
            "| n | d | k | density | implementation | median s | x scikit-learn | peak MiB "
            "| stored MiB | x memory target | iterations |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        peers = {
            (r["n"], r["d"], r["k"]): r["median_s"]
            for r in sparse_rows
            if r["impl"] == "scikit-learn"
        }
        for row in sparse_rows:
            peer = peers[(row["n"], row["d"], row["k"])]
            target = row["data_bytes"] + 256 * MIB
            lines.append(
                f"| {row['n']:,} | {row['d']:,} | {row['k']} | {row['density']} | {row['impl']} "
                f"| {row['median_s']:.3f} | {row['median_s'] / peer:.2f} | "
                f"{row['peak_bytes'] / MIB:.0f} | {row['data_bytes'] / MIB:.0f} | "
                f"{row['peak_bytes'] / target:.2f} | {row['n_iter']} |"
            )
    if startup:
        lines += [
            "",
            "### Start-up (fresh processes, median of 5)",
            "",
            "| command | seconds |",
            "| --- | --- |",
            *(f"| `{command}` | {seconds:.2f} |" for command, seconds in startup.items()),
        ]
    lines += ["", "![time against n](benchmarks.png)", ""]
    replace_section(path, "benchmarks/run.py", "\n".join(lines))


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


def cpu_line() -> str:
    """The CPU the figures were measured on and its widest vector unit (``lscpu``'s model
    name and flags), and its cores: design choices measured on one kind may lose on another."""
    import os

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    width = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE/other"
    return f"Measured on {model}, {width}, {os.cpu_count()} cores"

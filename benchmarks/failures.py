"""What surviving failure costs, measured; writes its section of docs/BENCHMARKS.md.

    python benchmarks/failures.py [--repeats 3] [--no-write]

1. Checkpoints: a streamed ``KMeans`` fit of a memmap and a ``MiniBatchKMeans`` fit, with
   ``checkpoint_dir`` (a save every pass, every 1000 steps) against without, warm, in both
   packages: the median seconds, and their ratio.
2. Fitting again on a finished fit's checkpoint (*again*): its start replayed, one
   labelling pass, nothing else.
3. A lost worker: two workers on loopback (``tests/distributed/distributed_cluster.py``,
   in a network namespace of their own), the second killed with SIGKILL on the first
   batch of pass 2; the seconds from its death to the survivor's end, for
   ``MultiWorkerMirroredStrategy`` and a TF1 cluster, and for a TF1 task whose chief is
   killed. At scale: four workers, task 2 killed, or its link cut (its packets dropped,
   the process left running), in both modes, and a ``MiniBatchKMeans`` fit under MWMS
   losing task 2 before step 7; the seconds from the fault to the last process's end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

STREAMED = (2_000_000, 16, 16)  # rows, features, clusters
PASSES = 10
MINI = {"n_clusters": 16, "batch_size": 1024, "max_iter": 2, "max_no_improvement": None}
CLUSTER_DATA = (5003, 4)


def _package(impl: str):
    import importlib

    return importlib.import_module({"tf1": "tf1_graph", "tf2": "tf2_eager"}[impl])


def _timed(fit) -> float:
    started = time.perf_counter()
    fit()
    return time.perf_counter() - started


def checkpoint_costs(path: Path, repeats: int) -> list[dict]:
    """Warm fits with and without checkpoints, in this process, both packages."""
    X = np.load(path, mmap_mode="r")
    rows = []
    for impl in ("tf1", "tf2"):
        package = _package(impl)
        kinds = {
            "KMeans, streamed": lambda folder, p=package: p.KMeans(
                STREAMED[2], max_iter=PASSES, tol=0, random_state=0, checkpoint_dir=folder
            ).fit(X),
            "MiniBatchKMeans": lambda folder, p=package: p.MiniBatchKMeans(
                random_state=0, checkpoint_dir=folder, **MINI
            ).fit(X),
        }
        for kind, fit in kinds.items():
            fit(None)  # warm: programs compiled
            times = {"without": [], "with": []}
            for _ in range(repeats):
                times["without"].append(_timed(lambda fit=fit: fit(None)))
                folder = tempfile.mkdtemp()
                times["with"].append(_timed(lambda fit=fit, folder=folder: fit(folder)))
                started = time.perf_counter()
                fit(folder)  # finished: read back from its checkpoint
                times.setdefault("again", []).append(time.perf_counter() - started)
                shutil.rmtree(folder)
            row = {name: statistics.median(values) for name, values in times.items()}
            rows.append({"impl": impl, "kind": kind, **row})
    return rows


# (mode, workers, fault, victim, extra flags, name): the fault is a kill or a cut link.
LOST_SCENARIOS = [
    ("multi-worker", 2, "kill", 1, [], "MultiWorkerMirroredStrategy, worker 1 killed"),
    ("tf1-cluster", 2, "kill", 1, [], "TF1 cluster, worker 1 killed (the chief survives)"),
    ("tf1-cluster", 2, "kill", 0, [], "TF1 cluster, the chief killed (worker 1 survives)"),
    ("multi-worker", 4, "kill", 2, [], "MWMS, 4 workers, worker 2 killed"),
    ("tf1-cluster", 4, "kill", 2, [], "TF1 cluster, 4 tasks, worker 2 killed"),
    ("multi-worker", 4, "cut", 2, [], "MWMS, 4 workers, worker 2's link cut"),
    ("tf1-cluster", 4, "cut", 2, [], "TF1 cluster, 4 tasks, worker 2's link cut"),
    (
        "multi-worker",
        4,
        "kill",
        2,
        ["--mini-batch"],
        "MiniBatchKMeans, MWMS, 4 workers, worker 2 killed",
    ),
]


def lost_worker(path: Path, repeats: int) -> list[dict]:
    """Seconds from a fault (a task's SIGKILL, or its link cut) to the end of the last
    other process (a cut task included: it lives on, and must end by itself), median of
    ``repeats``; every one of them must have ended with an error."""
    launcher = ROOT / "tests" / "distributed" / "distributed_cluster.py"
    rows = []
    for mode, workers, fault, victim, flags, name in LOST_SCENARIOS:
        seconds = []
        for _ in range(repeats):
            folder = Path(tempfile.mkdtemp())
            when = "--kill_at_step=7" if "--mini-batch" in flags else f"--{fault}_at_pass=2"
            command = ["unshare", "-rn", sys.executable, str(launcher), str(workers), "240"]
            command += [mode, str(path), str(folder), f"--{fault}_task={victim}", when, *flags]
            env = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
            subprocess.run(command, env={**os.environ, **env}, timeout=300)
            report = json.loads((folder / "report.json").read_text())
            if fault == "kill":
                assert report[victim]["returncode"] == -9, report
                at = report[victim]["seconds"]
                ended = [task for index, task in enumerate(report) if index != victim]
            else:
                at = json.loads((folder / "cut.json").read_text())["seconds"]
                ended = report
            assert all(task["returncode"] == 1 for task in ended), report
            seconds.append(max(task["seconds"] for task in ended) - at)
            shutil.rmtree(folder)
        rows.append({"scenario": name, "seconds": statistics.median(seconds), "all": seconds})
    return rows


def markdown(costs, lost, repeats) -> str:
    n, d, k = STREAMED
    lines = [
        "## Surviving failure: `python benchmarks/failures.py`",
        "",
        "### Checkpoints",
        "",
        f"Warm fits with `checkpoint_dir` and without, median of {repeats}.",
        f"`KMeans(k={k}, max_iter={PASSES}, tol=0)` on a memmap of {n:,} x {d} float32 (a save "
        f"a pass); `MiniBatchKMeans({MINI})` on it (a save every 1000 steps). *Again*: the "
        f"same fit started again on its finished checkpoint.",
        "",
        "| package | fit | without | with | ratio | again |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in costs:
        lines.append(
            f"| {row['impl']} | {row['kind']} | {row['without']:.2f} s | {row['with']:.2f} s "
            f"| {row['with'] / row['without']:.2f} | {row['again']:.2f} s |"
        )
    lines += [
        "",
        "### A lost worker",
        "",
        f"Seconds from the fault to the end of the last other process, median of {repeats}: "
        f"tasks on loopback, data {CLUSTER_DATA[0]:,} x {CLUSTER_DATA[1]}, the fault on the "
        f"first batch of pass 2 (before step 7 for `MiniBatchKMeans`). A killed task: SIGKILL. "
        f"A cut link: the task runs in a network namespace of its own, every packet to and "
        f"from it dropped from then on, the process left running; the time is to the end of "
        f"the last process, the cut one included. Every other process ends with one "
        f"`LostTaskError` naming the lost task (the cut one names task 0, which it lost).",
        "",
        "| scenario | seconds | each run |",
        "| --- | ---: | --- |",
    ]
    for row in lost:
        each = ", ".join(f"{value:.1f}" for value in row["all"])
        lines.append(f"| {row['scenario']} | {row['seconds']:.1f} | {each} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    n, d, _ = STREAMED
    np.save(folder / "X.npy", np.random.RandomState(0).rand(n, d).astype(np.float32))
    from sklearn.datasets import make_blobs

    blobs, _ = make_blobs(n_samples=CLUSTER_DATA[0], n_features=CLUSTER_DATA[1], centers=6,
                          random_state=3)  # fmt: skip
    np.save(folder / "blobs.npy", blobs.astype(np.float32))
    lost = lost_worker(folder / "blobs.npy", args.repeats)
    costs = checkpoint_costs(folder / "X.npy", args.repeats)
    text = markdown(costs, lost, args.repeats)
    print(text)
    if not args.no_write:
        from report import replace_section

        replace_section(ROOT / "docs" / "BENCHMARKS.md", "benchmarks/failures.py", text)
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()

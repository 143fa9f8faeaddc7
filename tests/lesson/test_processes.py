"""Parity across processes and TensorFlow thread settings.

Every (intra-op threads, inter-op threads) in {1, 2} x {1, 2} runs in its own process, which
runs tf1_graph and then tf2_eager and saves each one's stages: all eight runs must be
bit-identical (tf2_eager's after tf1_graph's ran in the same process, as the central promise
says: whatever ran before).
"""

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.parity

SCRIPT = Path(__file__).parents[1] / "save_run.py"
THREADS = list(itertools.product([1, 2], [1, 2]))
IMPLS = ("tf1", "tf2")


@pytest.fixture(scope="module")
def saved_runs(tmp_path_factory):
    """Run every thread setting in a subprocess, two at a time (this machine has 2 cores);
    ``{(impl, intra, inter): stages}``."""
    folder = tmp_path_factory.mktemp("runs")
    # The children import the packages from where this process did (installed or source).
    import tf1_graph

    packages = str(Path(tf1_graph.__file__).parents[1])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": packages}
    prefixes = {threads: folder / "{}-{}".format(*threads) for threads in THREADS}
    for start in range(0, len(THREADS), 2):
        running = [
            subprocess.Popen(
                [sys.executable, str(SCRIPT), ",".join(IMPLS), *map(str, threads), str(prefix)],
                env=env,
                stderr=subprocess.PIPE,
            )
            for threads, prefix in list(prefixes.items())[start : start + 2]
        ]
        for process in running:
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, err.decode()[-2000:]
    return {
        (impl, *threads): dict(np.load(f"{prefix}-{impl}.npz"))
        for threads, prefix in prefixes.items()
        for impl in IMPLS
    }


def test_all_processes_and_thread_counts_agree_bit_for_bit(saved_runs):
    reference = saved_runs["tf1", 1, 1]
    assert len(saved_runs) == 8 and len(reference) == 3 + 2 * 10
    for config, stages in saved_runs.items():
        assert stages.keys() == reference.keys(), config
        for stage, array in stages.items():
            np.testing.assert_array_equal(array, reference[stage], err_msg=f"{config}: {stage}")


def test_a_separate_process_agrees_with_this_one(saved_runs, tf2):
    here = dict(tf2.run_lesson().stages())
    for stage, array in saved_runs["tf2", 2, 2].items():
        np.testing.assert_array_equal(array, here[stage], err_msg=stage, strict=True)

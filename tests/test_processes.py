"""Parity across processes and TensorFlow thread settings.

Every (implementation, intra-op threads, inter-op threads) in {tf1, tf2} x {1, 2} x {1, 2}
runs in its own process and saves its stages; all eight must be bit-identical.
"""

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.parity

SCRIPT = Path(__file__).with_name("save_run.py")
CONFIGS = list(itertools.product(["tf1", "tf2"], [1, 2], [1, 2]))


@pytest.fixture(scope="module")
def saved_runs(tmp_path_factory):
    """Run every config in a subprocess, two at a time (this machine has 2 cores)."""
    folder = tmp_path_factory.mktemp("runs")
    # The children import the packages from where this process did (installed or source).
    import tf1_graph

    packages = str(Path(tf1_graph.__file__).parents[1])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": packages}
    paths = {config: folder / "{}-{}-{}.npz".format(*config) for config in CONFIGS}
    for start in range(0, len(CONFIGS), 2):
        running = [
            subprocess.Popen(
                [sys.executable, str(SCRIPT), *map(str, config), str(paths[config])],
                env=env,
                stderr=subprocess.PIPE,
            )
            for config in CONFIGS[start : start + 2]
        ]
        for process in running:
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, err.decode()[-2000:]
    return {config: dict(np.load(path)) for config, path in paths.items()}


def test_all_processes_and_thread_counts_agree_bit_for_bit(saved_runs):
    reference = saved_runs["tf1", 1, 1]
    assert len(reference) == 3 + 2 * 10
    for config, stages in saved_runs.items():
        assert stages.keys() == reference.keys(), config
        for stage, array in stages.items():
            np.testing.assert_array_equal(array, reference[stage], err_msg=f"{config}: {stage}")


def test_a_separate_process_agrees_with_this_one(saved_runs, tf2):
    here = dict(tf2.run_lesson().stages())
    for stage, array in saved_runs["tf2", 2, 2].items():
        np.testing.assert_array_equal(array, here[stage], err_msg=stage, strict=True)

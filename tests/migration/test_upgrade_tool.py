"""What TensorFlow's own upgrade tool does to tf1_graph, and whether the result keeps parity.

``tf_upgrade_v2`` renames TF1 symbols (``tf.random_normal`` -> ``tf.random.normal``,
``tf.to_int32`` -> ``tf.cast``, ``tf.Session`` -> ``tf.compat.v1.Session``) but leaves the
program a graph run by a ``Session``: the graph semantics, and so the values, stay TF1's.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tf1_graph

pytestmark = pytest.mark.parity

UPGRADE = [sys.executable, "-m", "tensorflow.tools.compatibility.tf_upgrade_v2_main"]
SAVE_RUN = Path(__file__).parents[1] / "save_run.py"


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    """A copy of tf1_graph passed through tf_upgrade_v2: (folder holding it, report text)."""
    folder = tmp_path_factory.mktemp("upgraded")
    source = folder / "original"
    shutil.copytree(Path(tf1_graph.__file__).parent, source / "tf1_graph")
    report = folder / "report.txt"
    command = [*UPGRADE, "--intree", str(source), "--outtree", str(folder / "out")]
    subprocess.run([*command, "--reportfile", str(report)], check=True, capture_output=True)
    return folder / "out", report.read_text()


def test_the_report_lists_the_renames(upgraded):
    _, report = upgraded
    assert "Renamed 'tf.random_normal' to 'tf.random.normal'" in report
    assert "Renamed 'tf.random_shuffle' to 'tf.random.shuffle'" in report
    assert "Changed tf.to_int32 call to tf.cast(..., dtype=tf.int32)" in report
    assert "Renamed 'tf.Session' to 'tf.compat.v1.Session'" in report


def test_the_upgraded_code_still_builds_a_graph(upgraded):
    folder, _ = upgraded
    runner = (folder / "tf1_graph" / "runner.py").read_text()
    assert "tf.Graph()" in runner and "tf.compat.v1.Session(graph=graph)" in runner
    functions = (folder / "tf1_graph" / "functions.py").read_text()
    assert "import tensorflow as tf" in functions and "tf.random.normal(" in functions


def test_the_upgraded_code_keeps_parity_with_tf1_graph(upgraded, tmp_path):
    folder, _ = upgraded
    packages = str(Path(tf1_graph.__file__).parents[1])  # kmeans_tutorial, as installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), packages])}
    command = [sys.executable, str(SAVE_RUN), "tf1", "0", "0", str(tmp_path / "upgraded")]
    subprocess.run(command, check=True, capture_output=True, env=env)
    saved = np.load(tmp_path / "upgraded-tf1.npz")
    for stage, array in tf1_graph.run_lesson().stages():
        np.testing.assert_array_equal(saved[stage], array, err_msg=stage, strict=True)

"""The README's examples run as written (the beyond-memory one in either package)."""

from pathlib import Path

import numpy as np
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def example(section: str) -> str:
    """The first Python block of a README section."""
    return README.split(f"## {section}\n", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def test_the_beyond_memory_example_runs(impl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = example("Beyond memory and beyond one machine").replace("tf2_eager", impl.__name__)
    names = {}
    exec(compile(code, "README.md", "exec"), names)
    assert names["labels"].shape == (100_000,)
    np.testing.assert_array_equal(names["labels"], names["kmeans"].labels_)
    assert names["mini"].n_steps_ > 1


def test_the_estimator_example_runs(tmp_path, monkeypatch, request):
    """The drop-in's example, as written (TF1 code: with the tf1 tests)."""
    if request.config.getoption("impl") == "tf2":
        pytest.skip("tf1_graph's drop-in runs with the tf1 tests")
    monkeypatch.chdir(tmp_path)  # its temporary model_dir aside, it writes nothing
    code = example("From TensorFlow's KMeans estimator")
    names = {}
    exec(compile(code, "README.md", "exec"), names)
    assert names["centers"].shape == (5, 2)
    assert len(names["labels"]) == 100

"""The README's examples of fits beyond memory run as written (in either package)."""

from pathlib import Path

import numpy as np

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

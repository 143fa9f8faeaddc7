"""The lesson's scripts run headless, print what the lesson prints, and agree with the runner."""

import numpy as np
import pytest

from kmeans_tutorial import LessonParams

SCRIPTS = [
    "step1_generate_samples",
    "step2_initial_centroids",
    "step3_one_iteration",
    "exercise2_iterate",
]


@pytest.fixture
def script(impl, request):
    return __import__(f"{impl.__name__}.{request.param}", fromlist=["main"])


@pytest.mark.parametrize("script", SCRIPTS, indirect=True)
def test_script_saves_its_plot(script, tmp_path):
    path = tmp_path / "plot.png"
    script.main(path)
    assert path.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("script", "n_iterations"),
    [
        ("step1_generate_samples", None),
        ("step2_initial_centroids", 0),
        ("step3_one_iteration", 1),
        ("exercise2_iterate", 10),
    ],
    indirect=["script"],
)
def test_script_values_are_the_runners(script, n_iterations, run_lesson, tmp_path):
    sample_values, centroid_values = script.main(tmp_path / "plot.png")
    result = run_lesson(LessonParams(n_iterations=n_iterations or 0))
    np.testing.assert_array_equal(sample_values, result.samples)
    expected = result.true_centroids if n_iterations is None else result.final_centroids
    np.testing.assert_array_equal(centroid_values, expected)


def test_script_default_plot_name(impl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    __import__(f"{impl.__name__}.step1_generate_samples", fromlist=["main"]).main()
    assert (tmp_path / "step1_generate_samples.png").exists()

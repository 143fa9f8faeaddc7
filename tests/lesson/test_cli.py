"""The command line: instant help, one-line errors, quiet TensorFlow, the parity table."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kmeans_tutorial import cli

ROOT = Path(__file__).resolve().parents[2]


def test_help_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from kmeans_tutorial.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "sys.exit('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "compare" in done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--n-clusters", "0"], "n_clusters=0 should be >= 1."),
        (["compare", "--seed", "-1"], "seed=-1 should be in [0, 4294967295]."),
        (["run", "--iterations", "-2"], "n_iterations=-2 should be >= 0."),
        (["run", "--embiggen-factor", "nan"], "embiggen_factor=nan should be finite and >= 0."),
        (["run", "--seed", "abc"], "argument --seed: invalid int value: 'abc'"),
        (["run", "--impl", "tf3"], "argument --impl: invalid choice: 'tf3'"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_run_prints_the_final_centroids_and_saves_the_plot(impl, capsys, tmp_path):
    name = {"tf1_graph": "tf1", "tf2_eager": "tf2"}[impl.__name__]
    plot = tmp_path / "lesson.png"
    assert cli.main(["run", "--impl", name, "--iterations", "3", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert f"{impl.__name__}: final centroids after 3 iterations" in out
    final = impl.run_lesson(cli.LessonParams(n_iterations=3)).final_centroids
    assert str(final[0, 0]) in out
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_run_without_two_features_skips_the_plot(capsys, tmp_path):
    plot = tmp_path / "none.png"
    assert cli.main(["run", "--n-features", "1", "--plot", str(plot)]) == 0
    assert "no plot" in capsys.readouterr().out
    assert not plot.exists()


def test_compare_fails_when_a_stage_differs(monkeypatch, capsys):
    real_run = cli._run

    def nudged_run(implementation, params):
        result = real_run(implementation, params)
        if implementation == "tf2":
            result.centroids[-1, 0, 0] = np.nextafter(
                result.centroids[-1, 0, 0], np.float32(np.inf)
            )
        return result

    monkeypatch.setattr(cli, "_run", nudged_run)
    assert cli.main(["compare", "--iterations", "2", "--no-plot"]) == 1
    out = capsys.readouterr().out
    assert "centroids, iteration 2" in out and "NO" in out


@pytest.mark.parity
def test_the_main_job_end_to_end(tmp_path):
    """What the README's first command runs: both implementations, the table, the PNG."""
    plot = tmp_path / "kmeans.png"
    done = subprocess.run(
        [sys.executable, "-m", "kmeans_tutorial", "compare", "--plot", str(plot)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "tf1_graph: final centroids" in done.stdout
    assert "tf2_eager: final centroids" in done.stdout
    assert "23 of 23 stages bit-identical" in done.stdout
    assert done.stderr == ""  # TensorFlow's start-up notices stay out of the way
    assert plot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parity
def test_compare_naive_names_the_first_divergent_stage_and_draws_three_panels(capsys, tmp_path):
    plot = tmp_path / "trap.png"
    argv = ["compare", "--naive", "--iterations", "2", "--plot", str(plot)]
    assert cli.main(argv) == 0  # tf1 and tf2 still agree; the naive port is only shown
    out = capsys.readouterr().out
    assert "naive eager port: first differs from tf1_graph at 'samples'" in out
    from matplotlib.image import imread

    height, width, _ = imread(plot).shape
    assert width > 2.5 * height  # three square-ish panels side by side


def test_progress_prints_each_iteration_and_draws_the_run(impl, capsys, tmp_path):
    name = {"tf1_graph": "tf1", "tf2_eager": "tf2"}[impl.__name__]
    plot = tmp_path / "progress.png"
    argv = ["progress", "--impl", name, "--tol", "0", "--at", "0,1,6", "--plot", str(plot)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert f"{impl.__name__}: 6 iterations" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 6
    from matplotlib.image import imread

    height, width, _ = imread(plot).shape
    assert width > 3 * height  # three iterations and the inertia panel, side by side


def test_progress_colours_each_point_by_its_nearest_centroid(impl):
    """``progress`` shows k-means at work: a panel's point takes the colour of the centroid
    it is assigned to then (the lesson's ``plot_clusters`` colours by generating cluster,
    which at the start is another colouring), and the centroids' paths are drawn above the
    points, with a legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kmeans_tutorial import plotting

    result = impl.run_lesson()
    path = np.concatenate([result.initial_centroids[None], result.centroids])
    palette = matplotlib.colormaps["rainbow"](np.linspace(0, 1, result.params.n_clusters))
    last = len(result.centroids)
    final = ((result.samples[:, None] - path[last][None].astype(np.float64)) ** 2).sum(axis=2)
    expected = {0: result.labels[0], 1: result.labels[1], last: final.argmin(axis=1)}
    figure, axes = plt.subplots()
    try:
        for iteration, labels in expected.items():
            axes.clear()
            plotting.draw_progress_panel(axes, result, path, iteration)
            np.testing.assert_array_equal(axes.collections[0].get_facecolors(), palette[labels])
            assert min(line.get_zorder() for line in axes.lines) > axes.collections[0].get_zorder()
            assert axes.get_legend() is not None
    finally:
        plt.close(figure)
    generating = np.repeat(np.arange(result.params.n_clusters), result.params.n_samples_per_cluster)
    assert (expected[0] != generating).any()


def test_progress_refuses_a_bad_iteration_list(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["progress", "--at", "1,x", "--plot", "unused.png"])
    assert info.value.code == 2
    assert "--at='1,x' should be iterations" in capsys.readouterr().err


def test_a_lesson_too_large_for_memory_is_refused_before_tensorflow_loads():
    code = (
        "import sys\n"
        "from kmeans_tutorial.cli import main\n"
        "try:\n    main(['run', '--n-clusters', '5000'])\n"
        "except SystemExit as exit:\n    print(exit.code, 'tensorflow' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == ["2", "False"]
    (line,) = done.stderr.splitlines()
    assert "assign_to_nearest would need 186.3 GiB" in line
    assert "5000 x 2500000 x 2 float32" in line and "KMeans" in line


def test_the_memory_check_names_bytes_needed_and_available():
    from kmeans_tutorial.params import LessonParams, check_fits_in_memory, lesson_bytes

    params = LessonParams(n_clusters=4, n_samples_per_cluster=1000, n_features=8)
    assert lesson_bytes(params) == 2 * 4 * 4 * 4000 * 8
    check_fits_in_memory(params, available=lesson_bytes(params))  # just fits
    with pytest.raises(cli.InvalidParameterError, match=r"need 1000.0 KiB .* 999.0 KiB is av"):
        check_fits_in_memory(params, available=lesson_bytes(params) - 1024)


def forbid_running(monkeypatch):
    def fail(*_):
        raise AssertionError("the lesson ran before the request was checked")

    monkeypatch.setattr(cli, "_run", fail)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--plot", "/no/such/folder/x.png"], "the folder '/no/such/folder' does not"),
        (["compare", "--plot", "."], "--plot='.' is a directory"),
        (["progress", "--at", "0,99"], "--at=0,99 should list iterations in [0, 10]"),
        (["progress", "--iterations", "3", "--at", "4"], "in [0, 3] (0 is the initial"),
        (["progress", "--at", "-1"], "got [-1]"),
        # An unused flag's value is checked too: nothing is drawn, the value is still wrong.
        (["progress", "--at", "0,99", "--no-plot"], "--at=0,99 should list iterations"),
        (["progress", "--n-features", "1", "--at", "x"], "--at='x' should be iterations"),
    ],
)
def test_bad_requests_are_refused_before_the_lesson_runs(monkeypatch, capsys, argv, message):
    forbid_running(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_at_beyond_an_early_stop_names_the_iterations_run(capsys, tmp_path):
    plot = tmp_path / "p.png"
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["progress", "--tol", "0", "--at", "0,9", "--plot", str(plot)])
    assert exit_info.value.code == 2
    assert "--at=0,9 should list iterations in [0, 6]" in capsys.readouterr().err
    assert not plot.exists()


@pytest.mark.parametrize("error", [ValueError("a bug"), TypeError("a bug"), KeyError("a bug")])
def test_a_bug_keeps_its_traceback(monkeypatch, error):
    """Only InvalidParameterError becomes one line; a plain ValueError is a bug."""

    def buggy(*_):
        raise error

    monkeypatch.setattr(cli, "_run", buggy)
    with pytest.raises(type(error), match="a bug"):
        cli.main(["run", "--no-plot"])

"""``kmeans-tutorial fit``: the user's own data, streamed from a .npy or read from a .csv."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kmeans_tutorial import cli, fit_command


@pytest.fixture(scope="module")
def blobs():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=3000, n_features=2, centers=4, random_state=0)
    return X.astype(np.float32)


@pytest.fixture
def npy(blobs, tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, blobs)
    return path


def csv(text: str):
    """A case's maker: ``text`` written to a .csv beside the case's path, which it returns."""

    def make(path: Path) -> Path:
        path.with_suffix(".csv").write_text(text)
        return path.with_suffix(".csv")

    return make


def outputs(tmp_path):
    return ["--centers", str(tmp_path / "c.npy"), "--labels", str(tmp_path / "l.npy")]


@pytest.mark.parametrize("mini_batch", [[], ["--mini-batch"]], ids=["lloyd", "mini-batch"])
def test_fit_saves_what_the_estimator_fits(impl, blobs, npy, tmp_path, capsys, mini_batch):
    name = {"tf1_graph": "tf1", "tf2_eager": "tf2"}[impl.__name__]
    plot = tmp_path / "fit.png"
    argv = ["fit", str(npy), "--n-clusters", "4", "--impl", name, "--seed", "3", "--max-iter", "7"]
    assert cli.main([*argv, *mini_batch, *outputs(tmp_path), "--plot", str(plot)]) == 0
    cls = impl.MiniBatchKMeans if mini_batch else impl.KMeans
    expected = cls(4, random_state=3, max_iter=7).fit(np.load(npy, mmap_mode="r"))
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), expected.cluster_centers_)
    np.testing.assert_array_equal(np.load(tmp_path / "l.npy"), expected.labels_)
    out = capsys.readouterr().out
    assert "3,000 samples, 2 features, 4 clusters" in out
    assert plot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("init", ["k-means||", "random"])
def test_init_chooses_the_initial_centres(impl, npy, tmp_path, init):
    name = {"tf1_graph": "tf1", "tf2_eager": "tf2"}[impl.__name__]
    argv = ["fit", str(npy), "--n-clusters", "4", "--impl", name, "--init", init, "--no-plot"]
    assert cli.main([*argv, *outputs(tmp_path)]) == 0
    expected = impl.KMeans(4, init=init, random_state=0).fit(np.load(npy, mmap_mode="r"))
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), expected.cluster_centers_)
    default = impl.KMeans(4, random_state=0).fit(np.load(npy, mmap_mode="r"))
    assert expected.n_iter_ != default.n_iter_ or not np.array_equal(
        expected.cluster_centers_, default.cluster_centers_
    )


def test_fit_reads_a_csv_with_a_header(impl, blobs, tmp_path):
    path = tmp_path / "data.csv"
    np.savetxt(path, blobs[:400], delimiter=",", header="x,y", comments="")
    assert cli.main(["fit", str(path), "--n-clusters", "3", "--no-plot", *outputs(tmp_path)]) == 0
    expected = impl.KMeans(3, random_state=0).fit(np.loadtxt(path, delimiter=",", skiprows=1))
    np.testing.assert_allclose(np.load(tmp_path / "c.npy"), expected.cluster_centers_)


def test_the_progress_bar_shows_rows_time_and_inertia():
    stream = io.StringIO()
    bar = fit_command.ProgressBar(1000, stream=stream, after=0)
    bar(1, 500, 1.5, 123.0)
    bar(2, 1000, 3.0, 99.0)
    bar.close()
    lines = stream.getvalue().split("\n")
    assert "pass 1 [###############...............] 500/1,000 rows 1.5 s inertia 123" in lines[0]
    assert "pass 2 [##############################] 1,000/1,000 rows 3.0 s inertia 99" in lines[1]
    quiet = io.StringIO()
    fit_command.ProgressBar(1000, stream=quiet)(1, 500, 0.2, 1.0)  # a short pass: nothing
    assert quiet.getvalue() == ""


def test_a_long_fit_draws_its_progress(npy, tmp_path, capfd, monkeypatch):
    """On the real stderr, past the filter that keeps TensorFlow's chatter out."""
    monkeypatch.setattr(fit_command.ProgressBar, "AFTER", 0)
    assert cli.main(["fit", str(npy), "--n-clusters", "4", "--no-plot", *outputs(tmp_path)]) == 0
    err = capfd.readouterr().err
    assert "pass 1 [" in err and "3,000/3,000 rows" in err
    assert "oneDNN" not in err  # TensorFlow's own start-up notices stay hidden


@pytest.mark.parametrize(
    ("make", "flags", "message"),
    [
        (None, [], "no such file"),
        (lambda path: path.with_suffix(".txt").write_text("1,2"), [], "give a .npy or a .csv"),
        (lambda path: np.save(path, np.zeros(5)), [], "it must be 2-D"),
        (lambda path: np.save(path, np.array([["a", "b"]])), [], "not numbers"),
        (lambda path: path.write_bytes(b"not numpy"), [], "is not a .npy file"),
        (lambda path: path.write_bytes(b""), [], "is empty (0 bytes)"),
        (csv(""), [], "is empty (0 bytes)"),
        (csv("x,y\n"), [], "has no rows of numbers"),
        (csv("1,2\n3,4\n5,6,7\n"), [], "line 3 (row 2 of the data) has 3 values, the lines"),
        (lambda path: path.parent, [], "is a directory"),
        (None, ["--n-clusters", "0"], "--n-clusters 0 should be >= 1."),
        (None, ["--seed", "-1"], "--seed -1 should be in [0, 4294967295]."),
        (lambda path: np.save(path, np.full((9, 2), np.nan)), [], "contains NaN: nan at row 0"),
        (lambda path: np.save(path, np.zeros((9, 2))), ["--n-clusters", "20"], "n_samples=9"),
        (
            lambda path: np.save(path, np.zeros((9, 2))),
            ["--centers", "/nope/c.npy"],
            "not writable",
        ),
        (lambda path: np.save(path, np.zeros((9, 2))), ["--max-iter", "0"], "--max-iter 0 should"),
        (
            lambda path: np.save(path, np.zeros((9, 2))),
            ["--mini-batch", "--init", "k-means||"],
            "--init k-means|| is for KMeans",
        ),
    ],
    ids=[
        "missing",
        "suffix",
        "1-D",
        "strings",
        "garbage",
        "empty-npy",
        "empty-csv",
        "header-only-csv",
        "ragged-csv",
        "directory",
        "n-clusters",
        "seed",
        "nan",
        "too-few",
        "folder",
        "max-iter",
        "mini-batch-init",
    ],
)
def test_bad_requests_are_one_line_and_status_2(tmp_path, capsys, make, flags, message):
    path = tmp_path / "data.npy"
    made = None if make is None else make(path)
    if isinstance(made, Path):  # the file (or folder) the case made
        path = made
    elif make is not None and not path.exists():
        path = path.with_suffix(".txt")
    argv = ["fit", str(path), "--n-clusters", "2", "--no-plot", *outputs(tmp_path), *flags]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "allow_pickle" not in err


def test_flags_are_checked_before_tensorflow_loads():
    """A bad flag is told in the flag's words before the data is read or TensorFlow loads
    (it used to wait 6-7 s for TensorFlow, and to speak the Python API's names)."""
    code = (
        "import sys\n"
        "from kmeans_tutorial.cli import main\n"
        "try:\n    main(['fit', 'missing.npy', '--n-clusters', '0'])\n"
        "except SystemExit as error:\n    print('exit', error.code)\n"
        "print('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["exit", "2", "False"], done.stdout + done.stderr
    assert "--n-clusters 0 should be >= 1." in done.stderr

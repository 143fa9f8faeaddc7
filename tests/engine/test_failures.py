"""Fits that fail: bad data found mid-stream gets one clear error naming where it is, raised
before any fitted attribute changes, and the estimator is left as it was; the command line
ends an interrupted fit with one line, and never leaves half a file.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from kmeans_tutorial import cli, fit_command
from kmeans_tutorial.validation import InvalidParameterError

tf = pytest.importorskip("tensorflow")

BATCH = 100


@pytest.fixture(scope="module")
def rows():
    return np.random.RandomState(0).rand(40 * BATCH, 3).astype(np.float32)


def fitted_state(model) -> dict:
    """Every attribute a fit sets, as it is now."""
    return {name: value for name, value in vars(model).items() if name.endswith("_")}


def assert_unchanged(model, before: dict):
    after = fitted_state(model)
    assert after.keys() == before.keys()
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)


def with_nan_in_batch_37(rows):
    bad = rows.copy()
    bad[37 * BATCH + 5, 1] = np.nan
    return tf.data.Dataset.from_tensor_slices(bad).batch(BATCH)


def with_a_wider_batch_37(rows):
    def batches():
        for batch in range(40):
            x = rows[batch * BATCH : (batch + 1) * BATCH]
            yield np.hstack([x, x[:, :1]]) if batch == 37 else x

    spec = tf.TensorSpec((None, None), tf.float32)
    return tf.data.Dataset.from_generator(batches, output_signature=spec)


BAD_STREAMS = {
    "nan": (with_nan_in_batch_37, r"NaN: nan at row 3705, column 1 \(batch 37\)"),
    "width": (with_a_wider_batch_37, r"X has 4 features at row 3700 \(batch 37\), 3 before"),
}


@pytest.mark.parametrize("estimator", ["KMeans", "MiniBatchKMeans"])
@pytest.mark.parametrize("bad", BAD_STREAMS)
def test_bad_data_mid_stream_names_its_batch_and_row_and_changes_nothing(
    impl, rows, estimator, bad
):
    make, message = BAD_STREAMS[bad]
    model = getattr(impl, estimator)(3, random_state=0, n_init=1).fit(rows)
    before = fitted_state(model)
    with pytest.raises(InvalidParameterError, match=message):
        model.fit(make(rows))
    assert_unchanged(model, before)


def test_a_failed_partial_fit_changes_nothing(impl, rows):
    model = impl.MiniBatchKMeans(3, random_state=0, n_init=1).partial_fit(rows[:500])
    before = fitted_state(model)
    bad = rows[500:1000].copy()
    bad[7, 0] = np.inf
    with pytest.raises(InvalidParameterError, match="infinity"):
        model.partial_fit(bad)
    assert_unchanged(model, before)
    # The generator was put back too: the next step is the one an unbroken run takes.
    unbroken = impl.MiniBatchKMeans(3, random_state=0, n_init=1).partial_fit(rows[:500])
    np.testing.assert_array_equal(
        model.partial_fit(rows[1000:1500]).cluster_centers_,
        unbroken.partial_fit(rows[1000:1500]).cluster_centers_,
    )


def test_an_interrupted_fit_changes_nothing(impl, rows, monkeypatch):
    from kmeans_tutorial.engine import streamed

    model = impl.KMeans(3, random_state=0, n_init=1).fit(rows)
    before = fitted_state(model)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(streamed, "lloyd", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.fit(tf.data.Dataset.from_tensor_slices(rows[::-1].copy()).batch(BATCH))
    assert_unchanged(model, before)


TRUNCATE = """
import os, sys
import numpy as np
import tf2_eager
from kmeans_tutorial.engine import streamed

path = sys.argv[1]
X = np.load(path, mmap_mode="r")
lloyd = streamed.lloyd

def truncated_first(core, stream, *args, **kwargs):
    stream.chunk_rows = 256
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2)
    return lloyd(core, stream, *args, **kwargs)

streamed.lloyd = truncated_first
try:
    tf2_eager.KMeans(3, random_state=0, n_init=1).fit(X)
except Exception as error:
    print(type(error).__name__, error)
"""


def test_a_memmap_truncated_during_the_fit_is_an_error_not_a_crash(rows, tmp_path):
    """Reading a page a truncation removed kills the process with SIGBUS; the stream looks
    at the file's size before each chunk. In a process of its own, so a crash fails only
    this test."""
    path = tmp_path / "X.npy"
    np.save(path, rows)
    done = subprocess.run(
        [sys.executable, "-c", TRUNCATE, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "InvalidParameterError" in done.stdout, done.stdout
    # Half of a 128-byte header and 4000 rows of 12 bytes: 1994 whole rows; chunks of 256.
    expected = "it holds 1994 whole rows of 4000, and the fit was reading up to row 2048"
    assert "truncated during the fit: " + expected in done.stdout


def test_a_csv_line_that_is_not_numbers_is_named(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n3,4\n5,x\n7,8\n")
    argv = ["fit", str(path), "--n-clusters", "2", "--no-plot"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--centers", str(tmp_path / "c.npy"), "--labels", str(tmp_path / "l")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "line 4 (row 2 of the data) is not numbers separated by commas: '5,x'" in err, err
    assert len(err.strip().splitlines()) == 1


def test_ctrl_c_during_a_fit_is_one_line_and_status_130(impl, rows, tmp_path, capsys, monkeypatch):
    path = tmp_path / "data.npy"
    np.save(path, rows)

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(impl.KMeans, "fit", interrupted)
    name = {"tf1_graph": "tf1", "tf2_eager": "tf2"}[impl.__name__]
    centers = tmp_path / "c.npy"
    argv = ["fit", str(path), "--n-clusters", "3", "--impl", name, "--no-plot"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--centers", str(centers), "--labels", str(tmp_path / "l.npy")])
    assert exit_info.value.code == 130
    err = capsys.readouterr().err
    assert err.strip() == "kmeans-tutorial: interrupted", err
    assert not centers.exists()


def test_an_interrupted_save_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "centers.npy"
    fit_command.save_atomically(target, np.arange(6.0))
    real_save = np.save

    def interrupted(file, array, *args, **kwargs):
        real_save(file, array[:1])  # part of the file is written, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fit_command.save_atomically(target, np.arange(100.0))
    np.testing.assert_array_equal(np.load(target), np.arange(6.0))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["centers.npy"]
    monkeypatch.undo()
    fit_command.save_atomically(tmp_path / "labels", np.arange(3))  # np.save's name
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), np.arange(3))


def test_ctrl_c_says_where_a_checkpointed_fit_resumes(tmp_path, capsys, monkeypatch):
    """With --checkpoint-dir, the one line names the last checkpoint; the same command run
    again resumes from it and saves the fit never interrupted."""
    path, folder = tmp_path / "data.npy", tmp_path / "checkpoints"
    np.save(path, np.random.RandomState(1).rand(3000, 2))

    def interrupted_on_pass_3(self, number, *args):
        if number == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(fit_command.ProgressBar, "__call__", interrupted_on_pass_3)
    centers = tmp_path / "c.npy"
    argv = ["fit", str(path), "--n-clusters", "5", "--impl", "tf2", "--no-plot"]
    argv += ["--checkpoint-dir", str(folder), "--centers", str(centers)]
    argv += ["--labels", str(tmp_path / "l.npy")]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 130
    err = capsys.readouterr().err.strip()
    assert err == (
        f"kmeans-tutorial: interrupted: the fit's last checkpoint is {folder / 'ckpt-2'}; "
        f"run the same command again to resume"
    )
    assert not centers.exists()
    monkeypatch.undo()
    assert cli.main(argv) == 0
    import tf2_eager

    expected = tf2_eager.KMeans(5, random_state=0).fit(np.load(path, mmap_mode="r"))
    np.testing.assert_array_equal(np.load(centers), expected.cluster_centers_)


def test_checkpoints_of_a_csv_fit_are_refused(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("1,2\n3,4\n5,6\n")
    argv = ["fit", str(path), "--n-clusters", "2", "--checkpoint-dir", str(tmp_path / "c")]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "--checkpoint-dir needs DATA as a .npy file" in capsys.readouterr().err


def test_a_checkpointed_fit_goes_on_with_a_larger_max_iter(tmp_path, capsys):
    """``--max-iter 6`` after a finished ``--max-iter 2`` with the same ``--checkpoint-dir``
    continues the fit, as one of 6 from the start; ``--max-iter 1`` then is one line and
    exit 2, naming both values."""
    path, folder = tmp_path / "data.npy", tmp_path / "checkpoints"
    np.save(path, np.random.RandomState(1).rand(3000, 2))
    centers = tmp_path / "c.npy"
    argv = ["fit", str(path), "--n-clusters", "5", "--impl", "tf2", "--no-plot", "--no-progress"]
    argv += ["--checkpoint-dir", str(folder), "--centers", str(centers)]
    argv += ["--labels", str(tmp_path / "l.npy")]
    assert cli.main([*argv, "--max-iter", "2"]) == 0
    assert cli.main([*argv, "--max-iter", "6"]) == 0
    import tf2_eager

    data = np.load(path, mmap_mode="r")
    expected = tf2_eager.KMeans(5, random_state=0, max_iter=6).fit(data)
    assert expected.n_iter_ > 2  # so the second command went on from the first's end
    np.testing.assert_array_equal(np.load(centers), expected.cluster_centers_)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--max-iter", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "max_iter=6" in err and "max_iter=1 here" in err, err

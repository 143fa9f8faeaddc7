"""``KMeans.export_saved_model``: a SavedModel served by TensorFlow alone."""

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_blobs

SERVE = """
import json, sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
x = tf.constant(np.load(sys.argv[2]))
out = {key: {name: value.numpy().tolist() for name, value in loaded.signatures[key](x=x).items()}
       for key in sorted(loaded.signatures)}
ours = sorted(name for name in sys.modules if name.split(".")[0] in
              ("kmeans_tutorial", "tf1_graph", "tf2_eager"))
print(json.dumps({"signatures": out, "ours": ours}))
"""


@pytest.fixture(scope="module")
def blobs():
    points, _ = make_blobs(n_samples=600, n_features=3, centers=4, random_state=2)
    return points.astype(np.float32)


@pytest.mark.parametrize("cls", ["KMeans", "MiniBatchKMeans"])
def test_a_fresh_process_that_imports_only_tensorflow_serves_the_model(impl, cls, blobs, tmp_path):
    model = getattr(impl, cls)(4, random_state=0, n_init=1).fit(blobs)
    path = model.export_saved_model(tmp_path / "model")
    np.save(tmp_path / "x.npy", blobs[:100])
    done = subprocess.run(
        [sys.executable, "-c", SERVE, path, str(tmp_path / "x.npy")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["ours"] == []
    signatures = result["signatures"]
    assert sorted(signatures) == ["cluster_index", "distances", "score", "serving_default"]
    np.testing.assert_array_equal(
        signatures["cluster_index"]["cluster_index"], model.predict(blobs[:100])
    )
    np.testing.assert_allclose(
        signatures["distances"]["distances"], model.transform(blobs[:100]), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(signatures["score"]["score"], model.score(blobs[:100]), rtol=1e-4)
    for name in ("cluster_index", "distances", "score"):
        np.testing.assert_array_equal(signatures["serving_default"][name], signatures[name][name])


def test_an_unfitted_model_does_not_export(impl, tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        impl.KMeans(3).export_saved_model(tmp_path / "model")


@pytest.mark.parity
def test_both_packages_export_the_same_model(tf1, tf2, blobs, tmp_path):
    import tensorflow as tf

    exported = []
    for package in (tf1, tf2):
        model = package.KMeans(4, random_state=0, n_init=1).fit(blobs)
        loaded = tf.saved_model.load(model.export_saved_model(tmp_path / package.__name__))
        exported.append(loaded.signatures["serving_default"](x=tf.constant(blobs)))
    for name in ("cluster_index", "distances", "score"):
        np.testing.assert_array_equal(exported[0][name].numpy(), exported[1][name].numpy())

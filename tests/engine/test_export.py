"""SavedModels served by TensorFlow alone: ``export_saved_model`` of both packages'
``KMeans`` and ``MiniBatchKMeans`` (Euclidean and cosine), and of the drop-in estimator.

Every model the chosen packages export is loaded by one fresh process that imports only
TensorFlow (one process for all: each costs seconds of TensorFlow start-up); the tests
compare what it served with the fitted models.
"""

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
paths, x = json.loads(sys.argv[1]), tf.constant(np.load(sys.argv[2]))
served = {}
for name, path in paths.items():
    loaded = tf.saved_model.load(path)
    served[name] = {
        key: {output: value.numpy().tolist() for output, value in function(x=x).items()}
        for key, function in loaded.signatures.items()
    }
ours = sorted(name for name in sys.modules if name.split(".")[0] in
              ("kmeans_tutorial", "tf1_graph", "tf2_eager"))
print(json.dumps({"served": served, "ours": ours}))
"""
CASES = {"KMeans": ("KMeans", {}), "MiniBatchKMeans": ("MiniBatchKMeans", {}),
         "cosine": ("KMeans", {"metric": "cosine"})}  # fmt: skip
N_CLUSTERS, ROWS = 4, 100


@pytest.fixture(scope="module")
def blobs():
    points, _ = make_blobs(n_samples=600, n_features=3, centers=N_CLUSTERS, random_state=2)
    return points.astype(np.float32)


def _estimator_export(blobs, folder):
    """The drop-in estimator, trained and exported as a script using it would."""
    import tensorflow as tf

    from tf1_graph import estimator

    init = blobs[:N_CLUSTERS]
    kmeans = estimator.KMeans(N_CLUSTERS, model_dir=folder / "model", initial_clusters=init,
                              use_mini_batch=False)  # fmt: skip
    kmeans.train(lambda: tf.data.Dataset.from_tensors(blobs).repeat(), steps=3)
    serving = estimator.export.build_raw_serving_input_receiver_fn({"x": tf.constant(blobs[:1])})
    return kmeans, kmeans.export_saved_model(folder / "export", serving).decode()


@pytest.fixture(scope="module")
def served(request, blobs, tmp_path_factory):
    """(models, what the fresh process served from each, the project modules it loaded)."""
    import importlib

    chosen = request.config.getoption("impl")
    keys = ["tf1", "tf2"] if chosen == "both" else [chosen]
    folder = tmp_path_factory.mktemp("export")
    models, paths = {}, {}
    for key in keys:
        package = importlib.import_module({"tf1": "tf1_graph", "tf2": "tf2_eager"}[key])
        for case, (cls, params) in CASES.items():
            model = getattr(package, cls)(N_CLUSTERS, random_state=0, n_init=1, **params)
            models[key, case] = model.fit(blobs)
            paths[f"{key}-{case}"] = model.export_saved_model(folder / f"{key}-{case}")
    if "tf1" in keys:
        models["estimator"], paths["estimator"] = _estimator_export(blobs, folder / "estimator")
    np.save(folder / "x.npy", blobs[:ROWS])
    done = subprocess.run(
        [sys.executable, "-c", SERVE, json.dumps(paths), str(folder / "x.npy")],
        capture_output=True, text=True, timeout=300, cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    return models, result["served"], result["ours"]


def test_the_serving_process_imports_none_of_ours(served):
    assert served[2] == []


@pytest.mark.parametrize("case", CASES)
def test_a_fresh_process_that_imports_only_tensorflow_serves_the_model(impl, served, blobs, case):
    key = "tf1" if impl.__name__ == "tf1_graph" else "tf2"
    model, signatures = served[0][key, case], served[1][f"{key}-{case}"]
    x = blobs[:ROWS]
    assert sorted(signatures) == ["cluster_index", "distances", "score", "serving_default"]
    np.testing.assert_array_equal(signatures["cluster_index"]["cluster_index"], model.predict(x))
    tolerance = 1e-6 if case == "cosine" else 1e-4
    np.testing.assert_allclose(
        signatures["distances"]["distances"], model.transform(x), rtol=1e-4, atol=tolerance
    )
    np.testing.assert_allclose(signatures["score"]["score"], model.score(x), rtol=1e-4)
    for name in ("cluster_index", "distances", "score"):
        np.testing.assert_array_equal(signatures["serving_default"][name], signatures[name][name])


def test_the_estimator_export_serves_its_signatures(served, blobs, request):
    """The drop-in's export: the estimator's signatures and output name, its answers."""
    if request.config.getoption("impl") == "tf2":
        pytest.skip("tf1_graph's drop-in runs with the tf1 tests")
    kmeans, signatures = served[0]["estimator"], served[1]["estimator"]
    assert sorted(signatures) == ["all_distances", "cluster_index", "serving_default"]
    import tensorflow as tf

    x = blobs[:ROWS]
    index = list(kmeans.predict_cluster_index(lambda: tf.data.Dataset.from_tensors(x)))
    np.testing.assert_array_equal(signatures["cluster_index"]["output"], index)
    np.testing.assert_array_equal(signatures["serving_default"]["output"], index)
    squared = np.sqrt(np.asarray(signatures["all_distances"]["output"]).clip(0))
    np.testing.assert_allclose(
        squared,
        list(kmeans.transform(lambda: tf.data.Dataset.from_tensors(x))),
        rtol=1e-4,
        atol=1e-3,
    )


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

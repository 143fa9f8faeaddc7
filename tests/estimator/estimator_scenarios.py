"""Scenarios for TensorFlow's KMeans estimator; saves what each gave to an ``.npz``.

    python estimator_scenarios.py OUT.npz

Written for ``tf.compat.v1.estimator`` (TF 2.15 with ``tensorflow-estimator``). The nox
session ``estimator`` runs this file there, then a copy whose one import line is changed
to the drop-in (``DROP_IN_IMPORT``) on the project's TensorFlow, and
``test_estimator_dropin.py`` compares the two results. Nothing else in the file may
differ between the runs: a test checks that the copy differs by that line alone.
"""

import glob
import sys
import tempfile

import numpy as np
import tensorflow as tf
from tensorflow.compat.v1 import estimator  # the line the drop-in replaces

KMeans = estimator.experimental.KMeans
N_CLUSTERS = 5


def blobs(n_samples=1200, n_features=4, seed=0):
    """Well-separated float32 blobs, shuffled."""
    rng = np.random.RandomState(seed)
    centres = rng.uniform(-10, 10, size=(N_CLUSTERS, n_features))
    labels = rng.randint(N_CLUSTERS, size=n_samples)
    return (centres[labels] + rng.normal(size=(n_samples, n_features))).astype(np.float32)


X = blobs()
INIT = X[:N_CLUSTERS].copy()


def whole(points=X):
    """The estimator's own example input: all the points, once."""
    return lambda: tf.compat.v1.train.limit_epochs(tf.constant(points), num_epochs=1)


def repeated(points=X):
    """All the points as one batch, again and again (train with ``steps``)."""
    return lambda: tf.data.Dataset.from_tensors(points).repeat()


def batches(size, points=X):
    """Mini-batches of ``size`` rows, repeated."""
    return lambda: tf.data.Dataset.from_tensor_slices(points).batch(size).repeat()


def once_in_batches(size, points=X):
    return lambda: tf.data.Dataset.from_tensor_slices(points).batch(size)


def fitted(name, out, estimator_, train_input, predict_input=None):
    """What a trained estimator says: centres, score, labels, distances, step."""
    predict_input = predict_input or whole()
    out[f"{name}/centers"] = estimator_.cluster_centers()
    out[f"{name}/score"] = estimator_.score(whole())
    out[f"{name}/index"] = np.array(list(estimator_.predict_cluster_index(predict_input)))
    out[f"{name}/transform"] = np.array(list(estimator_.transform(predict_input)))
    out[f"{name}/global_step"] = estimator_.get_variable_value("global_step")


def summaries(model_dir):
    """The scalars a model_dir's event files hold (not its eval/ folder's): {tag: [(step,
    value), ...]}."""
    found = {}
    for path in sorted(glob.glob(f"{model_dir}/events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def main(path):
    out = {}
    folder = tempfile.mkdtemp()

    # Full batch, from given centres: the estimator's own example, 10 train calls.
    full = KMeans(N_CLUSTERS, model_dir=f"{folder}/full", initial_clusters=INIT,
                  use_mini_batch=False)  # fmt: skip
    trajectory = []
    for _ in range(10):
        full.train(whole())
        trajectory.append(full.cluster_centers())
    out["full/trajectory"] = np.array(trajectory)
    # What TensorBoard shows of it: the loss of the first step of each train call.
    logged = summaries(f"{folder}/full")
    out["summaries/tags"] = np.array(sorted(logged))
    out["summaries/steps"] = np.array([step for step, _ in logged["loss"]])
    out["summaries/loss"] = np.array([value for _, value in logged["loss"]])
    out["summaries/raw"] = np.array([value for _, value in logged["loss/raw"]])
    fitted("full", out, full, whole())
    out["full/names"] = np.array(sorted(full.get_variable_names()))
    out["full/evaluate"] = np.array(
        [full.evaluate(once_in_batches(400))[key] for key in ("score", "loss", "global_step")]
    )

    # A new instance on the same model_dir restores it, and a train call resumes.
    again = KMeans(N_CLUSTERS, model_dir=f"{folder}/full", initial_clusters=INIT,
                   use_mini_batch=False)  # fmt: skip
    out["restored/centers"] = again.cluster_centers()
    again.train(repeated(), steps=3)
    fitted("resumed", out, again, repeated())

    # Cosine distance, full batch.
    cosine = KMeans(N_CLUSTERS, model_dir=f"{folder}/cosine", initial_clusters=INIT,
                    distance_metric=KMeans.COSINE_DISTANCE, use_mini_batch=False)  # fmt: skip
    cosine.train(repeated(), steps=10)
    fitted("cosine", out, cosine, repeated())

    # Seeded random initialisation: two seeds, one global step each.
    for seed in (1, 2):
        seeded = KMeans(N_CLUSTERS, model_dir=f"{folder}/seed{seed}", seed=seed,
                        use_mini_batch=False)  # fmt: skip
        seeded.train(repeated(), steps=1)
        out[f"seed{seed}/centers"] = seeded.cluster_centers()

    # k-means++ initialisation, seeded.
    plus = KMeans(N_CLUSTERS, model_dir=f"{folder}/plus", seed=5,
                  initial_clusters=KMeans.KMEANS_PLUS_PLUS_INIT, use_mini_batch=False)  # fmt: skip
    plus.train(repeated(), steps=1)
    out["plus/centers"] = plus.cluster_centers()

    # k-means++ without a seed: the estimator passed None to the kernel's seed and failed.
    try:
        plus_plus = KMeans.KMEANS_PLUS_PLUS_INIT
        unseeded = KMeans(N_CLUSTERS, model_dir=f"{folder}/unseeded", initial_clusters=plus_plus,
                          use_mini_batch=False)  # fmt: skip
        unseeded.train(repeated(), steps=1)
        out["unseeded/failed"] = np.array(False)
    except ValueError:
        out["unseeded/failed"] = np.array(True)

    # The relative tolerance: the step training stops at.
    tolerant = KMeans(N_CLUSTERS, model_dir=f"{folder}/tol", initial_clusters=INIT,
                      use_mini_batch=False, relative_tolerance=1e-3)  # fmt: skip
    tolerant.train(repeated(), steps=100)
    out["tol/global_step"] = tolerant.get_variable_value("global_step")
    out["tol/centers"] = tolerant.cluster_centers()

    # Mini-batch, one step an iteration (counts start at 1) and ten (they start at 0).
    for steps in (1, 10):
        mini = KMeans(N_CLUSTERS, model_dir=f"{folder}/mini{steps}", initial_clusters=INIT,
                      mini_batch_steps_per_iteration=steps)  # fmt: skip
        mini.train(batches(60), steps=200)
        fitted(f"mini{steps}", out, mini, whole())
        out[f"mini{steps}/names"] = np.array(sorted(mini.get_variable_names()))
        logged = summaries(f"{folder}/mini{steps}")
        out[f"mini{steps}/summary_tags"] = np.array(sorted(logged))
        out[f"mini{steps}/summary_steps"] = np.array([step for step, _ in logged["loss"]])

    # Export, then serve from the SavedModel with TF2's loader.
    def serving():
        x = tf.compat.v1.placeholder(tf.float32, [None, X.shape[1]], name="x")
        return estimator.export.ServingInputReceiver(x, {"x": x})

    exported = full.export_saved_model(f"{folder}/export", serving).decode()
    loaded = tf.saved_model.load(exported)
    out["export/signatures"] = np.array(sorted(loaded.signatures))
    for key in ("cluster_index", "all_distances", "serving_default"):
        result = loaded.signatures[key](x=tf.constant(X[:50]))
        out[f"export/{key}"] = result["output"].numpy()

    np.savez(path, **out)


if __name__ == "__main__":
    main(sys.argv[1])

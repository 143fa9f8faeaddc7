"""Every TF1/TF2 difference the README claims, demonstrated on the installed TensorFlow.

If TensorFlow changes one of these behaviours, the test that states it fails.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from kmeans_tutorial import LESSON_DEFAULTS, LessonParams
from kmeans_tutorial.results import compare_results
from tf2_eager import naive_port

v1 = tf.compat.v1
SEED = LESSON_DEFAULTS.seed
SHAPE = (500, 2)

pytestmark = pytest.mark.parity  # needs both packages


def run_graph(build):
    """Build ops with ``build()`` in a private graph; return the fetched values of one run."""
    graph = tf.Graph()
    with graph.as_default():
        fetches = build()
    with v1.Session(graph=graph) as session:
        return session.run(fetches)


@pytest.fixture(autouse=True)
def _fresh_eager_state():
    """Start each test with an empty eager kernel cache, and leave none behind."""
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)


def test_an_op_seed_alone_gets_the_default_graph_seed():
    from tf2_eager.tf1_random import DEFAULT_GRAPH_SEED, tf1_seed_pair

    graph = tf.Graph()
    with graph.as_default():
        v1.random_normal(SHAPE, seed=SEED)
    (op,) = [op for op in graph.get_operations() if op.type == "RandomStandardNormal"]
    assert (op.get_attr("seed"), op.get_attr("seed2")) == (DEFAULT_GRAPH_SEED, SEED)
    assert tf1_seed_pair(SEED) == (DEFAULT_GRAPH_SEED, SEED)


@pytest.mark.parametrize("seed", [2**31 - 1, 2**31 + 5, 2**32 - 1])
def test_op_seeds_wrap_at_2_31_minus_1(seed):
    wrapped = seed % (2**31 - 1)
    same = run_graph(
        lambda: [v1.random_normal((4,), seed=seed), v1.random_normal((4,), seed=wrapped)]
    )
    np.testing.assert_array_equal(same[0], same[1])


def test_graph_ops_with_one_seed_draw_the_same_values():
    first, second = run_graph(
        lambda: [v1.random_normal(SHAPE, seed=SEED), v1.random_normal(SHAPE, seed=SEED)]
    )
    np.testing.assert_array_equal(first, second)


def test_eager_calls_with_one_seed_continue_one_stream():
    first = tf.random.normal(SHAPE, seed=SEED)
    second = tf.random.normal(SHAPE, seed=SEED)
    assert not np.array_equal(first, second)
    graph_value = run_graph(lambda: v1.random_normal(SHAPE, seed=SEED))
    np.testing.assert_array_equal(first, graph_value)


def test_an_earlier_call_of_another_shape_shifts_the_eager_stream():
    graph_value = run_graph(lambda: v1.random_normal(SHAPE, seed=SEED))
    tf.random.normal((3,), seed=SEED)
    assert not np.array_equal(tf.random.normal(SHAPE, seed=SEED), graph_value)


def test_set_seed_restarts_the_eager_streams():
    tf.random.set_seed(7)
    first = tf.random.normal(SHAPE, seed=SEED)
    tf.random.set_seed(7)
    np.testing.assert_array_equal(tf.random.normal(SHAPE, seed=SEED), first)


def test_public_stateless_normal_is_not_the_stateful_stream():
    graph_value = run_graph(lambda: v1.random_normal(SHAPE, seed=SEED))
    stateless = tf.random.stateless_normal(SHAPE, seed=[87654321, SEED])
    assert not np.array_equal(stateless, graph_value)


def test_tf1_random_reproduces_the_graph_ops_after_any_eager_history():
    from tf2_eager import tf1_random

    normal, shuffled = run_graph(
        lambda: [
            v1.random_normal(SHAPE, stddev=5.0, seed=SEED),
            v1.random_shuffle(tf.range(1500), seed=SEED),
        ]
    )
    for _ in range(2):  # a second call must not continue any stream
        tf.random.normal(SHAPE, seed=SEED)
        np.testing.assert_array_equal(
            tf1_random.random_normal(SHAPE, stddev=5.0, seed=SEED), normal
        )
        np.testing.assert_array_equal(
            tf1_random.random_shuffle(tf.range(1500), seed=SEED), shuffled
        )


def test_each_session_run_re_executes_the_random_ops(tf1):
    """The lesson fetched samples and centroids in separate runs: they do not belong together."""
    params = LessonParams(n_iterations=1)
    graph = tf.Graph()
    with graph.as_default():
        _, samples = tf1.create_samples(3, 500, 2, 70, params.seed)
        initial = tf1.choose_random_centroids(samples, 3, params.seed)
        updated = tf1.update_centroids(samples, tf1.assign_to_nearest(samples, initial), 3)
    with v1.Session(graph=graph) as session:
        sample_values = session.run(samples)  # the lesson's first run: what it plotted
        updated_centroid_value = session.run(updated)  # its second run: new samples
        second_samples = session.run(samples)
    assert not np.array_equal(sample_values, second_samples)
    np.testing.assert_array_equal(sample_values, tf1.run_lesson(params).samples)
    assert not np.allclose(updated_centroid_value, tf1.run_lesson(params).centroids[0])


def test_the_naive_eager_port_diverges_at_the_samples(tf1):
    reference = tf1.run_lesson()
    naive = naive_port.run_lesson()
    rows = compare_results(reference, naive)
    first_divergent = next(row.stage for row in rows if not row.bit_identical)
    assert first_divergent == "samples"
    n = LESSON_DEFAULTS.n_samples_per_cluster
    # The first cluster's op is the first use of its seed in a fresh process: it matches...
    np.testing.assert_array_equal(naive.samples[:n], reference.samples[:n])
    # ...the second call continues the cached kernel's stream instead of restarting it.
    assert not np.array_equal(naive.samples[n : 2 * n], reference.samples[n : 2 * n])


def test_the_naive_eager_port_depends_on_what_ran_before():
    first = naive_port.run_lesson(LessonParams(n_iterations=1))
    second = naive_port.run_lesson(LessonParams(n_iterations=1))
    assert not np.array_equal(first.samples, second.samples)


def test_a_tf_function_behaves_like_a_graph():
    """Inside tf.function each op has its own kernel, whose state lives on across calls."""
    first_run, second_run = [], []
    graph = tf.Graph()
    with graph.as_default():
        ops = [v1.random_normal(SHAPE, seed=SEED), v1.random_normal(SHAPE, seed=SEED)]
    with v1.Session(graph=graph) as session:
        first_run, second_run = session.run(ops), session.run(ops)

    @tf.function
    def draw_twice():
        return tf.random.normal(SHAPE, seed=SEED), tf.random.normal(SHAPE, seed=SEED)

    first_call, second_call = draw_twice(), draw_twice()
    np.testing.assert_array_equal(first_call, first_run)  # two ops, the same values
    np.testing.assert_array_equal(second_call, second_run)  # like a second session.run
    assert not np.array_equal(second_call[0], first_call[0])


def test_a_tf_function_of_the_port_gives_the_same_values_every_call():
    from tf2_eager import tf1_random

    draw = tf.function(lambda: tf1_random.random_normal(SHAPE, seed=SEED))
    graph_value = run_graph(lambda: v1.random_normal(SHAPE, seed=SEED))
    for _ in range(2):
        np.testing.assert_array_equal(draw(), graph_value)


def test_public_stateless_shuffle_is_not_the_stateful_shuffle():
    shuffled = run_graph(lambda: v1.random_shuffle(tf.range(1500), seed=SEED))
    stateless = tf.random.experimental.stateless_shuffle(tf.range(1500), seed=[87654321, SEED])
    assert not np.array_equal(stateless, shuffled)


def test_update_gives_nan_for_an_empty_cluster(impl):
    samples = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    nearest_indices = np.array([0, 0], dtype=np.int64)
    if impl.__name__ == "tf1_graph":
        centroids = run_graph(lambda: impl.update_centroids(samples, nearest_indices, 2))
    else:
        centroids = impl.update_centroids(samples, nearest_indices, 2).numpy()
    np.testing.assert_array_equal(centroids[0], [0.5, 0.5])
    assert np.isnan(centroids[1]).all()


def test_tf1_reseeds_numpys_global_generator_and_tf2_does_not(run_lesson, impl):
    np.random.seed(1)
    run_lesson(LessonParams(n_iterations=0))
    drawn = np.random.random()
    reseeded = np.random.RandomState(SEED)
    reseeded.random_sample((3, 2))  # what create_samples consumed
    expected = {
        "tf1_graph": reseeded.random_sample(),
        "tf2_eager": np.random.RandomState(1).random_sample(),
    }
    assert drawn == expected[impl.__name__]


def test_a_run_leaves_the_callers_seeded_streams_alone(run_lesson):
    tf.random.set_seed(5)
    expected = tf.random.uniform((4,))
    tf.random.set_seed(5)
    run_lesson(LessonParams(n_iterations=1))
    np.testing.assert_array_equal(tf.random.uniform((4,)), expected)


def test_tensor_equality_is_identity_in_a_graph_and_elementwise_in_tf2():
    """``a == b`` in a TF1 graph compares the Python objects; TF2 compares the values."""
    graph = tf.Graph()
    with graph.as_default():
        a, b = tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0])
        assert (a == b) is False  # equal values, other objects
        assert (a == a) is True
    a, b = tf.constant([1.0, 2.0]), tf.constant([1.0, 3.0])
    np.testing.assert_array_equal(a == b, [True, False])
    np.testing.assert_array_equal(tf.function(lambda x, y: x == y)(a, b), [True, False])


# Measured on each release the matrix runs: TF 2.18 copies every fed array, aligned or not.
FEEDS_COPY_ALIGNED_ARRAYS = tf.__version__.startswith("2.18.")


SESSION_FEED_PROBE = """
import json, sys
import numpy as np
import tensorflow as tf
sys.path.insert(0, "tests")
from measure import fix_mmap_threshold, peak_growth
from kmeans_tutorial.engine.sharing import shareable

fix_mmap_threshold()
size = 2**24  # 64 MiB of float32: a copy shows in the resident memory
graph = tf.Graph()
with graph.as_default():
    fed = tf.compat.v1.placeholder(tf.float32, [size])
    total = tf.reduce_sum(fed)
aligned = shareable(np.ones(size, np.float32))
unaligned = np.ones(size + 1, np.float32)[1:]  # 4 bytes past an aligned start at best
assert aligned.ctypes.data % 64 == 0 and unaligned.ctypes.data % 64 != 0
with tf.compat.v1.Session(graph=graph) as session:
    session.run(total, {fed: aligned})  # warm-up
    print(json.dumps({
        "aligned": peak_growth(lambda: session.run(total, {fed: aligned})),
        "unaligned": peak_growth(lambda: session.run(total, {fed: unaligned})),
    }))
"""


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="Linux only")
def test_a_feed_shares_an_aligned_array_and_tf_constant_copies_every_array():
    """TF1 feeds a 64-byte-aligned array as it is (not 2.18); ``tf.constant`` copies.

    The feeds are measured in a process of their own: in one that has run other tests, a
    copy can land in memory that is already resident and not show.
    """
    from kmeans_tutorial.engine.sharing import shareable

    done = subprocess.run(
        [sys.executable, "-c", SESSION_FEED_PROBE],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    growth = json.loads(done.stdout.strip().splitlines()[-1])
    assert growth["unaligned"] > 2**25, growth
    assert (growth["aligned"] > 2**25) == FEEDS_COPY_ALIGNED_ARRAYS, growth
    array = shareable(np.zeros((1000, 4), np.float32))
    constant = tf.constant(array)
    array[0, 0] = 5.0
    assert float(constant[0, 0]) == 0.0
    shared = tf.experimental.dlpack.from_dlpack(array.__dlpack__())
    array[0, 0] = 7.0
    assert float(shared[0, 0]) == 7.0


def test_a_graph_knows_no_shape_for_k_means_plus_plus():
    """The op's output shape is unknown when built in a graph; eagerly it is the value's."""
    points = np.random.RandomState(0).standard_normal((50, 2)).astype(np.float32)

    def kmeans_plus_plus():
        return tf.raw_ops.KmeansPlusPlusInitialization(
            points=points, num_to_sample=3, seed=1, num_retries_per_sample=-1
        )

    graph = tf.Graph()
    with graph.as_default():
        assert kmeans_plus_plus().shape.rank is None
    assert kmeans_plus_plus().shape == (3, 2)


def test_reduce_retracing_relaxes_a_second_shape_to_unknown():
    """Why TF2's KMeans keeps one ``tf.function`` per shape: its ops need static shapes."""
    traced = []

    def record(x):
        traced.append(x.shape.as_list())
        return x

    function = tf.function(record, reduce_retracing=True)
    function(tf.zeros([2, 3]))
    function(tf.zeros([4, 3]))
    assert traced == [[2, 3], [None, 3]]

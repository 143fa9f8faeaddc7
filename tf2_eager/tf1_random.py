"""TF1's seeded random ops, reproduced exactly in eager mode.

The problem
-----------
In a TF1 graph, ``tf.random_normal(..., seed=700)`` becomes a stateful op whose kernel owns
a Philox generator. With no graph-level seed, TF gives the op the seed pair
``(DEFAULT_GRAPH_SEED, op_seed % (2**31 - 1))``. Every op has its own kernel, so two ops with
the same seed draw the same numbers; the lesson's clusters share their noise.

The line-by-line eager port, ``tf.random.normal(..., seed=700)``, uses the same seed pair, but
eager mode caches one kernel per (op, seed pair, dtype): a second call *continues* that
kernel's stream instead of restarting it. So the port's second cluster differs from TF1's,
and its first cluster depends on whatever seeded call ran earlier in the process (any
shape). ``tf.random.set_seed`` clears the cache but changes the caller's global seed and
every stream the caller relies on.

The mechanism
-------------
A TF1 stateful kernel seeded ``(seed, seed2)`` starts Philox at key ``seed`` and counter
``[0, seed2]`` (128 bits as two uint64 words). TF2's stateless ops of the ``V2`` family take a
Philox key and counter directly, and fill their output with the same sampler as the stateful
kernels. Feeding them the starting key and counter gives TF1's first draw, bit for bit, with
no state at all: nothing that ran before can shift it, and nothing here changes the caller's
global seed. ``tests/lesson/test_parity.py`` checks it against the graph, after earlier seeded calls
and ``tf.random.set_seed``.

The public wrappers ``tf.random.stateless_normal`` and
``tf.random.experimental.stateless_shuffle`` hash their ``seed`` into a key and counter first,
so they do not reproduce TF1's stream: the raw ops are the way in.
"""

import tensorflow as tf

# TF's fallback graph-level seed, used whenever an op seed is set without a graph seed
# (tensorflow/python/framework/random_seed.py, DEFAULT_GRAPH_SEED).
DEFAULT_GRAPH_SEED = 87654321
# TF reduces seeds modulo 2**31 - 1 before they reach a kernel (random_seed._truncate_seed).
_MAXINT32 = 2**31 - 1


def tf1_seed_pair(op_seed):
    """The ``(seed, seed2)`` a TF1 graph with no graph-level seed gives an op seeded ``op_seed``."""
    return DEFAULT_GRAPH_SEED, op_seed % _MAXINT32


def _philox_key_counter(op_seed):
    """The Philox key, shape (1,), and counter, shape (2,), a TF1 stateful kernel starts from."""
    seed, seed2 = tf1_seed_pair(op_seed)
    key = tf.constant([seed], dtype=tf.uint64)
    counter = tf.constant([0, seed2], dtype=tf.uint64)
    return key, counter


def random_normal(shape, mean=0.0, stddev=1.0, dtype=tf.float32, seed=None, name=None):
    """TF1's ``tf.random_normal``: with a seed, the values a fresh graph op would draw.

    Without a seed there is nothing to reproduce: it is ``tf.random.normal``.

    Returns
    -------
    Tensor of shape ``shape`` and dtype ``dtype``
    """
    if seed is None:
        return tf.random.normal(shape, mean=mean, stddev=stddev, dtype=dtype, name=name)
    with tf.name_scope(name or "random_normal"):
        key, counter = _philox_key_counter(seed)
        standard = tf.raw_ops.StatelessRandomNormalV2(
            shape=shape,
            key=key,
            counter=counter,
            alg=tf.random.Algorithm.PHILOX.value,
            dtype=dtype,
        )
        # The same two ops, in the same order, as tf.random_normal's body.
        return tf.add(standard * tf.constant(stddev, dtype), tf.constant(mean, dtype))


def random_shuffle(value, seed=None, name=None):
    """TF1's ``tf.random_shuffle``: with a seed, the order a fresh graph op would give.

    Shuffles along the first dimension. Without a seed it is ``tf.random.shuffle``.

    Returns
    -------
    Tensor like ``value``
    """
    if seed is None:
        return tf.random.shuffle(value, name=name)
    with tf.name_scope(name or "random_shuffle"):
        key, counter = _philox_key_counter(seed)
        return tf.raw_ops.StatelessShuffle(
            value=value, key=key, counter=counter, alg=tf.random.Algorithm.PHILOX.value
        )

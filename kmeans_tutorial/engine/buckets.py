"""The shapes a dense fit's programs are made for: rows and centres padded up to one of a few
sizes, so that fits of nearby shapes share programs.

A compiled program is made for one data shape and one number of centres (XLA compiles
static shapes; TF1 builds a graph per shape), and making one costs about as much as a
small fit. Users fit many shapes: a sweep over ``n_clusters``, cross-validation folds of
nearby sizes, a grid search over both. So a fit's rows are padded (rows of zeros with
weight 0, never drawn, never labelled, never relocated) and its centres padded (centres
that are nobody's nearest and never move) to the sizes below, and a sweep of k = 2..20 over
five folds makes a handful of programs, not a hundred (``lloyd_ops``, ``seeding_ops``).

Both drivers pad alike, so TF1 and TF2 stay bit-identical; a padded fit equals an unpadded
one within float rounding (the chunks group the sums differently).
"""

from __future__ import annotations

from kmeans_tutorial.engine import lloyd_ops

# Data up to this size is copied into a padded array; larger data keeps its own shape, so
# that its fit never holds a second copy (its programs' making is small against its fit).
PAD_BYTES = 256 * 2**20

# Sizes per power of two: rows at most 1/16 more, centres at most 1/8 more past 64.
ROW_STEPS, CLUSTER_STEPS = 16, 8
# Up to 64 centres, a multiple of 8: the distance matmul's columns are cheap beside the
# per-row work there, and a sweep of k = 2..20 makes three programs.
SMALL_CLUSTERS = 64


def _round_up(value: int, steps: int) -> int:
    """``value`` rounded up to one of ``steps`` sizes per power of two."""
    step = 1 << max(0, (value - 1).bit_length() - steps.bit_length())
    return -(-value // step) * step


def program_rows(n_samples: int, row_bytes: int) -> int:
    """Rows the programs of ``n_samples`` rows are made for (``n_samples`` or more)."""
    if n_samples * row_bytes > PAD_BYTES or n_samples <= 16:
        return n_samples
    return _round_up(n_samples, ROW_STEPS)


def program_clusters(n_clusters: int, n_features: int) -> int:
    """Centres the programs for ``n_clusters`` centres are made for (that many or more).

    A few centres in few dimensions keep their number: their assignment is written one
    centre at a time (``lloyd_ops.elementwise_form``), where padding would add work.
    """
    if lloyd_ops.elementwise_form(n_clusters, n_features):
        return n_clusters
    if n_clusters <= SMALL_CLUSTERS:
        return -(-n_clusters // 8) * 8
    return _round_up(n_clusters, CLUSTER_STEPS)


def seeding_clusters(program_clusters: int) -> int:
    """Centres a compiled k-means++ program is made for, given the Lloyd programs'
    (``program_clusters``): up to ``SMALL_CLUSTERS``, that many, so that one seeding program
    serves every small k (a sweep over ``n_clusters`` compiles it once). Its loop stops at
    the fit's own k; the padding costs only the trials of the larger k (``seeding.n_trials``:
    6 at 64 centres, against 2 to 4 for k = 2..20), which cost less than a compilation."""
    return max(program_clusters, SMALL_CLUSTERS)

"""``python -m kmeans_tutorial``: the same as the ``kmeans-tutorial`` command."""

import sys

from kmeans_tutorial.cli import main

sys.exit(main())

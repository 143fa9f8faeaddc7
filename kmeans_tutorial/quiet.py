"""Keep TensorFlow's start-up chatter away from the user, but not its errors.

TensorFlow writes notices (CUDA stubs, CPU features, absl's pre-init warning) straight to
file descriptor 2 from C++, before and after ``TF_CPP_MIN_LOG_LEVEL`` takes effect, so the
only reliable filter is the descriptor itself. Everything captured is replayed if the work
inside fails, so a real error is never hidden.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def tensorflow_quieted(
    expected: tuple[type[BaseException], ...] = (),
) -> Iterator[io.TextIOBase]:
    """Run the body with fd 2 captured and TF's Python logger at ERROR.

    If the body raises, what was captured is written to stderr first, unless the exception
    is one of ``expected`` (errors the caller reports itself, such as bad input). The body
    is given a stream to the real stderr, for what it means the user to see (a progress
    bar).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        terminal = os.fdopen(os.dup(saved_fd), "w")
        try:
            yield terminal
        except expected:
            raise
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            terminal.close()
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)

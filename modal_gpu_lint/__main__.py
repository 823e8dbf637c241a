"""`python -m modal_gpu_lint`."""

import os
import sys

# `python -m` puts the current folder first on sys.path: a `json.py` or `typing.py` among the
# files being linted would then shadow the standard library (Python 3.11's `-P` does this).
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from modal_gpu_lint.doors.cli import main

if __name__ == "__main__":  # not when a worker process started with 'spawn' imports this module
    sys.exit(main())

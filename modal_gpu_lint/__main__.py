"""`python -m modal_gpu_lint`."""

import sys

from .cli import main

sys.exit(main())

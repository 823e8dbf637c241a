"""Hypothesis profiles for the property tests, chosen by environment variable.

- `dev` (default): 100 examples per property, random each run, no deadline (shared machines).
- `ci` (when `CI=true`, as CI services set it): 200 examples, derandomized so that a CI failure
  reproduces exactly, no example database.
- `long`: 5000 examples, for a thorough local run: `HYPOTHESIS_PROFILE=long pytest tests/test_properties.py`.

`HYPOTHESIS_PROFILE=NAME` picks a profile explicitly. Tests that set `max_examples` themselves
scale it with `scaled()` so that the profile still decides how hard everything is pushed.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=_SLOW)
settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True, database=None, print_blob=True, suppress_health_check=_SLOW
)
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=_SLOW)


def profile_name() -> str:
    """The profile the environment asks for."""
    explicit = os.environ.get("HYPOTHESIS_PROFILE")
    if explicit:
        return explicit
    return "ci" if os.environ.get("CI", "").lower() in ("true", "1", "yes") else "dev"


def load() -> str:
    """Load the profile the environment asks for; return its name."""
    name = profile_name()
    settings.load_profile(name)
    return name


def scaled(fraction: float, minimum: int = 10) -> int:
    """`fraction` of the profile's max_examples (for expensive properties), at least `minimum`."""
    return max(minimum, int(settings.default.max_examples * fraction))

"""Hypothesis profiles for the fuzz suite (registered here, applied per test — never loaded globally,
so other suites' Hypothesis settings are untouched).

- `idbellen-fuzz-ci` (default, `make test`): a bounded, derandomized run — the same examples every time.
- `idbellen-fuzz` (`make fuzz`, i.e. HYPOTHESIS_PROFILE=fuzz): thousands of random examples per handler.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
settings.register_profile("idbellen-fuzz-ci", max_examples=80, derandomize=True, **COMMON)
settings.register_profile("idbellen-fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "2000")), **COMMON)


def profile() -> settings:
    name = "idbellen-fuzz" if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else "idbellen-fuzz-ci"
    return settings.get_profile(name)

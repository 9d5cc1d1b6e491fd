import os

import pytest
from hypothesis import HealthCheck, settings

from pyflux import _core

# Captured steps run as loops unless a test asks for native steps (tests/test_native_steps.py), so
# that no test depends on whether a background build has finished.
os.environ.setdefault("PYFLUX_NATIVE_STEPS", "0")

settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=50,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def restore_num_threads():
    """Lets a test change the core's thread count; the initial count comes back afterwards."""
    initial = _core.get_num_threads()
    yield initial
    _core.set_num_threads(initial)

import os
import sys
from pathlib import Path

import pytest
import torch

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS.parent))
sys.path.insert(0, str(TESTS))

from picotag_train.engine import Engine, EngineNotBuilt  # noqa: E402

# One thread: the machines that run this suite are small and shared, and
# OpenMP threads that wait for a busy core made small models 100 times
# slower on a shared 2-core machine.
torch.set_num_threads(1)

SHARED_DATA = TESTS.parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def engine():
    """The C engine. Missing libpicotag.so fails the test unless PICOTAG_SKIP_ENGINE=1."""
    if os.environ.get("PICOTAG_SKIP_ENGINE") == "1":
        pytest.skip("PICOTAG_SKIP_ENGINE=1: C engine comparisons skipped")
    try:
        return Engine()
    except EngineNotBuilt as error:
        pytest.fail(f"{error} (or set PICOTAG_SKIP_ENGINE=1 to skip the engine comparisons)")


@pytest.fixture(scope="session")
def trained_model():
    """A small ResNet-18 trained a few FP32 steps, then a few LSQ QAT steps."""
    from random_models import train_small_qat_model

    return train_small_qat_model()


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not present (development data is not shipped)")
    return SHARED_DATA

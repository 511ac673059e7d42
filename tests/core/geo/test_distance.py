import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.geo.distance import (
    EARTH_RADIUS_KM,
    bounding_box,
    haversine_km,
    km_to_miles,
    miles_to_km,
    validate_coordinates,
    validate_radius_km,
)
from core.geo.errors import InvalidCoordinates, InvalidRadius

# Official unit coordinates from spec imports-and-geo §8.
EC3A_5DE = (51.51366, -0.07747)
M1_1AE = (53.48349, -2.23118)
B15_2TT = (52.45328, -1.92789)
LS1_4AP = (53.79547, -1.55573)
SW1A_1AA = (51.50101, -0.14159)
BT1_1AA = (54.60244, -5.92229)


@pytest.mark.parametrize(
    ("a", "b", "km", "miles"),
    [
        (EC3A_5DE, SW1A_1AA, 4.66, 2.89),
        (M1_1AE, LS1_4AP, 56.45, 35.07),
        (B15_2TT, M1_1AE, 116.34, None),
        (EC3A_5DE, BT1_1AA, 519.82, None),
    ],
)
def test_spec_distances(a, b, km, miles):
    distance = haversine_km(*a, *b)
    assert distance == pytest.approx(km, abs=0.05)
    if miles is not None:
        assert km_to_miles(distance) == pytest.approx(miles, abs=0.05)


def test_miles_conversion_round_trip():
    assert km_to_miles(1.609344) == pytest.approx(1.0)
    assert miles_to_km(km_to_miles(123.4)) == pytest.approx(123.4)


def test_spec_bounding_box_for_10_km():
    lat, lng = EC3A_5DE
    box = bounding_box(lat, lng, 10)
    dlat = box.max_lat - lat
    assert dlat == pytest.approx(0.08993, abs=1e-5)
    assert lat - box.min_lat == pytest.approx(dlat)
    dlng = box.max_lng - lng
    at_centre = math.degrees(10 / (EARTH_RADIUS_KM * math.cos(math.radians(lat))))
    assert at_centre == pytest.approx(0.1445, abs=1e-4)
    assert dlng > at_centre  # taken at the pole-side edge, so slightly wider
    assert dlng == pytest.approx(math.degrees(10 / (EARTH_RADIUS_KM * math.cos(math.radians(lat + dlat)))))
    assert lng - box.min_lng == pytest.approx(dlng)


def test_bounding_box_southern_hemisphere_uses_the_pole_side_edge():
    box = bounding_box(-51.5, 0.0, 10)
    assert box.max_lng == pytest.approx(bounding_box(51.5, 0.0, 10).max_lng)


def test_bounding_box_near_pole_or_antimeridian_spans_all_longitudes():
    assert bounding_box(89.99, 10.0, 50)[2:] == (-180.0, 180.0)
    assert bounding_box(0.0, 179.99, 50)[2:] == (-180.0, 180.0)
    assert bounding_box(89.99, 10.0, 50).max_lat == 90.0


@pytest.mark.parametrize("radius", [0, -1, 200.01, float("nan"), float("inf"), "ten", None, True])
def test_invalid_radius(radius):
    with pytest.raises(InvalidRadius) as caught:
        validate_radius_km(radius)
    assert caught.value.code == "invalid_radius"


def test_valid_radius_bounds():
    assert validate_radius_km(200) == 200.0
    assert validate_radius_km("0.5") == 0.5
    assert validate_radius_km(300, max_km=500) == 300.0
    with pytest.raises(InvalidRadius):
        bounding_box(51.5, 0.0, 0)


@pytest.mark.parametrize(("lat", "lng"), [(91, 0), (0, -180.5), (float("nan"), 0), ("x", 0)])
def test_invalid_coordinates(lat, lng):
    with pytest.raises(InvalidCoordinates):
        validate_coordinates(lat, lng)
    with pytest.raises(InvalidCoordinates):
        bounding_box(lat, lng, 10)


_lat = st.floats(min_value=-90, max_value=90)
_lng = st.floats(min_value=-180, max_value=180)


@given(_lat, _lng, _lat, _lng)
def test_haversine_is_symmetric_and_bounded(lat1, lng1, lat2, lng2):
    there = haversine_km(lat1, lng1, lat2, lng2)
    back = haversine_km(lat2, lng2, lat1, lng1)
    assert there == pytest.approx(back, abs=1e-9)
    assert 0.0 <= there <= math.pi * EARTH_RADIUS_KM + 1e-6
    assert haversine_km(lat1, lng1, lat1, lng1) == 0.0


@given(
    st.floats(min_value=49, max_value=61),
    st.floats(min_value=-9, max_value=2),
    st.floats(min_value=0.1, max_value=200),
    st.floats(min_value=0, max_value=2 * math.pi),
)
def test_points_on_the_circle_lie_inside_the_box(lat, lng, radius, bearing):
    # destination point at distance `radius` on the given bearing (spherical formula)
    delta = radius / EARTH_RADIUS_KM
    phi1, lambda1 = math.radians(lat), math.radians(lng)
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(bearing))
    lambda2 = lambda1 + math.atan2(
        math.sin(bearing) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    point = math.degrees(phi2), math.degrees(lambda2)
    box = bounding_box(lat, lng, radius)
    assert box.min_lat - 1e-9 <= point[0] <= box.max_lat + 1e-9
    assert box.min_lng - 1e-9 <= point[1] <= box.max_lng + 1e-9

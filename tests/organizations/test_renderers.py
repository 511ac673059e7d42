"""FastJSONRenderer writes what DRF's JSONRenderer writes (C7 uses it for its large pages)."""

import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from organizations.renderers import FastJSONRenderer

DATA = {
    "text": 'Ünïcödé “quotes” \u2028line\u2029para </script> "\\ \t\n',
    "numbers": [0, -1, 2**53, 0.1, 0.01, 4.66, 116.34, 1e16, 123456789.125],
    "flags": [True, False, None],
    "nested": {"list": [{"a": []}, {}], "empty": ""},
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": Decimal("51.513660"),
    "datetime": datetime.datetime(2026, 11, 28, 12, 26, 0, 123456, tzinfo=datetime.UTC),
    "date": datetime.date(2026, 11, 28),
    "lazy": gettext_lazy("Candidate not found."),
}


@pytest.mark.sqlite
def test_same_bytes_as_drf():
    assert FastJSONRenderer().render(DATA) == JSONRenderer().render(DATA)
    assert FastJSONRenderer().render(None) == b""


@pytest.mark.sqlite
def test_tiny_floats_keep_their_value():
    data = {"radius_km": 0.00001, "distance": [1e-7, 0.0]}
    assert json.loads(FastJSONRenderer().render(data)) == json.loads(JSONRenderer().render(data)) == data


@pytest.mark.sqlite
def test_indented_rendering_is_drfs():
    media_type = "application/json; indent=2"
    assert FastJSONRenderer().render(DATA, media_type) == JSONRenderer().render(DATA, media_type)

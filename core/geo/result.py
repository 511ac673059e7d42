"""The result of a geocoding lookup."""

from dataclasses import asdict, dataclass
from typing import Literal

Precision = Literal["unit", "sector", "outward", "town", "online"]


@dataclass(frozen=True, slots=True)
class GeoResult:
    latitude: float
    longitude: float
    precision: Precision
    matched: str  # the postcode, sector, outward code, town name or online display name that matched

    def as_dict(self) -> dict:
        return asdict(self)

"""Offline geocoding: postcode units, sectors and outward codes, then towns (spec imports-and-geo §6).

Open once per process (``shared_gazetteer``) and reuse: the postcode tables stay memory-mapped, only the small
towns table is decoded into memory, and every lookup is read-only, so one instance serves any number of threads.
"""

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.geo.errors import GazetteerError, InvalidLocation
from core.geo.index import INDEX_FILENAME, IndexReader
from core.geo.places import UK_NAMES, normalise_place_name
from core.geo.postcodes import (
    PostcodeParts,
    canonical_parts,
    find_postcodes,
    parse_partial_postcode,
    split_postcode,
)
from core.geo.result import GeoResult

_WHITESPACE = re.compile(r"\s+")
_PART_SEPARATORS = re.compile(r"[,;\r\n]+")  # address lines count as comma-separated parts
# Trailing mentions of the UK or one of its countries ("Leeds, UK", "Cardiff Wales", "Truro, England.").
_TRAILING_UK = re.compile(
    r"(?:[\s,;.()]*\b(?:UK|U\.K|UNITED KINGDOM|GREAT BRITAIN|GB|ENGLAND|SCOTLAND|WALES|NORTHERN IRELAND))+[\s,;.()]*$"
)
MAX_LOCATION_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    latitude: float
    longitude: float
    population: int


def normalise_location(text: str) -> str:
    """Upper-case, trimmed, single-spaced, without a trailing UK/country-of-the-UK mention (lookup step 1)."""
    if not isinstance(text, str):
        raise InvalidLocation("A location must be text.")
    if len(text) > MAX_LOCATION_LENGTH:
        raise InvalidLocation(f"A location must be at most {MAX_LOCATION_LENGTH} characters.")
    parts = (_WHITESPACE.sub(" ", part).strip() for part in _PART_SEPARATORS.split(text.upper()))
    joined = ", ".join(part for part in parts if part)
    return _TRAILING_UK.sub("", joined).strip(" ,")


class Gazetteer:
    """Read-only lookups over a built gazetteer index."""

    def __init__(self, reader: IndexReader):
        self._reader = reader
        self._units = reader.tables["unit"]
        self._sectors = reader.tables["sector"]
        self._outwards = reader.tables["outward"]
        try:
            places = json.loads(reader.blob("places"))
            self._towns = [Town(*row) for row in places["towns"]]
            self._town_by_name: dict[str, int] = places["names"]
            self._countries = frozenset(places["countries"])
        except (ValueError, KeyError, TypeError):
            reader.close()
            raise GazetteerError("The gazetteer towns table is corrupt; rebuild the index.")
        self.meta: dict = reader.meta

    @classmethod
    def open(cls, path: str | Path) -> "Gazetteer":
        """Open the index file, or the folder build_gazetteer wrote it into."""
        path = Path(path)
        reader = IndexReader(path / INDEX_FILENAME if path.is_dir() else path)
        try:
            return cls(reader)
        except KeyError:
            reader.close()
            raise GazetteerError("The gazetteer index lacks a postcode table; rebuild it.")

    def close(self) -> None:
        """Unmap the index; only call once no thread uses this instance any more."""
        self._reader.close()

    def __enter__(self) -> "Gazetteer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def datasets(self) -> dict:
        """Dataset versions the index was built from (see build.BuildInfo.datasets)."""
        return self.meta["params"]["datasets"]

    @property
    def includes_ni(self) -> bool:
        return self.meta["params"]["include_ni"]

    # -- postcode levels -------------------------------------------------------------------------------------

    def unit(self, postcode: str) -> GeoResult | None:
        return self._unit(split_postcode(postcode))

    def sector(self, sector: str) -> GeoResult | None:
        found = self._sectors.lookup(sector)
        return GeoResult(*found, "sector", sector) if found else None

    def outward(self, outward: str) -> GeoResult | None:
        found = self._outwards.lookup(outward)
        return GeoResult(*found, "outward", outward) if found else None

    def postcode(self, postcode: str) -> GeoResult | None:
        """A full postcode at the finest level known: unit, else its sector, else its outward code."""
        return self._finest(split_postcode(postcode))

    def _finest(self, parts: PostcodeParts) -> GeoResult | None:
        return self._unit(parts) or self.sector(parts.sector) or self.outward(parts.outward)

    def _unit(self, parts: PostcodeParts) -> GeoResult | None:
        found = self._units.lookup(parts.outward + parts.unit[-3:])
        return GeoResult(*found, "unit", parts.unit) if found else None

    def unit_postcodes(self) -> Iterator[str]:
        """Every unit postcode with coordinates, in index order, in canonical form ("EC3A 5DE")."""
        return (f"{key[:-3]} {key[-3:]}" for key in self._units.iter_keys())

    # -- towns -----------------------------------------------------------------------------------------------

    def town(self, name: str) -> Town | None:
        """The most populous UK town called ``name`` (name, ASCII or alternate name), or None."""
        position = self._town_by_name.get(normalise_place_name(name))
        return self._towns[position] if position is not None else None

    def is_known_town(self, name: str) -> bool:
        return isinstance(name, str) and normalise_place_name(name) in self._town_by_name

    def is_foreign_country(self, name: str) -> bool:
        """True when ``name`` names a country other than the United Kingdom ("Bangladesh", "USA")."""
        return isinstance(name, str) and normalise_place_name(name) in self._countries

    # -- the lookup order ------------------------------------------------------------------------------------

    def geocode(self, text: str) -> GeoResult | None:
        """Offline lookup of a location text, in the order of spec §6; None when nothing matches.

        Raises InvalidLocation for a non-text or over-long input.
        """
        location = normalise_location(text)
        if not location:
            return None
        for postcode in find_postcodes(location):
            if found := self._finest(canonical_parts(postcode)):
                return found
        if partial := parse_partial_postcode(location):
            level, code = partial
            if found := (self.sector(code) if level == "sector" else self.outward(code)):
                return found
        return self._geocode_town(location)

    def _geocode_town(self, location: str) -> GeoResult | None:
        parts = [normalise_place_name(part) for part in location.split(",")]
        parts = [part for part in parts if part and part not in UK_NAMES]
        if any(part in self._countries for part in parts):
            return None  # "Perth, Australia" must not land in Perth, Scotland
        for part in parts:
            if (position := self._town_by_name.get(part)) is not None:
                town = self._towns[position]
                return GeoResult(town.latitude, town.longitude, "town", town.name)
        return None


_shared: dict[str, tuple[tuple[int, int], Gazetteer]] = {}
_shared_lock = threading.Lock()


def shared_gazetteer(path: str | Path) -> Gazetteer:
    """One Gazetteer per process and index file; a rebuilt file (new inode or mtime) is opened afresh.

    The mapping survives fork, so a gazetteer opened before workers fork keeps working in each of them.
    """
    path = Path(path)
    index_path = (path / INDEX_FILENAME if path.is_dir() else path).resolve()
    try:
        stat = os.stat(index_path)
    except FileNotFoundError:
        raise GazetteerError(f"No gazetteer index at {index_path}; build it first.", code="gazetteer_missing")
    version = (stat.st_ino, stat.st_mtime_ns)
    with _shared_lock:
        cached = _shared.get(str(index_path))
        if cached is None or cached[0] != version:
            # A replaced instance is not closed: threads may still use it; its mapping goes with its last user.
            cached = _shared[str(index_path)] = (version, Gazetteer.open(index_path))
        return cached[1]

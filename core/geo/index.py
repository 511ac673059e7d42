"""The gazetteer index file: sorted uint64 keys with int32 micro-degree coordinates, memory-mapped.

Layout (little-endian)::

    magic "CVGEOIX2" | uint32 format | uint32 header length | header JSON | sections...

The header names every section by (offset, length) relative to the end of the header, so it never depends on
its own size; sections are 8-byte aligned. A coordinate table is ``count`` sorted keys followed by ``count``
(lat, lng) int32 pairs in micro-degrees (0.11 m resolution). A key is the ASCII code (``EC3A5DE``, ``EC3A 5``,
``EC3A``) space-padded to 8 bytes and read as a big-endian integer, which keeps text order; lookups are then a
C-level ``bisect`` over a memoryview of the mapping. Opening costs almost nothing, and worker processes share
the file's pages through the OS cache.
"""

import json
import mmap
import os
import struct
import sys
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.geo.errors import GazetteerError

INDEX_FILENAME = "gazetteer.idx"
MANIFEST_FILENAME = "manifest.json"
MAGIC = b"CVGEOIX2"
FORMAT_VERSION = 2
MICRO = 1_000_000
KEY_BYTES = 8
_PREFIX = struct.Struct("<8sII")
_LITTLE_ENDIAN = sys.byteorder == "little"


def encode_key(key: str) -> int:
    """Order-preserving integer of a code of at most 8 ASCII characters."""
    return int.from_bytes(key.encode("ascii").ljust(KEY_BYTES), "big")


def decode_key(code: int) -> str:
    return code.to_bytes(KEY_BYTES, "big").decode("ascii").rstrip()


@dataclass
class TableData:
    """A coordinate table ready to write: ``keys`` sorted, ``coords`` interleaved (lat, lng) micro-degrees."""

    keys: array  # typecode "Q"
    coords: array  # typecode "i"

    @property
    def count(self) -> int:
        return len(self.keys)


def atomic_write(path: Path, chunks: Iterable[bytes]) -> int:
    """Write chunks to a temporary file beside ``path``, fsync, then rename over it; returns the size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    size = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return size


def _little_endian(values: array) -> bytes:
    if not _LITTLE_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def write_index(path: Path, tables: dict[str, TableData], blobs: dict[str, bytes], meta: dict) -> int:
    """Write the index atomically; returns its size in bytes."""
    sections: list[bytes] = []
    offset = 0

    def add(data: bytes) -> list[int]:
        nonlocal offset
        padding = -len(data) % 8
        sections.append(data + b"\0" * padding)
        placed = [offset, len(data)]
        offset += len(data) + padding
        return placed

    header: dict = {"meta": meta, "tables": {}, "blobs": {}}
    for name, table in tables.items():
        if (
            table.keys.typecode != "Q"
            or table.keys.itemsize != KEY_BYTES
            or len(table.coords) != 2 * table.count
        ):
            raise ValueError(f"table {name}: keys must be uint64 and coordinates two per key")
        header["tables"][name] = {
            "count": table.count,
            "keys": add(_little_endian(table.keys)),
            "coords": add(_little_endian(table.coords)),
        }
    for name, data in blobs.items():
        header["blobs"][name] = add(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-(_PREFIX.size + len(header_bytes)) % 8)
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header_bytes))
    return atomic_write(path, [prefix, header_bytes, *sections])


class CoordinateTable:
    """Read-only view of one sorted table; safe to share between threads."""

    def __init__(self, keys: memoryview | array, coords: memoryview | array):
        if len(coords) != 2 * len(keys):
            raise GazetteerError("The gazetteer index is corrupt (table sizes do not match).")
        self._keys, self._coords = keys, coords
        self.count = len(keys)

    def __len__(self) -> int:
        return self.count

    def iter_keys(self) -> Iterator[str]:
        return (decode_key(code) for code in self._keys)

    def lookup(self, key: str) -> tuple[float, float] | None:
        """(latitude, longitude) stored under ``key``, or None."""
        if len(key) > KEY_BYTES or not key.isascii():
            return None
        code = encode_key(key)
        position = bisect_left(self._keys, code)
        if position == self.count or self._keys[position] != code:
            return None
        return self._coords[2 * position] / MICRO, self._coords[2 * position + 1] / MICRO

    def release(self) -> None:
        for view in (self._keys, self._coords):
            if isinstance(view, memoryview):
                view.release()


class IndexReader:
    """Maps an index file read-only and exposes its tables, blobs and metadata."""

    def __init__(self, path: Path):
        try:
            with open(path, "rb") as handle:
                self._buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise GazetteerError(f"No gazetteer index at {path}; build it first.", code="gazetteer_missing")
        except (OSError, ValueError) as error:  # ValueError: an empty file cannot be mapped
            raise GazetteerError(f"Cannot map the gazetteer index {path}: {error}.")
        self.tables: dict[str, CoordinateTable] = {}
        try:
            self._header, self._base = self._read_header()
            for name, spec in self._header["tables"].items():
                self.tables[name] = CoordinateTable(
                    self._view(spec["keys"], "Q"), self._view(spec["coords"], "i")
                )
        except (KeyError, TypeError, ValueError, IndexError):
            self.close()
            raise GazetteerError("The gazetteer index header is corrupt.")
        except BaseException:
            self.close()
            raise
        self.meta: dict = self._header["meta"]

    def _read_header(self) -> tuple[dict, int]:
        if len(self._buffer) < _PREFIX.size:
            raise GazetteerError("The gazetteer index is truncated.")
        magic, version, header_length = _PREFIX.unpack_from(self._buffer, 0)
        if magic[:6] != MAGIC[:6]:
            raise GazetteerError("Not a gazetteer index file (bad magic number).")
        if magic != MAGIC or version != FORMAT_VERSION:
            raise GazetteerError(f"Gazetteer index format {version} is not supported; rebuild it.")
        base = _PREFIX.size + header_length
        try:
            header = json.loads(self._buffer[_PREFIX.size : base])
            sections = [part for spec in header["tables"].values() for part in (spec["keys"], spec["coords"])]
            sections += header["blobs"].values()
            truncated = any(base + start + length > len(self._buffer) for start, length in sections)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise GazetteerError("The gazetteer index header is corrupt.")
        if truncated:
            raise GazetteerError("The gazetteer index is truncated.")
        return header, base

    def _view(self, section: list[int], typecode: str) -> memoryview | array:
        start, length = section
        raw = memoryview(self._buffer)[self._base + start : self._base + start + length]
        if _LITTLE_ENDIAN:
            return raw.cast(typecode)  # zero-copy
        values = array(typecode, raw)  # big-endian host: one swapped copy
        raw.release()
        values.byteswap()
        return values

    def blob(self, name: str) -> bytes:
        start, length = self._header["blobs"][name]
        return self._buffer[self._base + start : self._base + start + length]

    def close(self) -> None:
        for table in self.tables.values():
            table.release()
        self._buffer.close()

"""Documents arrive as a path or an open binary file; both are read through one seekable file object."""

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

Source = str | os.PathLike | BinaryIO | bytes


@contextmanager
def opened(source: Source) -> Iterator[BinaryIO]:
    """A seekable binary file at offset 0 holding the whole document.

    A caller's file object is rewound afterwards to where it was, so one upload can be sniffed, hashed and
    extracted in turn. A non-seekable stream is buffered once.
    """
    if isinstance(source, bytes):
        yield io.BytesIO(source)
        return
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            yield fh
        return
    if not source.seekable():
        yield io.BytesIO(source.read())
        return
    position = source.tell()
    source.seek(0)
    try:
        yield source
    finally:
        source.seek(position)


def size_of(fh: BinaryIO) -> int:
    """The byte length of a seekable file, leaving its position at the start."""
    size = fh.seek(0, io.SEEK_END)
    fh.seek(0)
    return size


def portable(source: Source, max_bytes: int) -> tuple[str | bytes, int]:
    """(what crosses to the sandbox, size): a path as it is, else the bytes, read once and at most
    ``max_bytes + 1`` of them (one more than allowed, so the size check still sees an oversized file)."""
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        return path, os.stat(path).st_size
    with opened(source) as fh:
        data = fh.read(max_bytes + 1)
    return data, len(data)

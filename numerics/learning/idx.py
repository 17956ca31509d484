"""The IDX file format of MNIST, Fashion-MNIST, EMNIST and KMNIST (SPEC 12), read and written.

Layout (all integers big-endian)::

    offset 0   two zero bytes
    offset 2   type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    offset 3   ndim (number of dimensions)
    offset 4   ndim uint32 sizes
    then       prod(sizes) items of the type, C order (last index fastest), big-endian

A file may be gzip-compressed (recognised by its first two bytes ``1f 8b``, whatever its name).
Anything that does not follow the layout -- wrong magic, unknown type code, a payload shorter or
longer than the sizes say, a truncated or corrupt gzip stream -- raises :class:`IDXError`, a
``ValueError`` with a one-line message that names the file.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from toolkit.results import atomic_write

__all__ = ["IDXError", "TYPE_CODES", "parse_idx", "to_idx_bytes", "read_bytes", "read_idx",
           "write_idx"]

#: IDX type code -> big-endian NumPy dtype.
TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in TYPE_CODES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A corrupt, truncated or non-IDX file (one-line message naming the file)."""


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """The array held in the (uncompressed) IDX bytes ``data``; IDXError if they are not valid IDX.

    The result is in native byte order; for uint8/int8 files it is a read-only view of ``data``.
    """
    n = len(data)
    if n < 4:
        raise IDXError(f"{source}: not an IDX file (only {n} bytes, the header needs at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise IDXError(f"{source}: not an IDX file (magic bytes {data[:4].hex()} do not start "
                       "with two zero bytes)")
    code, ndim = data[2], data[3]
    if code not in TYPE_CODES:
        raise IDXError(f"{source}: unknown IDX type code 0x{code:02x} (known: "
                       + ", ".join(f"0x{c:02x}" for c in TYPE_CODES) + ")")
    header = 4 + 4 * ndim
    if n < header:
        raise IDXError(f"{source}: truncated IDX header ({n} bytes, {ndim} dimensions need {header})")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = TYPE_CODES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = n - header
    if found < expected:
        raise IDXError(f"{source}: truncated IDX payload (sizes {shape} need {expected} bytes of "
                       f"data, found {found})")
    if found > expected:
        raise IDXError(f"{source}: IDX size mismatch (sizes {shape} need {expected} bytes of data, "
                       f"found {found}: {found - expected} trailing bytes)")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def to_idx_bytes(array) -> bytes:
    """The IDX encoding (uncompressed) of ``array``; its dtype must be one of :data:`TYPE_CODES`."""
    arr = np.asarray(array)
    native = arr.dtype.newbyteorder("=") if arr.dtype.itemsize > 1 else arr.dtype
    if native not in _CODE_OF:
        raise ValueError(f"IDX cannot store dtype {arr.dtype} (use uint8, int8, int16, int32, "
                         "float32 or float64)")
    if arr.ndim > 255 or any(s >= 2**32 for s in arr.shape):
        raise ValueError(f"IDX cannot store shape {arr.shape}")
    code = _CODE_OF[native]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + np.ascontiguousarray(arr, dtype=TYPE_CODES[code]).tobytes()


def read_bytes(path: str | os.PathLike) -> tuple[bytes, bytes]:
    """``(file bytes, decompressed bytes)`` of ``path``; gzip is recognised by its magic bytes.

    For an uncompressed file both items are the same object. IDXError for a corrupt or truncated
    gzip stream; OSError (from ``open``) if the file cannot be read.
    """
    raw = Path(path).read_bytes()
    return raw, decompress(raw, str(path))


def decompress(raw: bytes, source: str = "<bytes>") -> bytes:
    """``raw`` gunzipped if it starts with the gzip magic, else ``raw`` itself; IDXError if corrupt."""
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise IDXError(f"{source}: truncated gzip stream") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IDXError(f"{source}: corrupt gzip stream ({msg})") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in the IDX file ``path`` (raw or gzip); IDXError if corrupt or truncated."""
    _, data = read_bytes(path)
    return parse_idx(data, str(path))


def write_idx(path: str | os.PathLike, array, *, compress: bool | None = None) -> Path:
    """Write ``array`` as IDX to ``path`` atomically; gzip when ``compress`` (default: name ends .gz).

    The gzip header carries mtime 0, so the same array always gives the same bytes.
    """
    path = Path(path)
    data = to_idx_bytes(array)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, mtime=0)
    return atomic_write(path, data)

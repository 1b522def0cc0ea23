"""pgvector's `vector` type for psycopg, without the `pgvector` package: NumPy float32 arrays
are sent in pgvector's binary format and read back from text or binary."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo


class Vec:
    """A vector to send as `vector` (wraps a 1-d float array)."""

    __slots__ = ("data",)

    def __init__(self, data: Any) -> None:
        self.data = np.asarray(data, dtype=np.float32).ravel()


class _VecBinaryDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Vec) -> bytes:
        data = obj.data.astype(">f4", copy=False)
        return struct.pack(">HH", data.shape[0], 0) + data.tobytes()


class _VecTextLoader(Loader):
    def load(self, data: Any) -> np.ndarray:
        text = bytes(data).decode("ascii").strip("[]")
        return np.array(text.split(","), dtype=np.float32) if text else np.zeros(0, np.float32)


class _VecBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data: Any) -> np.ndarray:
        buf = bytes(data)
        dim, _ = struct.unpack_from(">HH", buf)
        return np.frombuffer(buf, dtype=">f4", count=dim, offset=4).astype(np.float32)


def register(conn: psycopg.Connection) -> bool:
    """Teach `conn` the vector type; False when the extension is not installed yet."""
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        return False
    dumper = type("VecDumper", (_VecBinaryDumper,), {"oid": info.oid})
    conn.adapters.register_dumper(Vec, dumper)
    conn.adapters.register_loader(info.oid, _VecTextLoader)
    conn.adapters.register_loader(info.oid, _VecBinaryLoader)
    return True

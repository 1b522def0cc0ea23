"""Reading a file as text: binary detection and encoding detection, never a traceback.

Order: a byte-order mark (UTF-8, UTF-16, UTF-32) decides; then NUL bytes mean binary
(unless the bytes look like BOM-less UTF-16); then strict UTF-8; then cp1252, then
latin-1 (which decodes anything), with a note saying so.

Files are opened with `open_regular`: O_NOFOLLOW | O_NONBLOCK, then the descriptor is
checked to be a regular file. A file swapped for a FIFO after the folder was listed would
otherwise block the reader forever; one swapped for a symlink would be followed.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
from dataclasses import dataclass

SNIFF_BYTES = 8192

# Extensions that are binary whatever their first bytes say: not even opened.
_BINARY_EXTENSION_WORDS = """
    png jpg jpeg gif bmp ico icns tif tiff webp avif heic psd xcf svgz
    mp3 mp4 m4a m4v wav flac ogg oga ogv opus mov avi mkv webm wmv aac
    zip gz tgz bz2 xz zst lz4 7z rar tar jar war ear whl egg apk dmg iso img
    pdf doc docx xls xlsx ppt pptx odt ods odp epub mobi
    so dylib dll exe bin o a lib obj class pyc pyo pyd wasm dat db sqlite sqlite3 duckdb
    ttf otf woff woff2 eot
    npy npz pkl pickle pt pth onnx safetensors gguf ckpt h5 hdf5 parquet arrow feather
"""
BINARY_EXTENSIONS = frozenset(_BINARY_EXTENSION_WORDS.split())

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class NotText(Exception):
    """The file is binary (the message says why)."""


@dataclass
class TextFile:
    text: str
    encoding: str
    file_hash: str  # of the raw bytes
    size: int
    note: str | None = None  # e.g. "not UTF-8: decoded as cp1252"


def has_binary_extension(path: str) -> bool:
    ext = os.path.splitext(path)[1][1:].lower()
    return ext in BINARY_EXTENSIONS


def hash_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NULs sit in every other byte, as in ASCII-ish UTF-16,
    and the result reads as text."""
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    n = len(even)
    z_even, z_odd = even.count(0) / n, odd.count(0) / n
    guess = None
    if z_odd > 0.4 and z_even < 0.05:
        guess = "utf-16-le"
    elif z_even > 0.4 and z_odd < 0.05:
        guess = "utf-16-be"
    if guess is None:
        return None
    text = sample.decode(guess, errors="replace")
    readable = sum(c.isprintable() or c in "\t\n\r\f" for c in text)
    return guess if readable >= 0.95 * len(text) else None


_CONTROL = bytes(b for b in range(32) if b not in (8, 9, 10, 12, 13, 27))


def decode(raw: bytes) -> tuple[str, str, str | None]:
    """(text, encoding, note) or raise NotText."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(name), name, None if name == "utf-8-sig" else f"{name} text"
            except UnicodeDecodeError:
                raise NotText(f"starts with a {name} byte-order mark but is not {name}") from None
    sample = raw[:SNIFF_BYTES]
    if b"\0" in sample:
        guess = _utf16_without_bom(sample)
        if guess:
            try:
                return raw.decode(guess), guess, f"{guess} text without a byte-order mark"
            except UnicodeDecodeError:
                pass
        raise NotText("contains NUL bytes")
    try:
        return raw.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError:
        pass
    controls = sum(sample.count(c) for c in _CONTROL)
    if sample and controls / len(sample) > 0.1:
        raise NotText("mostly control bytes")
    try:
        return raw.decode("cp1252"), "cp1252", "not UTF-8: decoded as cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1", "not UTF-8: decoded as latin-1"


def _looks_binary(head: bytes) -> bool:
    if b"\0" not in head or any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    return _utf16_without_bom(head) is None


class NotRegularFile(OSError):
    """The path is (now) a FIFO, device, socket or folder: not opened for reading."""


def open_regular(path: str, flags: int = os.O_RDONLY, *, follow_symlinks: bool = False) -> int:
    """A descriptor for `path` that is certain to be a regular file.

    Opened without following a final symlink (OSError ELOOP; unless `follow_symlinks`) and
    without blocking on a FIFO; then `fstat` on the descriptor (not the path, which may have
    changed) must say regular file, else NotRegularFile. The descriptor is made blocking.
    """
    flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_bytes(path: str, limit: int) -> bytes:
    """Read at most `limit` + 1 bytes; a binary file stops after its first 8 KB.
    (Tests patch this to simulate unreadable files.)"""
    with os.fdopen(open_regular(path), "rb") as fh:
        head = fh.read(SNIFF_BYTES)
        if _looks_binary(head):
            raise NotText("contains NUL bytes")
        return head + fh.read(max(0, limit + 1 - len(head)))


def read_text_file(path: str, max_bytes: int) -> TextFile:
    """Read and decode one file. Raises NotText, or OSError (unreadable, vanished), or
    ValueError when the file grew past `max_bytes` since it was listed."""
    if has_binary_extension(path):
        raise NotText("binary file type")
    raw = _read_bytes(path, max_bytes)
    if len(raw) > max_bytes:
        raise ValueError(f"larger than {max_bytes:,} bytes")
    text, encoding, note = decode(raw)
    # One newline convention for chunking and hashing; line numbers are unaffected.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return TextFile(text, encoding, hash_bytes(raw), len(raw), note)

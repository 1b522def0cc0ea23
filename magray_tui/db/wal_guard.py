"""Notices a lost or damaged write-ahead log instead of silently dropping its writes.

DuckDB keeps committed writes in `<db>.wal` until a checkpoint folds them into the file.
A WAL that went missing or was cut short loses those writes without a word, so after
each commit a small sidecar (`<db>.state`, JSON) records the WAL's size and the database's
commit counter (`commit_counter`: a sequence every write transaction moves on). At open the
sidecar is compared with what is there: a WAL shorter than recorded is copied aside
(nothing is ever deleted), and fewer commits than recorded means some were lost: the
database opens with what it has and says what was lost and how to recover.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

RECOVER = "`magray memory import` your last export to get them back"


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def sidecar_path(db: Path) -> Path:
    return db.with_name(db.name + ".state")


@dataclass(frozen=True)
class Recorded:
    wal_bytes: int
    commits: int


def read(db: Path) -> Recorded | None:
    try:
        data = json.loads(sidecar_path(db).read_text().strip())
        return Recorded(int(data["wal_bytes"]), int(data["commits"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no sidecar yet (or a torn one): nothing to compare


_fds: dict[Path, int] = {}
_RECORD_BYTES = 96  # fixed width: each write overwrites the last one in place


def write(db: Path, commits: int) -> None:
    """Record the WAL's size now and the commit count (after each commit). One pwrite of a
    fixed-width record into a kept-open file, no fsync: a torn or stale record only
    under-reports (it reads as no sidecar, or an older one), it never raises a false alarm."""
    try:
        try:
            size = os.stat(wal_path(db)).st_size
        except FileNotFoundError:
            size = 0  # folded into the file by a checkpoint
        data = json.dumps({"wal_bytes": size, "commits": commits}).encode()
        fd = _fds.get(db)
        if fd is None:
            fd = _fds[db] = os.open(sidecar_path(db), os.O_RDWR | os.O_CREAT, 0o600)
        os.pwrite(fd, data.ljust(_RECORD_BYTES), 0)
    except OSError as exc:
        log.warning("could not record the WAL state of %s: %s", db, exc)


def forget(db: Path) -> None:
    """Close the kept-open sidecar (the database closed)."""
    fd = _fds.pop(db, None)
    if fd is not None:
        os.close(fd)


@dataclass
class BeforeOpen:
    note: str | None = None  # what is wrong with the WAL, for the user
    copy: Path | None = None  # the WAL as it was before DuckDB replayed it


def check_before_open(db: Path) -> BeforeOpen:
    """Compare the WAL with the sidecar before DuckDB replays it. After an unclean stop
    (the sidecar records a WAL) the WAL is copied aside first: DuckDB drops a damaged
    tail silently and then folds the log into the file, and the copy keeps it."""
    recorded = read(db)
    if recorded is None or recorded.wal_bytes == 0:
        return BeforeOpen()
    wal = wal_path(db)
    if not wal.exists():
        return BeforeOpen(
            f"the write-ahead log {wal} is missing: changes committed after the last "
            f"checkpoint ({recorded.wal_bytes:,} bytes of log) are not in {db.name}"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    copy = wal.with_name(f"{wal.name}.before-replay-{stamp}")
    try:
        shutil.copy2(wal, copy)
    except OSError as exc:
        log.warning("could not keep a copy of %s before replaying it: %s", wal, exc)
        copy = None
    size = wal.stat().st_size
    if size < recorded.wal_bytes:
        return BeforeOpen(
            f"the write-ahead log {wal} was cut short ({size:,} of {recorded.wal_bytes:,} bytes)",
            copy,
        )
    return BeforeOpen(None, copy)


def lost_commits(db: Path, commits_now: int) -> int:
    recorded = read(db)
    return max(0, recorded.commits - commits_now) if recorded else 0


def damaged_wal_hint(db: Path) -> str:
    wal = wal_path(db)
    return (
        f"{db.name} itself holds everything up to the last checkpoint: move the log aside "
        f"(`mv {wal} {wal}.damaged`) and start magray again; the moved file keeps the "
        "later changes"
    )

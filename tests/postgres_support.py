"""A throwaway PostgreSQL cluster for tests (initdb + pg_ctl in a temp dir, unix socket only, no TCP).

Uses the server binaries of Debian's postgresql package (.ci/run installs it). PostgreSQL refuses
to run as root, so under root the server runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path


def server_bin() -> Path | None:
    """The directory of initdb/pg_ctl, or None when no server is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class Cluster:
    """A running cluster; `new_database()` gives a fresh SQLAlchemy URL each time."""

    def __init__(self, socket_dir: Path, port: int) -> None:
        self.socket_dir, self.port = socket_dir, port
        self._numbers = count(1)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://sfops@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{next(self._numbers)}"
        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user="sfops", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def running_cluster(base: Path, port: int = 55432) -> Iterator[Cluster]:
    """Start a cluster under `base`; stop it (immediately) on exit."""
    bindir = server_bin()
    assert bindir is not None
    data, sockets = base / "data", base / "sock"
    sockets.mkdir(parents=True)
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "sfops", "--no-sync", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield Cluster(sockets, port)
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )

"""A throwaway PostgreSQL cluster for the hub tests: initdb + pg_ctl as the `postgres` OS user, on a free
loopback port, started once per test session; every caller gets a fresh empty database. It runs without
flushing to disk (fsync, synchronous_commit and full_page_writes off) unless GRIDWATCH_PG_DURABLE=1 is set
when it starts (the ingest benchmark's --pg-durable)."""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import free_port

_cluster: dict[str, object] = {}
_counter = itertools.count(1)


def pg_bin_dir() -> Path | None:
    """Newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for path in reversed(candidates):
        if Path(path, "initdb").exists() and Path(path, "pg_ctl").exists():
            return Path(path)
    return None


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


def _start() -> None:
    bindir = pg_bin_dir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL binaries absent (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as the postgres user")
    root = Path(tempfile.mkdtemp(prefix="gridwatch-pg-"))
    data = root / "data"
    os.chmod(root, 0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -k {root} -c max_connections=200"
    if os.environ.get("GRIDWATCH_PG_DURABLE") != "1":  # tests: no flushes to disk; benchmarks may ask for them
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        _as_postgres(
            [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    _cluster.update(bindir=bindir, root=root, data=data, port=port)
    atexit.register(_stop)


def _stop() -> None:
    bindir, data, root = _cluster["bindir"], _cluster["data"], _cluster["root"]
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),  # type: ignore[operator]
        capture_output=True,
    )
    shutil.rmtree(root, ignore_errors=True)  # type: ignore[arg-type]


def postgres_url() -> str:
    """A new, empty database on the session's cluster (started on first use), as a SQLAlchemy URL."""
    if not _cluster:
        _start()
    import psycopg

    name = f"hub_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(
        f"host=127.0.0.1 port={_cluster['port']} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:{_cluster['port']}/{name}"

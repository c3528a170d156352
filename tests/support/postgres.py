"""A throwaway PostgreSQL server the tests start themselves, and the databases they use on it.

`PostgresServer().start()` runs initdb into a fresh temporary directory, starts `postgres` on a
free port of 127.0.0.1 (as an unprivileged user when we are root: PostgreSQL refuses to run as
root, and CI runs as root) and waits until it answers a connection. Every database it hands out
is reached with a URL that carries a password (`postgresql://smx:PASSWORD@127.0.0.1:PORT/DB`),
so tests can check that no message ever shows it. `stop()` shuts it down and removes the
directory; `stop_temporarily()` / `start_again()` take it away and bring it back on the same port
with the same data (for "/healthz answers 503, then 200").

The settings trade durability for speed (fsync off and the like): nothing here outlives the run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

INSTALL_HINT = (
    "PostgreSQL's server programs (initdb, postgres) were not found on PATH nor in "
    "/usr/lib/postgresql/*/bin: install them, e.g. `apt-get install -y postgresql` on Debian."
)
USER = "smx"  # the role the tests connect as
READY_WITHIN = 60.0  # seconds a server may take to accept connections before the run fails
STOP_WITHIN = 60.0

# The table that records applied migrations survives reset_postgres (bot/store/postgres_schema.py).
SCHEMA_VERSION_TABLE = "schema_version"


class PostgresNotInstalled(RuntimeError):
    pass


def find_bindir() -> Path:
    """The directory holding initdb and postgres: PATH first, else Debian's versioned dirs."""
    on_path = shutil.which("initdb")
    if on_path:
        bindir = Path(os.path.realpath(on_path)).parent
        if (bindir / "postgres").exists():
            return bindir
    candidates = glob.glob("/usr/lib/postgresql/*/bin")

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parent.name
        return tuple(int(x) for x in part.split(".") if x.isdigit())

    for bindir in sorted(candidates, key=version, reverse=True):
        if (Path(bindir) / "initdb").exists() and (Path(bindir) / "postgres").exists():
            return Path(bindir)
    raise PostgresNotInstalled(INSTALL_HINT)


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (ourselves) unless we are root, then `postgres`, else `nobody`."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# For tests: speed over durability (nothing here outlives the run), room for many connections.
TEST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class PostgresServer:
    """`settings`: server settings over TEST_SETTINGS (a benchmark turns durability back on)."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.settings = {**TEST_SETTINGS, **(settings or {})}
        self.bindir: Path | None = None
        self.base: Path | None = None
        self.port: int | None = None
        self.password = secrets.token_urlsafe(18)
        self._user = _unprivileged_user()
        self._process: subprocess.Popen | None = None
        self._admin: psycopg.Connection | None = None
        self._lock = threading.Lock()
        self._counter = 0

    # -- paths and commands --

    @property
    def datadir(self) -> Path:
        assert self.base is not None, "the server was not started"
        return self.base / "data"

    @property
    def logfile(self) -> Path:
        assert self.base is not None, "the server was not started"
        return self.base / "postgres.log"

    def _as_user(self, argv: list[str]) -> list[str]:
        if self._user is None:
            return argv
        # setpriv execs the program itself (no intermediate process), so signals reach postgres.
        return [
            "setpriv",
            f"--reuid={self._user.pw_uid}",
            f"--regid={self._user.pw_gid}",
            "--clear-groups",
            *argv,
        ]

    def _give_to_user(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)

    # -- life cycle --

    def start(self) -> PostgresServer:
        self.bindir = find_bindir()
        self.base = Path(tempfile.mkdtemp(prefix="smx-pg-"))
        os.chmod(self.base, 0o700)
        self._give_to_user(self.base)
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        os.chmod(pwfile, 0o600)
        self._give_to_user(pwfile)
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        result = subprocess.run(
            self._as_user(
                [
                    str(self.bindir / "initdb"),
                    "--pgdata",
                    str(self.datadir),
                    "--username",
                    USER,
                    "--pwfile",
                    str(pwfile),
                    # the socket is reachable only by the server's own user; TCP needs the password
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            capture_output=True,
            text=True,
            env=env,
            cwd=self.base,
            check=False,
        )
        pwfile.unlink()
        if result.returncode != 0:
            self._remove_directory()
            raise RuntimeError(f"initdb failed: {(result.stderr or result.stdout).strip()}")
        self._launch(_free_port())
        return self

    def _launch(self, port: int) -> None:
        assert self.bindir is not None
        self.port = port
        log = open(self.logfile, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self._process = subprocess.Popen(
                self._as_user(
                    [
                        str(self.bindir / "postgres"),
                        "-D",
                        str(self.datadir),
                        "-p",
                        str(port),
                        "-k",
                        str(self.base),
                        "-c",
                        "listen_addresses=127.0.0.1",
                        *(a for k, v in self.settings.items() for a in ("-c", f"{k}={v}")),
                    ]
                ),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.base,
                # its own session: a Ctrl-C in the terminal reaches pytest, which stops it in order
                start_new_session=True,
            )
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with status {self._process.returncode} before accepting "
                    f"connections; its log:\n{self.log_tail()}"
                )
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as err:
                last = err
            time.sleep(0.02)  # the polling interval while it starts, not a wait for the outcome
        self._terminate()
        raise RuntimeError(
            f"postgres did not accept connections on 127.0.0.1:{self.port} within "
            f"{READY_WITHIN:.0f} s (last error: {last}); its log:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back, disconnect, stop
        try:
            process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_WITHIN)

    def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(psycopg.Error):
                admin.close()

    def stop_temporarily(self) -> None:
        """Shut the server down, keeping its data and port, until start_again()."""
        with self._lock:
            self._close_admin()
            self._terminate()

    def start_again(self) -> None:
        """Bring a stopped server back on the same port with the same data."""
        assert self.port is not None, "the server was never started"
        with self._lock:
            self._launch(self.port)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        with self._lock:
            self._close_admin()
            self._terminate()
            self._remove_directory()

    def _remove_directory(self) -> None:
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- databases --

    def url(self, dbname: str = "postgres", *, password: str | None = None) -> str:
        """The URL of `dbname` on this server, with the password in it."""
        secret = self.password if password is None else password
        return f"postgresql://{USER}:{secret}@127.0.0.1:{self.port}/{dbname}"

    def _admin_connection(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5)
        return self._admin

    def create_database(self, name: str | None = None) -> str:
        """A fresh, empty database; returns its URL.

        From template0 with the default strategy, WAL_LOG: about 22 ms here, where FILE_COPY
        (two checkpoints) takes about 30 ms even with fsync off. Measured with
        `python -m tests.support.postgres` (bench_create_database below).
        """
        with self._lock:
            if name is None:
                self._counter += 1
                name = f"t{os.getpid()}_{self._counter}_{secrets.token_hex(3)}"
            self._admin_connection().execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 STRATEGY WAL_LOG").format(
                    sql.Identifier(name)
                )
            )
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self._lock:
            self._admin_connection().execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def reset_postgres(url: str) -> None:
    """Empty every table of the smx schema in the database at `url` (keeping the record of its
    migrations), with identities restarted: a fresh store in a few milliseconds, for property
    tests that need many."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> %s ORDER BY tablename",
                (SCHEMA_VERSION_TABLE,),
            )
        ]
        if tables:
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in tables)
                )
            )


def bench_create_database(server: PostgresServer, rounds: int = 20) -> dict[str, float]:
    """Median milliseconds of CREATE DATABASE by each way of making one (not a test: a tool for
    choosing create_database's way; run it by hand)."""
    import statistics

    ways = {
        "template0 WAL_LOG": "TEMPLATE template0 STRATEGY WAL_LOG",
        "template0 FILE_COPY": "TEMPLATE template0 STRATEGY FILE_COPY",
        "template1 FILE_COPY": "TEMPLATE template1 STRATEGY FILE_COPY",
    }
    results = {}
    conn = server._admin_connection()
    for label, clause in ways.items():
        times = []
        for i in range(rounds):
            name = f"bench_{i}_{secrets.token_hex(3)}"
            started = time.perf_counter()
            conn.execute(f"CREATE DATABASE {name} {clause}")
            times.append((time.perf_counter() - started) * 1000)
            conn.execute(f"DROP DATABASE {name}")
        results[label] = statistics.median(times)
    return results


if __name__ == "__main__":
    with PostgresServer() as srv:
        for way, ms in bench_create_database(srv).items():
            print(f"{way}: {ms:.1f} ms")

# SPDX-License-Identifier: MIT
"""A PostgreSQL server for the e2e tests: initdb into a temp dir, pg_ctl start on a free loopback
port, createdb, and pg_ctl stop + removal of the dir at stop() (and at interpreter exit).

PostgreSQL refuses to run as root: as root (CI), the server runs as the postgres system user,
which owns the temp dir. Host connections authenticate with a password (scram-sha-256); the
superuser's Unix socket in the temp dir is trusted, for psql().

    with PostgreSQL() as pg:
        url = pg.url           # postgresql://concierge@127.0.0.1:PORT/concierge
        pg.password_file       # a file with the role's password, for [store] password_file
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

START_TIMEOUT = 60  # seconds for pg_ctl start -w (initdb and start are slow on a loaded machine)
_live: set = set()


@atexit.register
def _stop_all() -> None:
    for pg in list(_live):
        pg.stop()


def bin_dir() -> str:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return os.environ.get("CONCIERGE_PG_BINDIR") or (dirs[-1] if dirs else "/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgreSQL:
    PASSWORD = "e2e-pg-pw"

    def __init__(self):
        self.bin = bin_dir()
        self.dir = ""
        self.port = 0
        self.running = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(prefix + list(args), cwd="/", capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = ""
            if os.path.exists(os.path.join(self.dir, "server.log")):
                with open(os.path.join(self.dir, "server.log")) as f:
                    log = f.read()[-2000:]
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}{log}")

    def start(self) -> "PostgreSQL":
        if not os.path.exists(os.path.join(self.bin, "initdb")):
            raise RuntimeError(f"no PostgreSQL server binaries in {self.bin} (install postgresql, .ci/setup.sh)")
        self.dir = tempfile.mkdtemp(prefix="concierge-pg-")
        _live.add(self)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.port = _free_port()
        data = os.path.join(self.dir, "data")
        self._run(os.path.join(self.bin, "initdb"), "-D", data, "-U", "postgres", "-E", "UTF8", "--no-locale",
                  "--auth-local=trust", "--auth-host=scram-sha-256")
        self._run(os.path.join(self.bin, "pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT), "-D", data,
                  "-l", os.path.join(self.dir, "server.log"),
                  "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}")
        self.running = True
        self._run(os.path.join(self.bin, "createdb"), "-h", self.dir, "-p", str(self.port), "-U", "postgres",
                  "concierge")
        self.psql(f"CREATE ROLE concierge LOGIN PASSWORD '{self.PASSWORD}'")
        self.psql("ALTER DATABASE concierge OWNER TO concierge")
        self.psql("ALTER SCHEMA public OWNER TO concierge")
        self.password_file = os.path.join(self.dir, "password")
        with open(self.password_file, "w") as f:
            f.write(self.PASSWORD + "\n")
        return self

    @property
    def url(self) -> str:
        return f"postgresql://concierge@127.0.0.1:{self.port}/concierge?sslmode=disable"

    def psql(self, sql: str) -> str:
        """Runs SQL as the superuser; its output, unaligned, tuples only."""
        done = subprocess.run([os.path.join(self.bin, "psql"), "-h", self.dir, "-p", str(self.port), "-U", "postgres",
                               "-d", "concierge", "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {done.stderr}")
        return done.stdout.strip()

    def halt(self) -> None:
        """Stops the server (fast shutdown: clients are disconnected) but keeps its data, for
        resume(): the database goes away and comes back on the same port."""
        self._run(os.path.join(self.bin, "pg_ctl"), "stop", "-m", "fast", "-w", "-D",
                  os.path.join(self.dir, "data"))
        self.running = False

    def resume(self) -> None:
        self._run(os.path.join(self.bin, "pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT), "-D",
                  os.path.join(self.dir, "data"), "-l", os.path.join(self.dir, "server.log"),
                  "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}")
        self.running = True

    def stop(self) -> None:
        if self.running:
            try:
                self._run(os.path.join(self.bin, "pg_ctl"), "stop", "-m", "fast", "-w", "-D",
                          os.path.join(self.dir, "data"))
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            self.running = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""
        _live.discard(self)

"""A local PostgreSQL cluster for `harness server`: initdb on first start, loopback TCP only, the database created
if missing, stopped with the server. PostgreSQL refuses to run as root, so under root its binaries run as an
unprivileged user (Debian's package creates `postgres`) through `runuser`."""

from __future__ import annotations

import glob
import os
import secrets
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness import HarnessError

DB_NAME = "mlflow"
DB_USER = "mlflow"


@dataclass
class Postgres:
    """A local PostgreSQL cluster in `data_dir`, listening on 127.0.0.1 only."""

    data_dir: Path
    password_file: Path
    log_file: Path
    port: int
    os_user: str | None  # run the server binaries as this user (we are root), or as ourselves
    started: bool = False

    def _cmd(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self.os_user, "--", *argv] if self.os_user else list(argv)

    @property
    def uri(self) -> str:
        # The password travels in PGPASSWORD, never on a command line that `ps` shows.
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{DB_NAME}"

    @property
    def password(self) -> str:
        return self.password_file.read_text(encoding="utf-8").strip()

    def ensure(self, bindir: Path) -> None:
        """initdb if needed, start (or reuse) the cluster, create the database if missing."""
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb(bindir)
        self._start(bindir)
        self._ensure_database(bindir)

    def _start(self, bindir: Path) -> None:
        status = subprocess.run(
            self._cmd(str(bindir / "pg_ctl"), "status", "-D", str(self.data_dir)), capture_output=True, text=True
        )
        if status.returncode == 0:
            raise HarnessError(
                f"PostgreSQL is already running on {self.data_dir}; stop it first (pg_ctl stop -D "
                f"{self.data_dir}) or use another --data-dir"
            )
        # Sockets off (-k ''): only loopback TCP, and no dependency on /var/run/postgresql existing.
        options = shlex.join(["-h", "127.0.0.1", "-p", str(self.port), "-k", ""])
        start = subprocess.run(
            self._cmd(
                str(bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
            ),
            capture_output=True,
            text=True,
        )
        if start.returncode != 0:
            raise HarnessError(
                f"PostgreSQL did not start: {_last_line(start.stderr or start.stdout)} (log: {self.log_file})"
            )
        self.started = True

    def _ensure_database(self, bindir: Path) -> None:
        env = {**os.environ, "PGPASSWORD": self.password}
        exists = subprocess.run(
            [
                str(bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                DB_USER,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if exists.returncode != 0:
            raise HarnessError(f"cannot query PostgreSQL on port {self.port}: {_last_line(exists.stderr)}")
        if exists.stdout.strip() != "1":
            created = subprocess.run(
                [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, DB_NAME],
                capture_output=True,
                text=True,
                env=env,
            )
            if created.returncode != 0:
                raise HarnessError(f"createdb {DB_NAME} failed: {_last_line(created.stderr)}")

    def _initdb(self, bindir: Path) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if any(self.data_dir.iterdir()):
            raise HarnessError(
                f"{self.data_dir} is not empty and holds no PostgreSQL cluster; choose another --data-dir"
            )
        self.data_dir.chmod(0o700)  # initdb and postgres insist on a private data folder
        self.password_file.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        self.password_file.chmod(0o600)
        # initdb reads the superuser password from a file the cluster's OS user can read: a copy
        # inside the (empty) data folder would make initdb refuse it, so it sits beside it briefly.
        pwfile = self.data_dir.parent / ".initdb-password"
        shutil.copyfile(self.password_file, pwfile)
        try:
            if self.os_user:
                shutil.chown(self.data_dir, self.os_user, self.os_user)
                shutil.chown(pwfile, self.os_user, self.os_user)
                self.log_file.touch()
                shutil.chown(self.log_file, self.os_user, self.os_user)
                reach = subprocess.run(self._cmd("test", "-w", str(self.data_dir)), capture_output=True)
                if reach.returncode != 0:
                    raise HarnessError(
                        f"user {self.os_user!r} cannot reach {self.data_dir}: make its parent folders searchable "
                        f"(chmod o+x) or choose a --data-dir outside private folders"
                    )
            done = subprocess.run(
                self._cmd(
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    DB_USER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ),
                capture_output=True,
                text=True,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)  # a half-made cluster would block the next try
            raise HarnessError(f"initdb failed: {_last_line(done.stderr or done.stdout)}")

    def stop(self, bindir: Path) -> None:
        if self.started:
            subprocess.run(
                self._cmd(str(bindir / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.data_dir)),
                capture_output=True,
            )
            self.started = False


def find_pg_bindir() -> Path:
    """Where initdb and pg_ctl live: $HARNESS_PG_BIN, then PATH, then Debian's
    /usr/lib/postgresql/<version>/bin (newest)."""
    candidates: list[Path] = []
    if os.environ.get("HARNESS_PG_BIN"):
        candidates.append(Path(os.environ["HARNESS_PG_BIN"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)  # Debian links only some tools into PATH
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    candidates += [Path(p) for p in reversed(debian)]
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "psql", "createdb")):
            return bindir
    raise HarnessError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's `postgresql` package or set "
        "HARNESS_PG_BIN"
    )


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def postgres_os_user(name: str) -> str | None:
    """The user that runs PostgreSQL: None (ourselves) unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        raise HarnessError(
            f"PostgreSQL will not run as root and there is no user {name!r}: create it (useradd -r {name}) or "
            "pass --pg-user"
        ) from None
    if not shutil.which("runuser"):
        raise HarnessError("running as root needs `runuser` (util-linux) to start PostgreSQL as an unprivileged user")
    return name

"""`harness server`: an MLflow tracking server backed by PostgreSQL, for a team sharing one registry.

Everything lives in one folder (default `.harness-server/` in the current directory):
`pgdata/` the PostgreSQL cluster (created with initdb on first start), `artifacts/` the artifact
root the server proxies, `pg.password` the generated database password, `auth/` MLflow's
authentication (its user store, configuration and session secret), and the two logs. The
command runs in the foreground; Ctrl-C (or SIGTERM) stops the MLflow server and the PostgreSQL
it started. PostgreSQL refuses to run as root, so under root its binaries run as the `postgres`
user (Debian's package creates it) through `runuser`.

Only CI may move an alias: the server runs MLflow's own authentication (`--app-name basic-auth`).
The CI identity (HARNESS_CI_USERNAME / HARNESS_CI_PASSWORD) is its admin, which may manage every
registered model; every other user it creates gets READ (`default_permission`), so a teammate's
`harness promote` or a hand-set alias is refused by the server itself.
"""

from __future__ import annotations

import argparse
import glob
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import HarnessError
from harness.servers.ports import free_port
from harness.servers.process import LocalServer, launch

DB_NAME = "mlflow"
DB_USER = "mlflow"
CI_USERNAME_ENV = "HARNESS_CI_USERNAME"
CI_PASSWORD_ENV = "HARNESS_CI_PASSWORD"
MIN_PASSWORD = 12  # MLflow's own rule for a basic-auth password


def configure_server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=".harness-server",
        help="folder for the PostgreSQL cluster, artifacts and logs (default .harness-server)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface the MLflow server binds (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="MLflow server port (default 5000)")
    parser.add_argument("--pg-port", type=int, default=0, help="PostgreSQL port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--workers", type=int, default=2, help="MLflow server worker processes (default 2)")
    parser.add_argument(
        "--database-uri",
        help="use this existing PostgreSQL database instead of a local cluster, e.g. postgresql://user:pw@db:5432/mlflow",
    )
    parser.add_argument(
        "--pg-user",
        default="postgres",
        help="OS user that runs PostgreSQL when this command runs as root (default postgres)",
    )


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


def auth_environment(auth_dir: Path) -> dict[str, str]:
    """The environment that makes `mlflow server --app-name basic-auth` use `auth_dir` and the CI
    identity as its admin; everyone else reads only."""
    user, password = os.environ.get(CI_USERNAME_ENV, "").strip(), os.environ.get(CI_PASSWORD_ENV, "")
    if not user or not password:
        raise HarnessError(
            f"set {CI_USERNAME_ENV} and {CI_PASSWORD_ENV}: the CI identity, the only one the server lets move an alias "
            "(every other user it knows reads only)"
        )
    if len(password) < MIN_PASSWORD:
        raise HarnessError(f"{CI_PASSWORD_ENV}: MLflow's authentication needs at least {MIN_PASSWORD} characters")
    auth_dir.mkdir(parents=True, exist_ok=True)
    auth_dir.chmod(0o700)
    config = auth_dir / "basic_auth.ini"
    config.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{auth_dir / 'users.db'}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
        encoding="utf-8",
    )
    secret = auth_dir / "session.secret"  # the same across restarts and workers, as MLflow requires
    if not secret.is_file():
        secret.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        secret.chmod(0o600)
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_USERNAME": user,
        "MLFLOW_AUTH_ADMIN_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secret.read_text(encoding="utf-8").strip(),
    }


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def _postgres_os_user(name: str) -> str | None:
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


def run_server(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    artifacts = data_dir / "artifacts"
    artifacts.mkdir(exist_ok=True)
    mlflow_log = data_dir / "mlflow-server.log"
    env = {**os.environ, **auth_environment(data_dir / "auth")}
    postgres: Postgres | None = None
    bindir = Path()
    backend = args.database_uri or ""
    if not args.database_uri:
        try:
            import psycopg  # noqa: F401  (SQLAlchemy 2.1 maps postgresql:// to psycopg 3; the server needs it here)
        except ImportError:
            raise HarnessError(
                "the PostgreSQL driver is missing: pip install 'agent-eval-harness[server]' (psycopg[binary])"
            ) from None
        bindir = find_pg_bindir()
        os_user = _postgres_os_user(args.pg_user)
        if os_user:
            data_dir.chmod(data_dir.stat().st_mode | 0o711)  # the postgres user must traverse into pgdata
        postgres = Postgres(
            data_dir / "pgdata",
            data_dir / "pg.password",
            data_dir / "postgres.log",
            args.pg_port or free_port(),
            os_user,
        )
    url = f"http://{args.host}:{args.port}"
    server: LocalServer | None = None
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        if postgres is not None:  # inside the try: a cluster we started is stopped whatever fails next
            postgres.ensure(bindir)
            backend, env["PGPASSWORD"] = postgres.uri, postgres.password
        # Its own process group: its uvicorn workers die with it when we signal the group.
        server = launch(
            LocalServer,
            "mlflow server",
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                backend,
                "--artifacts-destination",
                str(artifacts),
                "--serve-artifacts",
                "--host",
                args.host,
                "--port",
                str(args.port),
                "--workers",
                str(args.workers),
                "--app-name",
                "basic-auth",
            ],
            args.port,
            mlflow_log,
            env,
            append=True,
        )
        server.wait_ready([url + "/health"], 120)
        print(f"MLflow tracking server on PostgreSQL ({backend}), artifacts in {artifacts}")
        print(f"logs: {mlflow_log}" + (f", {postgres.log_file}" if postgres else ""))
        print(
            f"authentication on: {os.environ[CI_USERNAME_ENV]} (the CI identity) may move aliases, every "
            "other user reads only"
        )
        print(f"export MLFLOW_TRACKING_URI={url}", flush=True)
        code = server.process.wait()
        return 0 if code == 0 else _died(server)
    except KeyboardInterrupt:
        return 0 if stopping else 130
    finally:
        if server is not None:
            server.stop()
        if postgres is not None:
            postgres.stop(bindir)


def _died(server: LocalServer) -> int:
    print(
        f"harness server: mlflow server exited with status {server.process.returncode}: {server.last_log_line()}",
        file=sys.stderr,
    )
    return 1

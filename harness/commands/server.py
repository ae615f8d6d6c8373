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
import os
import secrets
import signal
import sys
from pathlib import Path

from harness import HarnessError
from harness.servers.ports import free_port
from harness.servers.postgres import Postgres, find_pg_bindir, postgres_os_user
from harness.servers.process import LocalServer, launch

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


def run_server(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    artifacts = data_dir / "artifacts"
    artifacts.mkdir(exist_ok=True)
    mlflow_log = data_dir / "mlflow-server.log"
    env = {**os.environ, **auth_environment(data_dir / "auth")}
    postgres, bindir = _postgres(args, data_dir) if not args.database_uri else (None, Path())
    backend = args.database_uri or ""
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
            _mlflow_argv(args, backend, artifacts),
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


def _postgres(args: argparse.Namespace, data_dir: Path) -> tuple[Postgres, Path]:
    """The cluster the server stores its data in, and where the PostgreSQL binaries are."""
    try:
        import psycopg  # noqa: F401  (SQLAlchemy 2.1 maps postgresql:// to psycopg 3; the server needs it here)
    except ImportError:
        raise HarnessError(
            "the PostgreSQL driver is missing: pip install 'agent-eval-harness[server]' (psycopg[binary])"
        ) from None
    bindir = find_pg_bindir()
    os_user = postgres_os_user(args.pg_user)
    if os_user:
        data_dir.chmod(data_dir.stat().st_mode | 0o711)  # the postgres user must traverse into pgdata
    files = (data_dir / "pgdata", data_dir / "pg.password", data_dir / "postgres.log")
    return Postgres(*files, args.pg_port or free_port(), os_user), bindir


def _mlflow_argv(args: argparse.Namespace, backend: str, artifacts: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend),
        *("--artifacts-destination", str(artifacts), "--serve-artifacts"),
        *("--host", args.host, "--port", str(args.port), "--workers", str(args.workers)),
        *("--app-name", "basic-auth"),
    ]


def _died(server: LocalServer) -> int:
    print(
        f"harness server: mlflow server exited with status {server.process.returncode}: {server.last_log_line()}",
        file=sys.stderr,
    )
    return 1

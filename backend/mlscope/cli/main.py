"""`mlscope ui|server` serves a tree; the tracking subcommands live in manage.py.

Every failure a user can cause ends in one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from pathlib import Path

from .. import __version__
from ..store.paths import NotLocalError, is_mlruns_root, local_path
from . import manage, migrate

DEFAULT_PORT = 5000


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit code 2."""


def default_store_uri() -> str:
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if uri:
        try:
            local_path(uri)
            return uri
        except NotLocalError:
            pass
    return "./mlruns"


def resolve_store(uri: str) -> Path:
    try:
        root = local_path(uri)
    except NotLocalError:
        raise UsageError(f"--backend-store-uri '{uri}' is not a local path or file: URI; mlscope serves local mlruns folders") from None
    if not root.exists():
        raise UsageError(f"{root} does not exist; log a run first (python -c 'import mlscope; mlscope.log_metric(\"x\", 1)') or run 'mlscope demo {root}'")
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    if not is_mlruns_root(root):
        raise UsageError(f"{root} is not an mlruns folder (no experiment folders with meta.yaml)")
    return root.resolve()


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use; pick another with --port") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ..server.app import create_app, frontend_dir
    from ..server.ui.frontend_files import incomplete_frontend_message, missing_frontend_files

    root = resolve_store(args.backend_store_uri or default_store_uri())
    missing = missing_frontend_files(frontend_dir())
    if missing:
        raise UsageError(incomplete_frontend_message(frontend_dir(), missing))
    sock = bind_socket(args.host, args.port)
    allowed = [h.strip() for h in (args.allowed_hosts or "").split(",") if h.strip()]
    if args.host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
        allowed.append(args.host)
    origins = [o.strip() for o in (args.cors_allowed_origins or "").split(",") if o.strip()]
    app = create_app(root, allowed_hosts=allowed, cors_allowed_origins=origins)
    shown_host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    print(f"mlscope {__version__} serving {root}")
    print(f"Open http://{shown_host}:{sock.getsockname()[1]} (Ctrl-C to stop)", flush=True)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


def add_serve_parser(subparsers: argparse._SubParsersAction, name: str) -> None:
    p = subparsers.add_parser(name, help="serve the dashboard for an mlruns folder" + (" (alias of ui)" if name == "server" else ""))
    p.add_argument("--backend-store-uri", help="mlruns folder or file: URI (default: $MLFLOW_TRACKING_URI if local, else ./mlruns)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 5000)")
    p.add_argument("--allowed-hosts", help="comma-separated Host header values accepted besides localhost")
    p.add_argument("--cors-allowed-origins", help="comma-separated origins allowed to call the API from a browser")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlscope", description="Open a folder of MLflow runs in the browser, fast.")
    parser.add_argument("--version", action="version", version=f"mlscope {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_serve_parser(subparsers, "ui")
    add_serve_parser(subparsers, "server")
    manage.register(subparsers)
    migrate.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"mlscope: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

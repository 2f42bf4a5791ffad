"""The ``mlscope`` command: ``ui``/``server`` (serve.py), the tracking subcommands (manage.py), ``migrate``.

Every failure a user can cause ends in one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import manage, migrate
from .serve import add_serve_parser
from .usage import UsageError


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

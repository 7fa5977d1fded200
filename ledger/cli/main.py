"""The ``carbon-ledger`` command line: a thin shell over the library.

Each command group lives in a module of :mod:`ledger.cli` that exposes
``register(app)``; this module only assembles them and maps errors to exit codes, in one place:

- a usage error (unknown command or option, a missing argument, a value outside its choices)
  or an input error (:class:`~ledger.errors.InputError`): one message, exit 2;
- any other library error (:class:`~ledger.errors.LedgerError`): one message, exit 1;
- an unexpected exception: one line naming it, exit 1.

No traceback is printed unless ``--debug`` is given (before the command).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from ledger.errors import InputError, LedgerError

__all__ = ["COMMAND_MODULES", "build_app", "main", "package_version"]

#: Modules of ``ledger.cli`` that register commands, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "devnet",
    "footprint",
    "factor_sets",
    "alternatives",
    "anchor",
    "report",
    "serve",
    "admin",
    "supplier",
    "declaration",
    "supersede",
)

EXIT_INPUT = 2
EXIT_LEDGER = 1
RECURSION_LIMIT = 1000
DEBUG_FLAG = "--debug"


def package_version() -> str:
    """The installed version of the ``carbon-ledger`` distribution."""
    try:
        return version("carbon-ledger")
    except PackageNotFoundError:  # pragma: no cover - running from a tree that is not installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"carbon-ledger {package_version()}")
        raise typer.Exit(0)


def _options(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option(
        DEBUG_FLAG, help="Print the Python traceback of an error.")] = False,
) -> None:
    """Carbon-footprint traceability ledger: footprints, on-chain anchoring, verifiable
    reports."""


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="carbon-ledger",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_options)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"ledger.cli.{name}")
        module.register(app)
    return app


def _usage_message(exc: typer.TyperException) -> str:
    """The message of a usage error, with where to read the command's usage."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "carbon-ledger"
    return f"{message}\n(see '{command} --help')"


def _fail(message: str, code: int, exc: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in args
    app = build_app()
    # an import (py_ecc) raises the recursion limit to 100,000: deep enough for the JSON parser
    # to overflow the C stack on a deeply nested file; Python's default raises an error instead
    sys.setrecursionlimit(min(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        # Outside standalone mode click returns (not raises) the code of ``typer.Exit(n)``.
        code = app(args=args, standalone_mode=False)
    except InputError as exc:
        _fail(str(exc), EXIT_INPUT, exc, debug)
    except LedgerError as exc:
        _fail(str(exc), EXIT_LEDGER, exc, debug)
    except RecursionError as exc:
        _fail("the input is nested too deeply to read", EXIT_INPUT, exc, debug)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors of the command line parser
        _fail(_usage_message(exc), int(getattr(exc, "exit_code", EXIT_INPUT)), exc, debug)
    except Exception as exc:  # the last resort: one line, not a traceback
        hint = "" if debug else f" (run with {DEBUG_FLAG} for the traceback)"
        _fail(f"{type(exc).__name__}: {exc}{hint}", EXIT_LEDGER, exc, debug)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()

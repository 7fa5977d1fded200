"""The ``carbon-ledger`` command line: a thin shell over the library.

Each command group lives in a module of :mod:`ledger.cli` that exposes
``register(app)``; this module only assembles them and maps library errors to exit codes.
"""

from __future__ import annotations

import importlib
import sys

import typer

from ledger.errors import InputError, LedgerError

__all__ = ["COMMAND_MODULES", "build_app", "main"]

#: Modules of ``ledger.cli`` that register commands, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "devnet",
    "footprint",
    "anchor",
    "report",
    "serve",
)

EXIT_INPUT = 2
RECURSION_LIMIT = 1000
EXIT_LEDGER = 1


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="carbon-ledger",
        help=(
            "Carbon-footprint traceability ledger: footprints, on-chain anchoring, "
            "verifiable reports."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"ledger.cli.{name}")
        module.register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    app = build_app()
    # an import (py_ecc) raises the recursion limit to 100,000: deep enough for the JSON parser
    # to overflow the C stack on a deeply nested file; Python's default raises an error instead
    sys.setrecursionlimit(min(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        # Outside standalone mode click returns (not raises) the code of ``typer.Exit(n)``.
        code = app(args=argv, standalone_mode=False)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_INPUT)
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_LEDGER)
    except RecursionError:
        print("error: the input is nested too deeply to read", file=sys.stderr)
        sys.exit(EXIT_INPUT)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()

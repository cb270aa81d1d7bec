"""The command line: a typer app. Each area registers its commands from tempocoach.commands.*.

Errors: a TempoCoachError prints one line on stderr and exits 2; --debug shows the traceback.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from tempocoach.errors import TempoCoachError

app = typer.Typer(
    name="tempocoach",
    help="Hands-free tempo coach: finds every rep and phase from a wrist or bar IMU and coaches it aloud.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command groups, one module per area; each defines register(app).
COMMAND_MODULES = (
    "tempocoach.commands.analysis",
    "tempocoach.commands.coaching",
    "tempocoach.commands.demo",
    "tempocoach.commands.sensors",
    "tempocoach.commands.training",
    "tempocoach.commands.voice",
)

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    try:
        code = app(args=args, prog_name="tempocoach", standalone_mode=False)
        if isinstance(code, int) and code:
            # typer turns Ctrl-C into a return value of 130 when not in standalone mode
            if code == 130:
                print("tempocoach: stopped", file=sys.stderr)
            sys.exit(code)
    except TempoCoachError as exc:
        if debug:
            raise
        print(f"tempocoach: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("tempocoach: stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()

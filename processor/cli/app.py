"""The `licensing` command group and what its commands share: the --db option and one-line failures.

Every failure a user can meet ends the command with one line on stderr, `licensing: <what is wrong>`, and a non-zero
exit: a usage mistake (exit 2), an error whose cause is known (`processor.cli.diagnosis`), and even an unexpected
one, named by its type (LICENSING_DEBUG=1 shows its traceback instead).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, NoReturn

import click

from processor.cli.diagnosis import explain, unexpected

DB_HELP = "SQLite store (default: $LICENSING_DB, else ./licensing.db)."
DEBUG_VARIABLE = "LICENSING_DEBUG"
_DATABASE = "licensing.database"  # the click context's meta key of the command's database path


class Failure(click.ClickException):
    """A failure told in one line: `licensing: <message>` on stderr, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"licensing: {one_line(self.message)}", err=True)


def fail(message: str) -> NoReturn:
    raise Failure(message)


def one_line(text: str) -> str:
    return " ".join(text.split())


def database_path(db: str | None) -> str:
    """The store the command works on; remembered so that an error of SQLite can name it."""
    path = db or os.environ.get("LICENSING_DB") or "licensing.db"
    context = click.get_current_context(silent=True)
    if context is not None:
        context.meta[_DATABASE] = path
    return path


def debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


class LicensingGroup(click.Group):
    """The command group, with every failure of its commands turned into one line."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False  # the failures are shown here, each in one line
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "licensing"
            click.echo(f"licensing: {one_line(exc.format_message()).rstrip('.')} (see '{command} --help')", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("licensing: interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            closed_pipe = isinstance(exc, OSError) and exc.errno == errno.EPIPE  # click leaves quietly
            if closed_pipe or debugging():
                raise
            raise Failure(explain(exc, ctx.meta.get(_DATABASE)) or unexpected(exc)) from exc


@click.group(cls=LicensingGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Event-sourced group-based licensing processor.

    \b
    Examples:
      licensing demo
      licensing ingest events.jsonl --db tenant.db
      licensing export --tenant contoso --db tenant.db > contoso.json
      licensing export --tenant contoso --as-of 2026-03-01T00:00:00Z
      licensing replay --db tenant.db
    """

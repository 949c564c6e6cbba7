"""Commands the demo suggests, written so that they run as printed, from where the demo was run.

After `make demo` the program is `.venv/bin/licensing`, not on the PATH: the suggestions name it the way it was
started (and `sqlite-utils`, installed beside it, the same way), or by its bare name when the shell finds that very
program by it.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_USERS, DEFAULT_SEED = 3000, 7


def program(name: str) -> str:
    """How to run the executable `name` installed beside the running program, from the current directory."""
    started = Path(sys.argv[0])
    beside = started.parent / name
    if not beside.is_file():
        return name
    found = shutil.which(name)
    if found is not None and Path(found).resolve() == beside.resolve():
        return name
    return shlex.quote(str(beside))


@dataclass(frozen=True)
class Hints:
    db: Path
    tenant: str
    users: int = DEFAULT_USERS
    seed: int = DEFAULT_SEED

    def licensing(self, *args: str) -> str:
        return " ".join([program("licensing"), *(shlex.quote(arg) for arg in args)])

    def every_row(self) -> str:
        """The demo again (the same tenant: same users and seed), with every row of every table."""
        options = ["--db", str(self.db)]
        if self.users != DEFAULT_USERS:
            options += ["--users", str(self.users)]
        if self.seed != DEFAULT_SEED:
            options += ["--seed", str(self.seed)]
        return self.licensing("demo", *options, "--all")

    def explore(self, as_of: str) -> list[tuple[str, str]]:
        """(command, what it shows) to go further from the demo's database; `as_of`: a time within the demo."""
        db = str(self.db)
        return [
            (self.licensing("export", "--tenant", self.tenant, "--db", db), "the full state document (JSON)"),
            (
                self.licensing("export", "--tenant", self.tenant, "--db", db, "--as-of", as_of),
                f"time travel: the state at {as_of}",
            ),
            (self.licensing("replay", "--db", db), "everything rebuilt from the event log"),
            (f"{program('sqlite-utils')} tables {shlex.quote(db)} --counts", "the read models"),
        ]

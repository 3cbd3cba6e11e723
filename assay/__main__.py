"""The ``assay`` console command (and ``python -m assay``).

``assay screen FILE`` is mostly start-up: before click and the config are even imported,
this looks at the command line, and if it names one file to screen, a sandboxed child starts
making that file's slim package (:func:`plugins.slim.prepare_early`) with the default limits
while this process loads the rest. The reading code takes it only if it was made from the
very bytes it reads, under the limits the config sets; anything this quick look gets wrong
(an option it does not know, a path that is an option's value) costs that head start,
never a result: click parses the command line as always.
"""

from __future__ import annotations

import sys

#: ``assay screen``'s options that take a value, and the group's.
_SCREEN_VALUES = ("--format", "--as-of", "--db")
_SCREEN_FLAGS = ("--no-store",)


def screened_file(argv: list[str]) -> str | None:
    """The one file ``argv`` (without the program name) asks ``assay screen`` to screen, or
    ``None`` when it is not that plainly (another command, options it does not know,
    several files, ``--help``)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "--config":
            i += 2
        elif argv[i].startswith("--config="):
            i += 1
        else:
            return None
    if i >= len(argv) or argv[i] != "screen":
        return None
    files: list[str] = []
    positional = False
    for j, arg in enumerate(argv[i + 1 :], start=i + 1):
        if positional or arg == "-" or not arg.startswith("-"):
            if j > 0 and argv[j - 1] in _SCREEN_VALUES and not positional:
                continue  # an option's value
            files.append(arg)
        elif arg == "--":
            positional = True
        elif arg in _SCREEN_FLAGS or arg.partition("=")[0] in _SCREEN_VALUES:
            continue
        else:
            return None
    return files[0] if len(files) == 1 else None


def main() -> None:
    path = screened_file(sys.argv[1:])
    if path is not None:
        from plugins.limits import Limits
        from plugins.slim import prepare_early

        prepare_early(path, Limits())
    from .cli import main as cli_main

    try:
        cli_main()
    finally:
        if path is not None:
            from plugins.slim import cancel_early

            cancel_early()  # (when the command did not take it: a usage error, --help)


if __name__ == "__main__":
    main()

"""The ``pmtype`` console script: the command line, started so that a Ctrl-C is one line.

The command line's modules take a moment to import; a Ctrl-C then would print
Python's traceback. Here it is ``Error: interrupted`` and exit code 130, as it is
once a command runs.
"""

import sys


def main() -> None:
    try:
        from pmtype.cli import run
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted\n")
        sys.exit(130)
    run()

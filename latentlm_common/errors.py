"""The one exception type for bad user input.

Anything raised as `InputError` is shown to the user by the CLI as a single line, with a
non-zero exit and no traceback. Its message says which input and what is wrong with it.
Programs outside that CLI (the trainers' and recipes' `main`) get the same with `one_line_errors`.
"""

import sys
from contextlib import contextmanager


class InputError(ValueError):
    """Bad input from the user (a file, a text, a checkpoint): the message is shown as is."""


@contextmanager
def one_line_errors(prog: str):
    """Inside: an `InputError` ends the program with `PROG: error: MESSAGE` on stderr and exit 2."""
    try:
        yield
    except InputError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None

"""The one exception type for bad user input.

Anything raised as `InputError` is shown to the user by the CLI as a single line, with a
non-zero exit and no traceback. Its message says which input and what is wrong with it.
"""


class InputError(ValueError):
    """Bad input from the user (a file, a text, a checkpoint): the message is shown as is."""

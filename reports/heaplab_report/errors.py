"""The errors the report package raises for what it cannot do: input it cannot use (a
file missing, not JSON, of the wrong kind or shape) and an output file it cannot write.
Each message names the file; the command line prints it on one line and exits 2."""


class InputError(Exception):
    """Input the report cannot use; the message names the file. The CLI exits 2 with it."""


class WriteError(Exception):
    """A file of the report that could not be written (nothing of it is left); the
    message names it and why. The CLI exits 2 with it."""

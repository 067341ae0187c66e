"""The one error the report package raises for input it cannot use (a file missing, not
JSON, of the wrong kind or shape): its message names the file; the command line prints it
on one line and exits 2."""


class InputError(Exception):
    """Input the report cannot use; the message names the file. The CLI exits 2 with it."""

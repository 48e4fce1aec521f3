"""The one error type of the command line."""


class CommandError(Exception):
    """A user error the command line reports in one line (exit status 2)."""

"""errors.py - the one exception type the tools raise for user errors.

Anything raised as ToolError is printed by the CLI as a single
`error: ...` line with a non-zero exit status, never as a traceback."""


class ToolError(Exception):
    """A user-facing failure: the message is one line, `status` the exit code."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status

"""The one user-facing error type.

Anything the user can fix — a missing file, bad YAML, a bad configuration, a git failure — is raised as
:class:`CredsLintError` with a one-line message that never quotes file content. The CLI turns it into exit code 2.
"""

from __future__ import annotations


class CredsLintError(Exception):
    """A problem with the input or the environment, explained in one line.

    ``source`` names the file (or revision) concerned, when there is one; ``message`` must not contain values
    read from a var-store.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message

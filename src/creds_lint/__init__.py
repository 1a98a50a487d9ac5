"""creds-lint: a pre-flight check for BOSH var-stores.

The small public API: :func:`lint` compares two loaded var-stores, :func:`load_store` reads one safely, and
:class:`Finding` / :class:`Severity` describe what was found.
"""

from __future__ import annotations

__version__ = "0.1.0"

from creds_lint.engine import Options, lint
from creds_lint.findings import Finding, Severity
from creds_lint.loader import load_store

__all__ = ["Finding", "Options", "Severity", "__version__", "lint", "load_store"]

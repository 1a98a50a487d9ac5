"""creds-lint: a pre-flight check for BOSH var-stores.

The small public API: :func:`lint` compares two loaded var-stores, :func:`load_store` reads one safely, and
:class:`Finding` / :class:`Severity` describe what was found. They are imported when first used, so that
``creds-lint --version`` and ``--help`` import no rule (``tests/test_startup.py`` keeps the budget).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from creds_lint.engine import Options, lint
    from creds_lint.findings import Finding, Severity
    from creds_lint.loader import load_store

#: Where each name of the public API lives.
_API = {
    "Finding": "creds_lint.findings",
    "Options": "creds_lint.engine",
    "Severity": "creds_lint.findings",
    "lint": "creds_lint.engine",
    "load_store": "creds_lint.loader",
}


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'creds_lint' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["Finding", "Options", "Severity", "__version__", "lint", "load_store"]

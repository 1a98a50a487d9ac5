"""What the process owner (:func:`creds_lint.cli.main`) sets up around a run, and nothing below it does.

A run allocates many small objects and frees them by reference counting; meanwhile the cyclic garbage collector
would traverse the loaded stores again and again (a quarter of the time of a 10,000-entry run). The CLI turns it
off for the run and restores it after. The parse caches of :mod:`creds_lint.x509` are emptied when the run ends,
so "parsed once per run" means once per run, not once per process.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def run_scope() -> Iterator[None]:
    """One run: the cyclic collector off, the certificate caches emptied after; both restored on any exit."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        from creds_lint import x509

        x509.clear_caches()
        if enabled:
            gc.enable()

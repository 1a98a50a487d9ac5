"""When a certificate is due: the one meaning of "expires within N days", for ``--expiry-days`` (the
``expiring-certificate`` rule), ``renew --expiring``, ``rotate plan --within`` and ``rotate leaf --expiring``.

A certificate is within a window of N days when the whole days it has left, as every output shows them
(:meth:`creds_lint.x509.CertInfo.days_left`, the floor), are at most N: a certificate shown with 30 days left is
within 30 days whether 30.0 or 30.9 days remain, and one shown with 31 is not. An expired certificate (negative
days left) is within every window; whether it has expired is the caller's question.
"""

from __future__ import annotations

from datetime import datetime

from creds_lint import x509


def within(info: x509.CertInfo, now: datetime, days: int) -> bool:
    """Whether the certificate of ``info`` has at most ``days`` whole days left at ``now`` (or has expired)."""
    return info.days_left(now) <= days

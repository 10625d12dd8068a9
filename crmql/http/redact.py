"""Where :mod:`crmql.redaction` used to live: its names, re-exported for existing imports.

>>> from crmql.http.redact import redact, register_secret
>>> register_secret("s3cr3t-value")
>>> redact("login failed for s3cr3t-value")
'login failed for ***'
"""

from __future__ import annotations

from crmql.redaction import (
    MASK,
    MIN_SECRET_LEN,
    RedactingFilter,
    install_log_redaction,
    redact,
    register_secret,
)

__all__ = ["MASK", "MIN_SECRET_LEN", "RedactingFilter", "install_log_redaction", "redact", "register_secret"]

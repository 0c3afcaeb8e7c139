"""Training's home panels and menu entries (`xinyu.kernel.registry`). The certificates'
entries live in cert_panels.py (the holder's certificates, the certificates and coverage
menu entries)."""

from . import cert_panels  # noqa: F401

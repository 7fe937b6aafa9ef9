"""Append-only, hash-chained audit events."""

from dpa_service.audit.service import record, verify_chains

__all__ = ["record", "verify_chains"]

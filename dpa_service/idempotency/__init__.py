"""Idempotency keys: a client that retries a POST gets the first answer, not a second effect."""

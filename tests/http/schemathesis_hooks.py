"""schemathesis hooks for the suite's run and `scripts/schemathesis` (SCHEMATHESIS_HOOKS).

Hypothesis draws the same small `Idempotency-Key` (say "0") for many requests, and the stateful
phase chains them; the service rightly answers 422 when a key already used comes with another
request (docs/operations.md, "Idempotency keys"). A real client sends a new key for each new
request, so a key the schema allows is given a fresh value just before the call. A key the schema
forbids (negative cases) is left as drawn: it must still be refused.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

SHAPE = re.compile(r"^[\x21-\x7e]{1,200}$")  # the documented pattern


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    headers = case.headers
    if not headers:
        return
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and SHAPE.match(value):
            headers[name] = str(uuid.uuid4())

"""The check of an uploaded template, run as a child process with CPU and memory limits.

Reads a msgpack payload on stdin (see validation.validate_template), runs the whole check
(`validation.check_upload`: the package, the Jinja, a trial render per sample workspace) and
prints {"ok": true, …findings} or {"error": "…"} as JSON on stdout.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any

import msgspec

from dpa_service.clauses.package import TemplateRejected
from dpa_service.clauses.validation import check_upload


def _limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value if hard == resource.RLIM_INFINITY else hard))


def run(payload: dict[str, Any]) -> dict[str, Any]:
    _limit(resource.RLIMIT_AS, int(payload["memory_bytes"]))
    _limit(resource.RLIMIT_CPU, int(payload["cpu_seconds"]))
    try:
        found = check_upload(
            payload["data"],
            template_key=payload["template_key"],
            companions=payload["companions"],
            trials=[(label, context) for label, context in payload["trials"]],
            shape=payload["shape"],
            render_budget_s=float(payload["render_budget_s"]),
            signature_png=payload["signature_png"],
        )
    except TemplateRejected as exc:
        return {"error": exc.detail}
    except MemoryError:
        return {"error": "the trial render failed: the template needs too much memory"}
    except RecursionError:
        return {"error": "the trial render failed: the template recurses too deeply"}
    return {"ok": True, **found}


def main() -> None:
    payload = msgspec.msgpack.decode(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(run(payload)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""The trial render of an uploaded template, run as a child process with CPU and memory limits.

Reads a msgpack payload on stdin (see validation.trial_render), renders the whole DPA in the
sandbox once per context, and prints {"ok": true} or {"error": "..."} as JSON on stdout.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any

import msgspec

from dpa_service.rendering.document import TemplateRenderError, render_dpa


def _limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value if hard == resource.RLIM_INFINITY else hard))


def run(payload: dict[str, Any]) -> dict[str, Any]:
    _limit(resource.RLIMIT_AS, int(payload["memory_bytes"]))
    _limit(resource.RLIMIT_CPU, int(payload["cpu_seconds"]))
    try:
        for context in payload["contexts"]:
            signed = bool((context.get("signatures") or {}).get("controller"))
            drawings = {"controller": payload["signature_png"]} if signed else None
            render_dpa(payload["templates"], context, drawings)
    except TemplateRenderError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"error": "the template needs too much memory to render"}
    except RecursionError:
        return {"error": "the template recurses too deeply"}
    except Exception as exc:  # a bad template can make docxtpl fail in many ways
        return {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    return {"ok": True}


def main() -> None:
    payload = msgspec.msgpack.decode(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(run(payload)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

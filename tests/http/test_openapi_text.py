"""What the OpenAPI schema says of the free text a request carries (comments, reasons, change
notes) is what the handlers check (`dpa_service.text`): no control characters and no bidi
embeddings, overrides or isolates, and for a text that must say something, not only spaces. A
client that keeps to the schema is not refused, and one that does not is told so by the schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from dpa_service.text import MULTILINE, NO_CONTROLS, SAID, has_control_characters
from tests.conftest import Api

FREE_TEXT = {"comment", "reason", "change_note"}
# The handlers that refuse a text saying nothing (governance.review.clean_comment `required`).
MUST_SAY = {("subprocessors_schemas_RejectRequest", "comment")}


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ref = node.get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    return name, doc["components"]["schemas"][name] if ref else node


def _request_text_fields(doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(operation, body schema, property, its schema) for every free-text property of a body."""
    found = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            for media in (body or {}).get("content", {}).values():
                schema = media["schema"]
                for alternative in schema.get("oneOf", [schema]):
                    name, resolved = _resolve(doc, alternative)
                    for prop, spec in (resolved.get("properties") or {}).items():
                        if prop in FREE_TEXT:
                            found.append((f"{method.upper()} {path}", name, prop, spec))
    return found


def test_every_comment_reason_and_change_note_in_a_request_has_the_handlers_pattern(
    api: Api,
) -> None:
    doc = api.client.get("/schema/openapi.json").json()
    fields = _request_text_fields(doc)
    assert len(fields) >= 10  # reviews, rejections, notes, reasons of every kind
    wrong = [
        (operation, name, prop, spec.get("pattern"))
        for operation, name, prop, spec in fields
        if spec.get("pattern") not in (MULTILINE, SAID)
    ]
    assert wrong == []
    for operation, name, prop, spec in fields:
        if (name, prop) in MUST_SAY:
            assert spec["pattern"] == SAID, (operation, name, prop)


def test_a_subprocessor_rejection_the_schema_refuses_is_refused(api: Api) -> None:
    # What the pattern refuses, the handler refuses (here before it looks for the version).
    for comment in (" ", "no \u202eway", "no\x00way"):
        r = api.client.post(
            "/api/v1/subprocessors/versions/1/reject",
            json={"comment": comment},
            headers=api.headers("legal"),
        )
        assert r.status_code == 422, (comment, r.text)


# What each pattern stands for: the handler's own check.
CHECKS: dict[str, Callable[[str], bool]] = {
    NO_CONTROLS: lambda text: not has_control_characters(text),
    MULTILINE: lambda text: not has_control_characters(text, multiline=True),
    SAID: lambda text: bool(text.strip()) and not has_control_characters(text, multiline=True),
}
TEXTS = [chr(point) for point in range(0x10000) if not 0xD800 <= point <= 0xDFFF] + [
    "a line\n",  # Python's `$` also matches before a final line break
    "two\nlines",
    " \ufeff ",  # ECMA-262's \s has U+FEFF; Python's (and str.strip) has not
    "says \u2028 something",
    "\u2028\u2029",
]
ECMA = """
const [patterns, texts] = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(patterns.map((p) => texts.map((t) => new RegExp(p).test(t)))));
"""


def _python(patterns: list[str]) -> list[list[bool]]:
    return [[re.search(p, t) is not None for t in TEXTS] for p in patterns]


def _ecma(patterns: list[str]) -> list[list[bool]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run the patterns as ECMA-262 regular expressions")
    run = subprocess.run(
        [node, "-e", ECMA],
        input=json.dumps([patterns, TEXTS]),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return list(json.loads(run.stdout))


@pytest.mark.parametrize("engine", ["python", "ecma"])
def test_the_text_patterns_mean_what_the_handlers_check_in_either_regex_engine(
    engine: str,
) -> None:
    # JSON Schema reads a pattern as ECMA-262; Python tools (jsonschema, schemathesis) with re.
    patterns = list(CHECKS)
    verdicts = (_python if engine == "python" else _ecma)(patterns)
    for pattern, allowed in zip(patterns, verdicts, strict=True):
        check = CHECKS[pattern]
        differ = [t for t, ok in zip(TEXTS, allowed, strict=True) if ok != check(t)]
        assert differ == [], (pattern, differ[:10])


def test_a_printable_line_ends_where_the_text_ends(api: Api) -> None:
    # PrintableLine, read with Python's re, let "Acme GmbH\n" through (its `$` also matches
    # before a final line break); the handlers refuse the line break.
    pattern = api.client.get("/schema/openapi.json").json()["components"]["schemas"][
        "PrintableLine"
    ]["pattern"]
    assert re.search(pattern, "Acme GmbH") is not None
    assert re.search(pattern, "Acme GmbH\n") is None

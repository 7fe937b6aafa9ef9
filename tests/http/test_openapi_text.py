"""What the OpenAPI schema says of the free text a request carries (comments, reasons, change
notes) is what the handlers check (`dpa_service.text`): no control characters and no bidi
embeddings, overrides or isolates, and for a text that must say something, not only spaces. A
client that keeps to the schema is not refused, and one that does not is told so by the schema."""

from __future__ import annotations

from typing import Any

from dpa_service.text import MULTILINE, SAID
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

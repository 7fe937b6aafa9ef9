"""The reviewer's diff: paragraphs in order, table rows as lines, words marked, context kept."""

from __future__ import annotations

from dpa_service.clauses.diff import (
    Segment,
    diff_documents,
    diff_paragraphs,
    document_paragraphs,
    summary,
    word_segments,
)
from tests.clauses import docx_files as f


def test_paragraphs_in_document_order_with_table_rows() -> None:
    paragraphs = document_paragraphs(f.builtin("subprocessors"))
    assert paragraphs[0] == "11. Subprocessors"
    assert "Name | Purpose | Location | Transfer safeguard" in paragraphs
    row = "{{ e.name }} | {{ e.purpose }} | {{ e.location }} | {{ e.transfer_safeguard }}"
    assert row in paragraphs
    assert paragraphs.index(row) > paragraphs.index(
        "Name | Purpose | Location | Transfer safeguard"
    )
    assert all(p.strip() for p in paragraphs)


def test_identical_documents_collapse_to_one_line() -> None:
    data = f.builtin("security")
    ops = diff_documents(data, data)
    assert [op.op for op in ops] == ["collapsed"]
    assert ops[0].count == len(document_paragraphs(data))


def test_changed_inserted_deleted_paragraphs_of_a_docx() -> None:
    old = f.builtin("security")
    new = f.replace_text(old, "10. Security of processing", "10. Security of the processing")
    new = f.add_paragraph(new, "10.5 A new duty.", after="10.4 ")
    new = f.replace_text(new, "II.1 Encryption", "")
    ops = diff_documents(old, new)
    counts = summary(ops)
    assert counts["replace"] == 1 and counts["insert"] == 1 and counts["delete"] == 1
    replaced = next(op for op in ops if op.op == "replace")
    assert replaced.old_number == replaced.new_number == 1
    assert Segment("insert", " the") in replaced.segments or Segment("insert", "the ") in (
        replaced.segments
    )
    assert "".join(s.text for s in replaced.segments if s.op != "insert") == replaced.old
    assert "".join(s.text for s in replaced.segments if s.op != "delete") == replaced.new
    inserted = next(op for op in ops if op.op == "insert")
    assert inserted.new == "10.5 A new duty." and inserted.new_number == 6
    deleted = next(op for op in ops if op.op == "delete")
    assert deleted.old == "II.1 Encryption"
    assert counts["equal"] + counts["replace"] + counts["delete"] == len(document_paragraphs(old))


def test_context_around_changes_and_collapsed_runs() -> None:
    old = [f"paragraph {i}" for i in range(20)]
    new = list(old)
    new[10] = "paragraph 10, rewritten"
    ops = diff_paragraphs(old, new, context=2)
    assert [op.op for op in ops] == [
        "collapsed",
        "equal",
        "equal",
        "replace",
        "equal",
        "equal",
        "collapsed",
    ]
    assert ops[0].count == 8 and ops[-1].count == 7
    assert [ops[1].old_number, ops[2].old_number, ops[4].old_number] == [9, 10, 12]


def test_unrelated_paragraphs_are_delete_and_insert_not_replace() -> None:
    ops = diff_paragraphs(["The processor shall notify."], ["Completely different words here."])
    assert [op.op for op in ops] == ["delete", "insert"]


def test_word_segments_mark_only_changed_words() -> None:
    segments = word_segments("notify within 48 hours", "notify within 24 hours")
    assert segments == (
        Segment("equal", "notify within "),
        Segment("delete", "48"),
        Segment("insert", "24"),
        Segment("equal", " hours"),
    )


def test_against_nothing_everything_is_new() -> None:
    ops = diff_documents(None, f.builtin("confidentiality"))
    assert ops and all(op.op == "insert" for op in ops)

"""Upload validation: each kind of bad or hostile template is refused with a message saying why."""

from __future__ import annotations

import hashlib

import pytest

from dpa_service.clauses import package, validation
from dpa_service.clauses.package import TemplateRejected
from dpa_service.clauses.sample import sample_context
from dpa_service.clauses.validation import render_trials, validate_template
from dpa_service.rendering.document import TemplateRenderError, render_template
from tests.clauses import docx_files as f


def rejected(data: bytes, key: str = "security", filename: str | None = None) -> str:
    with pytest.raises(TemplateRejected) as info:
        validate_template(data, filename=filename or f"{key}.docx", template_key=key)
    assert info.value.status_code == 422
    return info.value.detail


@pytest.mark.parametrize("key", ["master", "security", "confidentiality", "subprocessors"])
def test_the_builtin_templates_pass(key: str) -> None:
    data = f.builtin(key)
    checked = validate_template(data, filename=f"{key}.docx", template_key=key)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.size == len(data)
    assert "agreement.id" in checked.variables  # the footer


def test_subprocessor_table_rows_with_tr_tags_and_used_paths() -> None:
    checked = validate_template(
        f.builtin("subprocessors"), filename="s.docx", template_key="subprocessors"
    )
    assert {"e.name", "e.transfer_safeguard", "subprocessors.approved_on"} <= set(checked.variables)


def test_an_edited_clause_passes() -> None:
    data = f.add_paragraph(
        f.builtin("security"), "Keys are rotated for {{ controller.legal_name }} every 90 days."
    )
    assert validate_template(data, filename="sec v2.docx", template_key="security").size == len(
        data
    )


def test_macro_enabled_docm_is_refused() -> None:
    assert "macro-enabled" in rejected(f.macro_enabled(f.builtin("security")))
    assert "macro-enabled" in rejected(f.builtin("security"), filename="security.docm")


def test_macro_part_in_a_docx_is_refused() -> None:
    assert "macros (word/vbaProject.bin)" in rejected(f.with_vba_part_only(f.builtin("security")))


def test_zip_bomb_is_refused() -> None:
    message = rejected(f.zip_bomb(f.builtin("security")))
    assert "ZIP bomb" in message


def test_zip_bomb_with_lying_sizes_is_refused_while_reading() -> None:
    message = rejected(f.lying_sizes(f.builtin("security")))
    assert "the ZIP archive is damaged" in message and "Bad CRC-32" in message


def test_bomb_limits_are_counted_while_reading() -> None:
    # Declared sizes that a laxer directory check would pass: the running count still stops it.
    import io
    import zipfile

    bomb = f.zip_bomb(f.builtin("security"))
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf, pytest.raises(TemplateRejected) as info:
        package.read_entries(zf, zf.infolist())
    assert "ZIP bomb" in info.value.detail and "expands beyond" in info.value.detail


def test_pdf_renamed_docx_is_refused() -> None:
    assert rejected(f.pdf_file()) == "not a DOCX: looks like a PDF"


def test_other_files_renamed_docx_are_refused() -> None:
    assert "renamed ZIP" in rejected(f.renamed_zip())
    assert rejected(b"hello") == "not a DOCX: it is not a ZIP archive"
    assert rejected(b"") == "the file is empty"
    assert "old Word .doc" in rejected(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))


def test_file_name_must_end_in_docx() -> None:
    assert rejected(f.builtin("security"), filename="security.pdf") == (
        "security.pdf: the file name must end in .docx"
    )


def test_too_big_file_is_refused() -> None:
    message = rejected(f.too_big(f.builtin("security")))
    assert message.startswith("the file is 6.") and "at most 5.0 MB" in message


def test_too_many_entries_is_refused() -> None:
    assert "1018 entries; at most 1000" in rejected(f.many_entries(f.builtin("security")))


def test_word_template_dtd_and_external_links_are_refused() -> None:
    assert "Word template (.dotx)" in rejected(f.as_word_template(f.builtin("security")))
    assert "declares a DTD" in rejected(f.with_dtd(f.builtin("security")))
    message = rejected(f.with_external_image(f.builtin("security")))
    assert "links to external content (image: http://127.0.0.1:9/track.png)" in message


def test_python_internals_are_refused() -> None:
    for source in (
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ controller|attr('__class__') }}",
        "{{ controller['__class__'] }}",
    ):
        message = rejected(f.with_jinja(source))
        assert "reaches for Python internals" in message, source


def test_unknown_variables_are_listed() -> None:
    message = rejected(
        f.with_jinja("{{ customer_name }} {{ controller.legal_nam }} {{ range(3) }}")
    )
    assert "the rendering context does not provide: controller.legal_nam, customer_name, range" in (
        message
    )
    assert "available: agreement, controller" in message


def test_unknown_field_of_a_loop_item_is_listed() -> None:
    message = rejected(f.with_jinja("{% for e in subprocessors.entries %}{{ e.nme }}{% endfor %}"))
    assert "does not provide: e.nme" in message


def test_master_clause_places_are_not_variables_in_a_clause() -> None:
    assert "does not provide: security_clause" in rejected(f.with_jinja("{{ security_clause }}"))


def test_broken_jinja_names_the_place() -> None:
    message = rejected(f.with_jinja("{% if controller.dpo %}unclosed"))
    assert message.startswith("Jinja syntax error in the document body, line ")
    assert "Unexpected end of template" in message
    message = rejected(f.with_jinja("Signed by {{ controller.legal_name }"))
    assert 'near "Signed by {{ controller.legal_name }"' in message
    message = rejected(f.with_jinja("{{ controller.legal_name | no_such_filter }}"))
    assert "No filter named 'no_such_filter'" in message


def test_master_needs_each_clause_place() -> None:
    message = rejected(f.without_marker("security"), key="master")
    assert "{{p security_clause }} (0 found)" in message


def test_unknown_template_key() -> None:
    assert "unknown template 'annex'" in rejected(f.builtin("security"), key="annex")


def test_sandbox_blocks_internals_even_without_the_static_check() -> None:
    """The rendering sandbox itself refuses: a trial render of such a template fails."""
    context = sample_context()
    for source in ("{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}"):
        with pytest.raises(TemplateRenderError, match="SecurityError"):
            render_template(f.with_jinja(source), context)
        templates = {k: f.builtin(k) for k in ("master", "confidentiality", "subprocessors")}
        templates["security"] = f.with_jinja(source)
        with pytest.raises(TemplateRejected, match="sandbox refuses"):
            render_trials(templates, [("the sample workspace", context)], 10.0, b"")


def test_a_template_that_exhausts_memory_is_refused() -> None:
    # Below the sandbox's limit on * and +, but a join of 16000 pieces with a 16000-character
    # separator needs gigabytes: the child's memory limit stops it.
    source = "{{ (controller.legal_name * 1000)|list|join(controller.legal_name * 1000) }}"
    message = rejected(f.with_jinja(source))
    assert "too much memory" in message or "ran out of time or memory" in message, message


def test_a_template_that_never_finishes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "TRIAL_TIMEOUT_S", 3.0)
    source = (
        "{% for a in controller.legal_name * 3000 %}{% for b in controller.legal_name * 3000 %}"
        "{% endfor %}{% endfor %}"
    )
    assert "did not finish within 3 s" in rejected(f.with_jinja(source))


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'A' * 999999999 }}",
        "{{ 999999999 * 'A' }}",
        "{{ [0] * 999999999 }}",
        "{{ 10 ** 999999999 }}",
        "{{ controller.legal_name * 99999999 }}",
    ],
)
def test_building_huge_values_is_refused_in_the_child_not_folded_here(source: str) -> None:
    """Jinja would fold `'A' * 999999999` into a constant while compiling — in this process,
    before anyone reviews it. The sandbox intercepts *, ** and +, and the whole check runs in a
    limited child: refused with a reason, and this process never held the value."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    message = rejected(f.with_jinja(source))
    assert "building huge values" in message or "at most" in message, message
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200  # 999999999 characters would be 1 GB or more


@pytest.mark.parametrize(
    "source, named",
    [
        ("{{ controller.legal_name|safe }}", "|safe"),
        ("{{ controller.legal_name|urlize }}", "|urlize"),
        ("{{ {'a': controller.legal_name}|xmlattr }}", "|xmlattr"),
        ("{{ controller|tojson }}", "|tojson"),
        ("{% autoescape false %}{{ controller.legal_name }}{% endautoescape %}", "autoescape"),
    ],
)
def test_raw_markup_is_refused_at_upload(source: str, named: str) -> None:
    message = rejected(f.with_jinja(source))
    assert named in message and "raw markup" in message, message


def test_raw_markup_filters_do_not_exist_in_the_sandbox() -> None:
    from dpa_service.rendering.document import sandbox

    for name in ("safe", "xmlattr", "urlize", "tojson"):
        assert name not in sandbox().filters


def test_a_template_that_fails_only_for_the_longest_values_is_refused() -> None:
    """The trial renders edge-case workspaces too: every field at its longest."""
    source = "{% if controller.legal_name|length > 250 %}{{ controller.legal_name + 1 }}{% endif %}"
    message = rejected(f.with_jinja(source))
    assert "the longest values" in message and "TypeError" in message, message


def test_a_template_that_fails_only_without_optional_values_is_refused() -> None:
    source = "{% if not controller.dpo %}{{ controller.dpo.name }}{% endif %}"
    message = rejected(f.with_jinja(source))
    assert "no optional values" in message, message


def test_a_template_slow_only_for_long_names_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "TRIAL_RENDER_BUDGET_S", 1.5)
    # nothing for the sample's name; about 80 million steps for a 300-character one
    source = (
        "{% if controller.legal_name|length > 250 %}{% for a in controller.legal_name %}"
        "{% for b in controller.legal_name %}{% for c in controller.legal_name %}"
        "{% for d in 'abc' %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endif %}"
    )
    message = rejected(f.with_jinja(source))
    assert "the longest values took" in message, message

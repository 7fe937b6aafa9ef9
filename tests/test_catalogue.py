"""The message catalogue: every message the code and the page templates use is in the committed
template (messages.pot) and translated into Latvian, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from dpa_service.i18n import LOCALE_DIR, negotiate, translations

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _ids(path: Path) -> dict[str, object]:
    with path.open("rb") as source:
        catalog = read_po(source)
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}


def test_the_committed_template_lists_exactly_the_messages_in_use() -> None:
    in_use = _extracted()
    template = set(_ids(LOCALE_DIR / "messages.pot"))
    assert sorted(in_use - template) == [], "run pybabel extract (see docs/decisions.md)"
    assert sorted(template - in_use) == []


def test_every_message_is_translated_into_latvian_with_its_placeholders() -> None:
    latvian = _ids(LOCALE_DIR / "lv" / "LC_MESSAGES" / "messages.po")
    assert sorted(_extracted() - set(latvian)) == []
    for msgid, message in latvian.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)  # type: ignore[attr-defined]
        assert all(strings), f"not translated: {msgid!r}"
        assert not message.fuzzy, f"fuzzy: {msgid!r}"  # type: ignore[attr-defined]
        for text in strings:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid


def test_english_is_the_message_ids_and_latvian_its_catalogue() -> None:
    assert translations("en").gettext("Sign the agreement") == "Sign the agreement"
    assert translations("lv").gettext("Sign the agreement") == "Parakstīt līgumu"
    assert translations("de").gettext("Sign the agreement") == "Sign the agreement"
    lv = translations("lv")
    assert lv.ngettext("%(count)s page", "%(count)s pages", 1) == "%(count)s lappuse"
    assert lv.ngettext("%(count)s page", "%(count)s pages", 3) == "%(count)s lappuses"
    assert lv.ngettext("%(count)s page", "%(count)s pages", 11) == "%(count)s lappušu"


def test_a_visitors_language_comes_from_the_query_then_accept_language() -> None:
    assert negotiate(None) == "en"
    assert negotiate("lv-LV,lv;q=0.9,en;q=0.8") == "lv"
    assert negotiate("de-DE,en;q=0.5,lv;q=0.7") == "lv"
    assert negotiate("de,fr") == "en"
    assert negotiate("lv;q=0") == "en"
    assert negotiate("lv", requested="en") == "en"
    assert negotiate("en", requested="lv") == "lv"
    assert negotiate("lv", requested="xx") == "lv"

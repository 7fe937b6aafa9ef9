"""The message catalogue: what people read outside the DPA itself, in English or Latvian.

Pages, e-mails and the certificate of completion write their words in English as gettext
message ids (`_("Sign the agreement")` in Python, `{% trans %}` in Jinja) and look them up in
the catalogue of the reader's language. The catalogues are Babel `.po` files under
`dpa_service/locale/`; they are compiled in memory the first time a language is used, so there
is no build step and no compiled file that could fall out of step with its source (see
docs/decisions.md). English is the source language: its catalogue is the message ids.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import io
from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("en", "lv")
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is defined; translate it where it is shown."""
    return message


def language_or_default(language: object) -> str:
    return language if isinstance(language, str) and language in LANGUAGES else DEFAULT


@functools.cache
def translations(language: str) -> _gettext.NullTranslations:
    """The catalogue of `language` (English, or an unknown language: the message ids)."""
    language = language_or_default(language)
    if language == DEFAULT:
        return _gettext.NullTranslations()
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: they are not translations yet
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def gettext_for(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def ngettext_for(language: str) -> Callable[[str, str, int], str]:
    return translations(language).ngettext


def template_words(language: str) -> dict[str, object]:
    """What a page template needs to speak `language`: `gettext`, `ngettext` and `_` for
    `{% trans %}` and `{{ _("…") }}`, and `lang` for `<html lang>`."""
    language = language_or_default(language)
    t = translations(language)
    return {"gettext": t.gettext, "ngettext": t.ngettext, "_": t.gettext, "lang": language}


def language_of(details: object) -> str:
    """The language a counterparty reads: its details' `language` (the prevailing one of a
    bilingual agreement); English when not known."""
    if isinstance(details, dict):
        return language_or_default(details.get("language"))
    return DEFAULT


def negotiate(accept_language: str | None, requested: str | None = None) -> str:
    """The page language for someone we know nothing about: `?lang=` if it names one of ours,
    else the first of ours in the Accept-Language header (by its q values), else English."""
    if requested in LANGUAGES:
        return str(requested)
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else DEFAULT

"""Countries: the one list of ISO 3166-1 alpha-2 codes and their short names in English and
Latvian (pycountry's ISO data and its Latvian translations), for documents, e-mails and the
country selects of the staff forms."""

from __future__ import annotations

import functools
import gettext
import unicodedata

import pycountry


@functools.cache
def _lv_countries() -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["lv"])


def country_name(code: str, language: str = "en") -> str:
    """The country's short name in `language` ("Latvia", "Latvija")."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        raise ValueError(f"unknown country code {code!r}")
    if language == "lv":
        return _lv_countries().gettext(country.name)
    return str(getattr(country, "common_name", None) or country.name)


def is_country_code(code: str) -> bool:
    """An upper-case ISO 3166-1 alpha-2 code of a country ("LV"; not "lv", "LA " or "EU")."""
    return (
        len(code) == 2
        and code.isalpha()
        and code.isupper()
        and pycountry.countries.get(alpha_2=code) is not None
    )


def _plain(name: str) -> str:
    """The name's letters without diacritics, for sorting ("Åland" with the A's, "Īrija" with
    the I's) whatever the process locale."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@functools.cache
def country_choices(language: str = "en") -> tuple[tuple[str, str], ...]:
    """Every country as (code, name in `language`), sorted by name: the options of a select."""
    return tuple(
        sorted(
            ((c.alpha_2, country_name(c.alpha_2, language)) for c in pycountry.countries),
            key=lambda pair: _plain(pair[1]),
        )
    )

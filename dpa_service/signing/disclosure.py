"""The electronic-signature disclosure the signer consents to, and the version recorded with it.

The English text is the message id of the catalogue; another language's text is its translation
there (dpa_service/locale), recorded under a version of its own ("…-lv"), so the evidence names
the exact words the signer read. The words of every earlier version stay here as they were
shown, so the SHA-256 of the text a signature was given under can always be derived from the
version recorded with it.
"""

from __future__ import annotations

import hashlib

from dpa_service.i18n import LANGUAGES, N_, gettext_for, language_or_default

DISCLOSURE_VERSION = "esign-disclosure-2026-12"

# eIDAS (Regulation (EU) No 910/2014) Art. 25: only a qualified electronic signature has the
# effect of a handwritten one; an electronic signature may not be denied legal effect or
# admissibility as evidence solely because it is electronic.
DISCLOSURE_TEXT = N_(
    "You are about to sign this Data Processing Agreement electronically. By ticking the box "
    "and choosing Sign, you confirm that you are authorised to sign for the company named as "
    "the controller, that you have been able to read and download the document shown on this "
    "page, and that you agree to conclude this agreement electronically and to be bound by "
    "it. Your typed name (and your drawn signature, if you add one) is a simple electronic "
    "signature under the EU eIDAS Regulation (No 910/2014). It is not a qualified electronic "
    "signature, the only kind the Regulation gives the same effect as a handwritten one; but "
    "an electronic signature may not be denied legal effect or admissibility as evidence "
    "solely because it is electronic (Article 25), and the record described here is the "
    "evidence that you signed. We record your name, e-mail address, IP address, browser, the "
    "times you opened, consented and signed, and the SHA-256 fingerprint of the exact "
    "document shown to you. You can download the signed copy after signing, and you may ask "
    "for a paper copy or withdraw from electronic dealing by writing to info@klusaro.com; "
    "withdrawing does not undo a signature already given."
)

# Earlier versions, word for word as shown. They overstated the law: a typed name does not have
# the effect of a handwritten signature.
EARLIER: dict[str, str] = {
    "esign-disclosure-2026-11": (
        "You are about to sign this Data Processing Agreement electronically. By ticking the box "
        "and choosing Sign, you confirm that you are authorised to sign for the company named as "
        "the controller, that you have been able to read and download the document shown on this "
        "page, and that you agree to do business electronically: your typed name (and your drawn "
        "signature, if you add one) will be your signature, with the same effect as a handwritten "
        "one. We record your name, e-mail address, IP address, browser, the times you opened, "
        "consented and signed, and the SHA-256 fingerprint of the exact document shown to you. "
        "You can download the signed copy after signing, and you may ask for a paper copy or "
        "withdraw from electronic dealing by writing to info@klusaro.com; withdrawing does not "
        "undo a signature already given."
    ),
    "esign-disclosure-2026-11-lv": (
        "Jūs gatavojaties parakstīt šo personas datu apstrādes līgumu elektroniski. Atzīmējot "
        "izvēles rūtiņu un izvēloties “Parakstīt līgumu”, jūs apstiprināt, ka esat pilnvarots "
        "parakstīt uzņēmuma vārdā, kas norādīts kā pārzinis, ka jums bija iespēja izlasīt un "
        "lejupielādēt šajā lapā parādīto dokumentu un ka piekrītat darījumus kārtot "
        "elektroniski: jūsu ierakstītais vārds un uzvārds (un uzzīmētais paraksts, ja to "
        "pievienojat) būs jūsu paraksts ar tādām pašām sekām kā pašrocīgam parakstam. Mēs "
        "reģistrējam jūsu vārdu un uzvārdu, e-pasta adresi, IP adresi, pārlūkprogrammu, laiku, "
        "kad atvērāt dokumentu, sniedzāt piekrišanu un parakstījāt, kā arī jums parādītā "
        "dokumenta SHA-256 nospiedumu. Pēc parakstīšanas varat lejupielādēt parakstīto kopiju, "
        "un varat pieprasīt papīra kopiju vai atteikties no elektroniskas saziņas, rakstot uz "
        "info@klusaro.com; atteikšanās neatceļ jau sniegtu parakstu."
    ),
}


def disclosure_version(language: str) -> str:
    """The recorded version of the disclosure in `language` (English keeps the plain id)."""
    language = language_or_default(language)
    return DISCLOSURE_VERSION if language == "en" else f"{DISCLOSURE_VERSION}-{language}"


def disclosure_text(language: str) -> str:
    return gettext_for(language)(DISCLOSURE_TEXT)


def disclosure_words(version: str | None) -> str | None:
    """The exact text shown under `version`; None for a version never shown."""
    if version in EARLIER:
        return EARLIER[version]
    for language in LANGUAGES:
        if version == disclosure_version(language):
            return disclosure_text(language)
    return None


def disclosure_sha256(version: str | None) -> str | None:
    """SHA-256 of the exact text shown under `version` (UTF-8); None for an unknown version."""
    words = disclosure_words(version)
    return None if words is None else hashlib.sha256(words.encode()).hexdigest()

"""The electronic-signature disclosure the signer consents to; its version is recorded.

The English text is the message id; the Latvian one is its translation in the catalogue
(dpa_service/locale), recorded under a version of its own so the evidence names the exact
words the signer read.
"""

from dpa_service.i18n import N_, gettext_for, language_or_default

DISCLOSURE_VERSION = "esign-disclosure-2026-11"

DISCLOSURE_TEXT = N_(
    "You are about to sign this Data Processing Agreement electronically. By ticking the box and "
    "choosing Sign, you confirm that you are authorised to sign for the company named as the "
    "controller, that you have been able to read and download the document shown on this page, "
    "and that you agree to do business electronically: your typed name (and your drawn signature, "
    "if you add one) will be your signature, with the same effect as a handwritten one. We record "
    "your name, e-mail address, IP address, browser, the times you opened, consented and signed, "
    "and the SHA-256 fingerprint of the exact document shown to you. You can download the signed "
    "copy after signing, and you may ask for a paper copy or withdraw from electronic dealing by "
    "writing to info@klusaro.com; withdrawing does not undo a signature already given."
)


def disclosure_version(language: str) -> str:
    """The recorded version of the disclosure in `language` (English keeps the plain id)."""
    language = language_or_default(language)
    return DISCLOSURE_VERSION if language == "en" else f"{DISCLOSURE_VERSION}-{language}"


def disclosure_text(language: str) -> str:
    return gettext_for(language)(DISCLOSURE_TEXT)

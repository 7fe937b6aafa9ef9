"""The electronic-signature disclosure the signer consents to. Every version ever shown stays
here word for word, so the SHA-256 of the text a signature was given under can always be
derived from the version recorded with it."""

from __future__ import annotations

import hashlib

DISCLOSURES: dict[str, str] = {
    # Overstated the law: a typed name does not have the effect of a handwritten signature.
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
    # eIDAS (Regulation (EU) No 910/2014) Art. 25: only a qualified electronic signature has the
    # effect of a handwritten one; any electronic signature may not be denied legal effect or
    # admissibility as evidence solely because it is electronic.
    "esign-disclosure-2026-12": (
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
    ),
}

DISCLOSURE_VERSION = "esign-disclosure-2026-12"
DISCLOSURE_TEXT = DISCLOSURES[DISCLOSURE_VERSION]


def disclosure_sha256(version: str | None) -> str | None:
    """SHA-256 of the exact text shown under `version` (UTF-8); None for an unknown version."""
    text = DISCLOSURES.get(version or "")
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()

#!/usr/bin/env python3
"""Build the built-in DPA template sets (``templates/*.docx`` and ``templates/lv/*.docx``).

This script is the human-readable source of the built-in templates: the English set in
``templates/`` and the Latvian set in ``templates/lv/``. Each document is described as a list of
``(style, text)`` blocks; the script turns them into DOCX files that use docxtpl (Jinja2) syntax.

Run it with the project interpreter::

    .venv/bin/python scripts/build_templates.py [--out templates]

Conventions used in the block lists below
-----------------------------------------
* ``style`` is a paragraph style of the python-docx default template
  (``Title``, ``Heading 1``, ``Heading 2``, ``Heading 3``, ``Normal``,
  ``List Bullet``), or one of the pseudo styles:

  - ``TAG``  a paragraph that holds nothing but a docxtpl paragraph tag
    (``{%p if ... %}``, ``{%p endfor %}``, ``{{p subdoc }}``, ``{#p annex #}`` ...);
  - ``ANNEX`` an annex heading (``Heading 1`` starting on a new page);
  - ``SIGN`` a signature-block line (kept together with the next line);
  - ``KEEP`` a ``Normal`` paragraph kept on the same page as the next one;
  - ``SUBPROCESSOR_TABLE`` the approved-subprocessor table (text unused);
  - ``SIGNATURE_CONTROLLER`` / ``SIGNATURE_PROCESSOR`` the heading of a party's signature block.

* Markers: every numbered ``Heading 1`` ("9. Confidentiality") carries the bookmark
  ``dpa_clause_9``, every annex heading ``dpa_annex_I`` (II, III), and the two signature-block
  headings ``dpa_signature_controller`` and ``dpa_signature_processor``. Bookmarks print
  nothing; the service checks that every rendered DPA still holds each marker of its templates
  exactly once (dpa_service/rendering/check.py) and refuses an uploaded template without them.

* ``**text**`` marks a bold run. Every piece of text between the markers
  becomes exactly one run, so a Jinja tag must never be cut by a ``**``.

* Annexes: a clause template may end in its annex after a ``{#p annex #}`` paragraph; when the
  DPA is put together, that annex moves to the master's ``{#p annexes #}`` paragraph, after
  Annex I, so the annexes come at the end in the order I, II, III (as in Implementing Decision
  (EU) 2021/915, with the description of the processing in Annex I).

Rendering contract: the templates are rendered in a Jinja2
``SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)`` with
the top-level names ``agreement``, ``processor``, ``controller``,
``processing``, ``subprocessors``, ``terms`` and ``signatures`` (built by
``dpa_service/rendering/context.py``, one context per language); the master
additionally receives the already rendered clause sub-documents
``confidentiality_clause``, ``security_clause`` and ``subprocessors_clause``.
No other name may be used. Figures with units (``terms.breach_notice``,
``processor.security.backup_retention`` …) come in the cases a sentence needs: ``.text``
(nominative), ``.gen``, ``.acc``, ``.dat``, ``.loc`` (all the same in English).

The processor's facts (identity, address, signatory, security figures and measures) are not
written here: they come from ``templates/processor_profile.json``.

All legal text below was written for this project.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

Block = tuple[str, str]

FONT_NAME = "Liberation Serif"
FALLBACK_FONT = "DejaVu Serif"
BODY_SIZE = Pt(10.5)
# Fixed metadata date and zip timestamps so that rebuilding unchanged text
# yields byte-identical files (templates are versioned and hashed).
TEMPLATE_DATE = dt.datetime(2026, 5, 20, 0, 0, 0, tzinfo=dt.UTC)
ZIP_DATE = (2026, 5, 20, 0, 0, 0)


# ===========================================================================
# ENGLISH (templates/*.docx)
# ===========================================================================

EN_FOOTER = (
    "Data Processing Agreement{% if agreement.bilingual %} / Personas datu apstrādes "
    "līgums{% endif %} · {{ agreement.id }} · version {{ agreement.version }}"
)

# ---------------------------------------------------------------------------
# Confidentiality clause (templates/confidentiality.docx)
# ---------------------------------------------------------------------------

EN_CONFIDENTIALITY: list[Block] = [
    ("Heading 1", "9. Confidentiality"),
    ("Normal",
     "9.1 The processor keeps customer personal data confidential and uses it only to provide "
     "the Service under the main agreement and this DPA, in line with the controller's "
     "documented instructions. It does not use customer personal data for its own purposes, "
     "such as developing other products, advertising or profiling, and does not sell or rent "
     "it. Clause 4.2 explains which processing is not use for the processor's own purposes."),
    ("Normal",
     "9.2 **Need to know.** Inside the processor's organisation, access to customer personal data "
     "is given only to those employees and contractors who need it for a specific task: running "
     "and securing the Service, handling a support request the controller has made, or meeting a "
     "legal obligation. Access is limited to what that task requires and is withdrawn when it is "
     "no longer needed."),
    ("Normal",
     "9.3 **Binding commitment.** Every person authorised to process customer personal data has "
     "committed in writing to keep it confidential, or is subject to an appropriate statutory "
     "duty of confidentiality. This commitment continues to apply after the person's employment "
     "or engagement with the processor has ended."),
    ("Normal",
     "9.4 **Instruction and training.** Authorised personnel are informed of the confidential "
     "nature of customer personal data, are instructed to process it only as this DPA permits, "
     "and receive data protection and security training when they start and at regular "
     "intervals afterwards. Breaches of these rules can lead to disciplinary measures."),
    ("Normal",
     "9.5 **Third parties.** The processor imposes confidentiality obligations at least as strict "
     "as those in this clause on every subprocessor and on any other third party that may come "
     "into contact with customer personal data."),
    ("Normal",
     "9.6 **Disclosure required by law.** The processor discloses customer personal data to a "
     "court, public authority or other third party only where Union or Member State law that "
     "applies to the processor requires it. In that case the processor:"),
    ("List Bullet",
     "tells the controller about the request before disclosing anything, unless the law forbids "
     "this; where it is forbidden, the processor uses reasonable efforts to have the prohibition "
     "lifted;"),
    ("List Bullet",
     "first tries to redirect the requesting party to the controller;"),
    ("List Bullet",
     "examines whether the request is lawful and challenges it where there are reasonable grounds "
     "to consider it unlawful or excessive; and"),
    ("List Bullet",
     "discloses only the minimum amount of data needed to comply with the request."),
    ("Normal",
     "9.7 **Security information.** The controller treats as confidential the non-public "
     "information it receives about the processor's security measures, audits and subprocessor "
     "contracts. It may share that information with supervisory authorities, with its auditors "
     "and advisers who are bound by confidentiality, and where the law requires; clause 6(h) on "
     "information for the supervisory authority is not affected."),
    ("Normal",
     "9.8 **Duration.** The obligations in this clause continue after this DPA ends, for as long "
     "as the processor or its personnel hold any customer personal data or confidential "
     "information of the controller."),
]


# ---------------------------------------------------------------------------
# Security clause and Annex II (templates/security.docx)
# ---------------------------------------------------------------------------

def _measures(key: str) -> list[Block]:
    """The processor profile's measures under one Annex II heading."""
    return [
        ("TAG", "{%p for m in processor.measures." + key + " %}"),
        ("List Bullet", "**{{ m.title }}:** {{ m.text }}"),
        ("TAG", "{%p endfor %}"),
    ]


EN_SECURITY: list[Block] = [
    ("Heading 1", "10. Security of processing"),
    ("Normal",
     "10.1 As required by Article 32 GDPR, the processor implements and maintains technical and "
     "organisational measures that ensure a level of security appropriate to the risk for the "
     "rights and freedoms of the data subjects. In choosing those measures the processor takes "
     "into account the state of the art, the costs of implementation, and the nature, scope, "
     "context and purposes of the processing."),
    ("Normal",
     "10.2 The measures in place on the date of this version of the DPA are described in "
     "Annex II, which forms part of this DPA. The processor may adapt them as technology and "
     "risks develop, provided that the level of security is never reduced. It records "
     "significant changes and makes the current description available to the controller on "
     "request."),
    ("Normal",
     "10.3 The controller is responsible for the security of its own side of the Service: "
     "choosing which users have access to its workspace and with which permissions, keeping "
     "credentials secret, using the authentication options offered, and removing access for "
     "people who leave its organisation."),
    ("Normal",
     "10.4 The measures in Annex II are the minimum the processor applies. They do not limit its "
     "duty under Article 32 GDPR to ensure a level of security appropriate to the risk: where "
     "that duty requires more, the processor does more. No online service can exclude every "
     "incident; a personal data breach is dealt with as set out in clause 7."),

    ("TAG", "{#p annex #}"),
    ("ANNEX",
     "Annex II — Technical and organisational measures, including measures to ensure the "
     "security of the data"),
    ("Normal",
     "This annex describes the measures the processor applies to customer personal data "
     "(processor profile version {{ processor.profile_version }}). They include every measure "
     "listed on the {{ processor.trade_name }} GDPR page: password hashing, access controls and "
     "permissions, workspace isolation, authentication protections, secure infrastructure "
     "providers, monitoring and abuse prevention, and backups and recovery. The measures are "
     "grouped under the headings used in Annex II of the Standard Contractual Clauses."),

    ("Heading 3", "II.1 Encryption"),
    ("List Bullet",
     "**Protocol:** connections to the Service use TLS version "
     "{{ processor.security.tls_min_version }} or higher; stored data is encrypted with "
     "{{ processor.security.encryption_at_rest }}."),
    *_measures("encryption"),

    ("Heading 3", "II.2 Pseudonymisation"),
    *_measures("pseudonymisation"),

    ("Heading 3", "II.3 Ensuring ongoing confidentiality, integrity, availability and resilience"),
    *_measures("resilience"),

    ("Heading 3", "II.4 Ability to restore availability and access (backups and recovery)"),
    ("List Bullet",
     "**Backup schedule:** the databases and stored files are backed up at least every "
     "{{ processor.security.backup_interval.text }}. A backup is kept for no more than "
     "{{ processor.security.backup_retention.text }} and is then deleted automatically; this is "
     "the period referred to in clause 6(g)."),
    ("List Bullet",
     "**Recovery targets:** after a failure, the Service is restored losing no more than the "
     "data entered in the last {{ processor.security.rpo.text }} (recovery point objective) and "
     "within {{ processor.security.rto.text }} (recovery time objective)."),
    *_measures("restore"),

    ("Heading 3", "II.5 Regular testing, assessment and evaluation"),
    ("List Bullet",
     "**Security updates:** critical vulnerabilities are remedied within "
     "{{ processor.security.patch_critical.text }} and high-severity vulnerabilities within "
     "{{ processor.security.patch_high.text }} after a fix is available."),
    ("List Bullet",
     "**Tests and reviews:** restoring from backups is tested at least every "
     "{{ processor.security.restore_tests.text }}; the application is penetration-tested at "
     "least every {{ processor.security.penetration_tests.text }}; the measures in this annex "
     "are reviewed at least every {{ processor.security.measures_review.text }} and after any "
     "significant incident."),
    *_measures("testing"),

    ("Heading 3", "II.6 User identification and authorisation"),
    ("List Bullet",
     "**Access reviews:** administrative access rights are reviewed at least every "
     "{{ processor.security.access_review.text }}."),
    *_measures("identification"),

    ("Heading 3", "II.7 Protection of data during transmission"),
    *_measures("transmission"),

    ("Heading 3", "II.8 Protection of data during storage"),
    *_measures("storage"),

    ("Heading 3", "II.9 Physical security of locations where data is processed"),
    *_measures("physical"),

    ("Heading 3", "II.10 Logging and monitoring"),
    ("List Bullet",
     "**Log retention:** security logs are kept for "
     "{{ processor.security.log_retention.text }} and then deleted."),
    *_measures("logging"),

    ("Heading 3", "II.11 System configuration, including default configuration"),
    *_measures("configuration"),

    ("Heading 3", "II.12 Internal IT and IT security governance and accountability"),
    *_measures("governance"),

    ("Heading 3", "II.13 Certification and assurance"),
    *_measures("certification"),

    ("Heading 3", "II.14 Incident management"),
    ("List Bullet",
     "**Notification:** personal data breaches are reported to the controller as set out in "
     "clause 7."),
    *_measures("incidents"),

    ("Heading 3", "II.15 Data minimisation, data quality and limited retention"),
    *_measures("minimisation"),

    ("Heading 3", "II.16 Data portability and erasure"),
    ("List Bullet",
     "**End of the service:** data is returned or deleted as set out in clause 6(g)."),
    *_measures("portability"),

    ("Heading 3", "II.17 Staff"),
    ("List Bullet",
     "**Confidentiality:** personnel with access to customer personal data are bound by "
     "confidentiality as set out in clause 9."),
    *_measures("staff"),

    ("Heading 3", "II.18 Subprocessors"),
    ("List Bullet",
     "**Contracts:** subprocessors are bound by written agreements that require measures at "
     "least as protective as those in this annex (clause 11)."),
    *_measures("subprocessors"),
]


# ---------------------------------------------------------------------------
# Subprocessors clause and Annex III (templates/subprocessors.docx)
# ---------------------------------------------------------------------------

EN_SUBPROCESSORS: list[Block] = [
    ("Heading 1", "11. Subprocessors"),
    ("Normal",
     "11.1 **General written authorisation.** The controller gives the processor its general "
     "written authorisation, within the meaning of Article 28(2) GDPR, to engage other "
     "processors (subprocessors) to carry out processing on its behalf. By signing this DPA the "
     "controller approves the subprocessors listed in Annex III: those that serve every "
     "workspace and those that serve the features the controller uses. If the controller starts "
     "to use a further feature, the subprocessors on the processor's approved list that serve "
     "that feature are authorised only if the processor has informed the controller of them "
     "before they begin to process its data."),
    ("Normal",
     "11.2 **Notice before engagement.** The processor informs the controller in writing of any "
     "intended addition or replacement of a subprocessor at least "
     "{{ terms.subprocessor_notice.text }} before the new subprocessor begins to process "
     "customer personal data. The notice names the subprocessor, its contracting entity, the "
     "purpose, the location of processing and the transfer mechanism. It is sent by e-mail to "
     "the controller's contacts given in Annex I and published in the processor's list of "
     "subprocessors."),
    ("Normal",
     "11.3 **Right to object.** Within that notice period the controller may object to the "
     "change in writing, on reasonable grounds relating to data protection. While an objection "
     "is pending, the processor does not use the new subprocessor for the controller's customer "
     "personal data. The parties discuss the objection in good faith, and the processor may "
     "offer an alternative, such as a different configuration of the controller's workspace or "
     "not using the new subprocessor for the controller's data. If the objection is not "
     "resolved, the controller may terminate the main agreement and this DPA by written notice, "
     "with effect before the new subprocessor would process its data, without any termination "
     "penalty; prepaid fees for the period after termination are refunded. If no objection is "
     "received within the notice period, the change is accepted."),
    ("Normal",
     "11.4 **Emergency replacement.** Only where an existing subprocessor can no longer provide "
     "its service securely or lawfully, and waiting would put the security or availability of "
     "customer personal data at risk, may the processor engage a replacement with shorter notice "
     "than clause 11.2 requires. Even then it informs the controller immediately, and before the "
     "replacement begins to process customer personal data, of the replacement, the reasons for "
     "the urgency and the information listed in clause 11.2. The controller has the same right "
     "to object as under clause 11.3, within {{ terms.subprocessor_notice.text }} after the "
     "notice; if it objects, the processor stops using the replacement for the controller's "
     "data or, where that is not possible, the controller may terminate under clause 11.3 with "
     "immediate effect."),
    ("Normal",
     "11.5 **Same obligations.** The processor engages each subprocessor under a written contract "
     "that imposes on it the same data protection obligations as those set out in this DPA, in "
     "particular sufficient guarantees to implement appropriate technical and organisational "
     "measures, confidentiality, assistance, and deletion or return of the data. On request, the "
     "processor gives the controller a copy of the data protection terms of that contract and of "
     "later amendments; to the extent necessary to protect business secrets or other "
     "confidential information, including personal data, it may redact the text of the copy."),
    ("Normal",
     "11.6 **Failures of subprocessors.** The processor notifies the controller of any failure "
     "by a subprocessor to fulfil its data protection obligations under its contract that "
     "affects customer personal data."),
    ("Normal",
     "11.7 **Rights of the controller as a third party.** The processor agrees in each "
     "subprocessor contract a term in favour of the controller under which, if the processor "
     "has factually disappeared, ceased to exist in law or become insolvent, the controller may "
     "terminate the subprocessor contract and instruct the subprocessor to erase or return the "
     "customer personal data."),
    ("Normal",
     "11.8 **Liability.** The processor remains fully liable to the controller for the "
     "performance of each subprocessor's obligations, as if they were its own (Article 28(4) "
     "GDPR). For damage caused by a subprocessor, the same limitations of liability apply "
     "between the parties as apply under clause 13.2 to the processor's own acts, no more and "
     "no fewer; they do not limit the processor's liability towards data subjects."),
    ("Normal",
     "11.9 **Transfers.** For each subprocessor, Annex III states the contracting entity, the "
     "location of processing, the transfer mechanisms in the order of clause 8.2, and the "
     "supplementary measures that actually apply."),
    ("Normal",
     "11.10 **Assessment and supplementary measures.** Where a transfer relies on the Standard "
     "Contractual Clauses, the processor first assesses the law and practice of the destination "
     "country and applies the supplementary measures needed for a level of protection "
     "essentially equivalent to that in the EU. Encryption in transit protects data on its way "
     "to a recipient but is not counted as a supplementary measure against access in the "
     "destination country where the recipient itself decrypts the data, for example a content "
     "delivery network that terminates encrypted connections. Such a transfer relies on an "
     "adequacy decision; if the Standard Contractual Clauses had to be relied on instead and "
     "the assessment could not show that the law and practice of the destination country allow "
     "them to be complied with, the transfer would stop."),

    ("TAG", "{#p annex #}"),
    ("ANNEX", "Annex III — Subprocessors"),
    ("Normal",
     "Subprocessor list version {{ subprocessors.version }}, approved on "
     "{{ subprocessors.approved_on }}. The controller authorises the following subprocessors "
     "(clause 11.1). Each processes customer personal data only for the purpose shown. The list "
     "contains the subprocessors that serve every workspace and those that serve the features "
     "the controller uses."),
    ("SUBPROCESSOR_TABLE", ""),
    ("Heading 2", "Details of each subprocessor"),
    ("TAG", "{%p for e in subprocessors.entries %}"),
    ("Heading 3", "{{ e.name }}"),
    ("List Bullet", "**Contracting entity:** {{ e.contracting_entity }}"),
    ("List Bullet", "**Location of processing:** {{ e.location }}"),
    ("List Bullet",
     "**Features served:** {% if e.general %}every workspace{% else %}{{ e.serves }}{% endif %}"),
    ("TAG", "{%p for t in e.transfers %}"),
    ("List Bullet",
     "**Transfer:** {% if t.onward %}onward transfer by the subprocessor to {{ t.importer }} "
     "({{ t.country_name }}), for which the subprocessor is responsible (clause 8.4){% else %}"
     "transfer by the processor to {{ t.importer }} ({{ t.country_name }}){% endif %}. "
     "Mechanisms in the order of clause 8.2: {% for m in t.mechanisms %}({{ loop.index }}) "
     "{{ m.label }}{% if not loop.last %}; {% endif %}{% endfor %}."),
    ("TAG", "{%p else %}"),
    ("List Bullet",
     "**Transfer:** {% if e.in_eea %}none; customer personal data is processed only in the "
     "EEA{% else %}{{ e.transfer_safeguard }}{% endif %}."),
    ("TAG", "{%p endfor %}"),
    ("List Bullet",
     "**Supplementary measures:** {% if e.transfers %}{% for s in e.supplementary_measures %}"
     "{{ s }}{% if not loop.last %}; {% endif %}{% else %}none beyond the measures in "
     "Annex II{% endfor %}{% else %}not applicable, as there is no transfer to a third "
     "country{% endif %}."),
    ("TAG", "{%p endfor %}"),
]

EN_SUBPROCESSOR_TABLE_HEADER = ["Name", "Purpose", "Location", "Transfer safeguard"]


# ---------------------------------------------------------------------------
# Master agreement (templates/master.docx)
# ---------------------------------------------------------------------------

EN_SIGNATURES: list[Block] = [
    ("Heading 1", "17. Signatures"),
    ("TAG", "{%p if agreement.signature_blocks %}"),
    ("KEEP",
     "By signing below, each party confirms that it agrees to this DPA and that the person "
     "signing is authorised to sign on its behalf."),

    ("SIGNATURE_CONTROLLER", "For the controller"),
    ("SIGN", "{{ controller.legal_name }}"),
    ("TAG", "{%p if signatures.controller %}"),
    ("SIGN", "Name: {{ signatures.controller.name }}"),
    ("SIGN", "Title: {{ signatures.controller.title }}"),
    ("SIGN", "Date: {{ signatures.controller.signed_at }}"),
    ("SIGN", "Signature: signed electronically by {{ signatures.controller.name }}"),
    ("TAG", "{%p if signatures.controller.drawing %}"),
    ("SIGN", "{{ signatures.controller.drawing }}"),
    ("TAG", "{%p endif %}"),
    ("TAG", "{%p else %}"),
    ("SIGN", "Name: ________________________________________"),
    ("SIGN", "Title: ________________________________________"),
    ("SIGN", "Date: ________________________________________"),
    ("SIGN", "Signature: ________________________________________"),
    ("TAG", "{%p endif %}"),

    ("SIGNATURE_PROCESSOR", "For the processor"),
    ("SIGN", "{{ processor.legal_name }} ({{ processor.trade_name }})"),
    ("TAG", "{%p if signatures.processor %}"),
    ("SIGN", "Name: {{ signatures.processor.name }}"),
    ("SIGN", "Title: {{ signatures.processor.title }}"),
    ("SIGN", "Date: {{ signatures.processor.signed_at }}"),
    ("SIGN", "Signature: signed electronically by {{ signatures.processor.name }}"),
    ("TAG", "{%p if signatures.processor.drawing %}"),
    ("SIGN", "{{ signatures.processor.drawing }}"),
    ("TAG", "{%p endif %}"),
    ("TAG", "{%p else %}"),
    ("SIGN", "Name: ________________________________________"),
    ("SIGN", "Title: ________________________________________"),
    ("SIGN", "Date: ________________________________________"),
    ("SIGN", "Signature: ________________________________________"),
    ("TAG", "{%p endif %}"),
    ("TAG", "{%p else %}"),
    ("Normal",
     "The parties sign this agreement once, in clause 17 of the "
     "{% if agreement.prevailing_language == \"lv\" %}Latvian{% else %}English{% endif %} text; "
     "their signatures cover both language versions."),
    ("TAG", "{%p endif %}"),
]

EN_MASTER: list[Block] = [
    ("Title", "Data Processing Agreement"),
    ("Normal", "**Agreement:** {{ agreement.id }}, version {{ agreement.version }}"),
    ("Normal", "**Issued on:** {{ agreement.date }}"),
    ("Normal",
     "**Effective date:** {% if agreement.effective_date %}{{ agreement.effective_date }}, the "
     "date on which the main agreement took effect{% else %}the date on which the main agreement "
     "took effect{% endif %} (clause 14.1)"),
    ("TAG", "{%p if agreement.bilingual %}"),
    ("Normal",
     "**Languages:** this agreement is made in English and Latvian; the "
     "{% if agreement.prevailing_language == \"lv\" %}Latvian{% else %}English{% endif %} text "
     "prevails (clause 15.5)."),
    ("TAG", "{%p endif %}"),
    ("TAG", "{%p if processor.unconfirmed %}"),
    ("Normal",
     "**Draft, not for signature.** Values shown as “[to be confirmed: …]” have not yet been "
     "confirmed by the processor's legal team. This document cannot be sent for signature until "
     "they are."),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "This Data Processing Agreement (the “DPA”) is made between {{ controller.legal_name }} "
     "(the “controller”) and {{ processor.legal_name }}, which operates the "
     "{{ processor.trade_name }} platform (the “processor”). It governs the processing of "
     "personal data that the processor carries out on behalf of the controller when the "
     "controller uses {{ processor.trade_name }}, as required by Article 28(3) of Regulation (EU) "
     "2016/679, the General Data Protection Regulation (“GDPR”)."),

    # 1. Parties --------------------------------------------------------------
    ("Heading 1", "1. Parties and annexes"),
    ("Normal",
     "1.1 The controller and the processor, their addresses, signatories and contacts for data "
     "protection matters are set out in Annex I, Part A."),
    ("Normal",
     "1.2 The annexes form part of this DPA: Annex I (parties and description of the "
     "processing), Annex II (technical and organisational measures) and Annex III "
     "(subprocessors)."),

    # 2. Definitions ----------------------------------------------------------
    ("Heading 1", "2. Definitions"),
    ("Normal",
     "Terms such as “personal data”, “processing”, “controller”, “processor”, “data subject”, "
     "“personal data breach” and “supervisory authority” have the meaning given to them in "
     "Article 4 GDPR. In addition:"),
    ("List Bullet",
     "**“Main agreement”** means the terms of service or other contract under which the "
     "controller uses the Service."),
    ("List Bullet",
     "**“Service”** means the {{ processor.trade_name }} platform and the related support "
     "provided by the processor under the main agreement."),
    ("List Bullet",
     "**“Workspace”** means the controller's account area in the Service in which its data is "
     "stored."),
    ("List Bullet",
     "**“Customer personal data”** means the personal data that the processor processes on "
     "behalf of the controller when providing the Service, as described in Annex I, Part B."),
    ("List Bullet",
     "**“Subprocessor”** means another processor engaged by the processor to carry out "
     "processing of customer personal data."),
    ("List Bullet",
     "**“EEA”** means the European Economic Area, and a **“third country”** is a country "
     "outside it."),
    ("List Bullet",
     "**“Standard Contractual Clauses”** or **“SCCs”** means the standard contractual clauses "
     "for the transfer of personal data to third countries adopted by Commission Implementing "
     "Decision (EU) 2021/914 of 4 June 2021."),
    ("List Bullet",
     "**“Data protection law”** means the GDPR; the Personal Data Processing Law of the Republic "
     "of Latvia (Fizisko personu datu apstrādes likums), which applies to the processor as a "
     "company established in Latvia; "
     "{% if controller.address.country != \"LV\" %}the national law supplementing the GDPR in "
     "the controller's country; {% endif %}"
     "and any other Union or Member State data protection law that applies to the processing."),
    ("List Bullet",
     "**“Competent supervisory authority”** means the supervisory authority competent for the "
     "controller's processing under Articles 55 and 56 GDPR"
     "{% if controller.supervisory_authority %}; based on the controller's address, this is "
     "{{ controller.supervisory_authority.name }}{% endif %}."),

    # 3. Subject matter and duration -----------------------------------------
    ("Heading 1", "3. Subject matter, duration and scope"),
    ("Normal",
     "3.1 **Subject matter.** The processor processes customer personal data to provide the "
     "Service to the controller under the main agreement: it hosts the controller's workspace "
     "and carries out the processing operations that the controller and its users start in the "
     "Service."),
    ("Normal",
     "3.2 **Duration.** The processing lasts for the term of the main agreement. After that, the "
     "processor processes customer personal data only to return or delete it under clause 6(g), "
     "and this DPA applies until that has been completed."),
    ("Normal",
     "3.3 **Scope.** This DPA covers only processing that the processor carries out on behalf of "
     "the controller. It does not cover personal data for which the processor is itself the "
     "controller, such as the data of the controller's user accounts and billing, the use of the "
     "processor's website, support requests, marketing communications and the administration "
     "of the platform; the {{ processor.trade_name }} privacy documentation describes that "
     "processing."),

    # 4. Description ----------------------------------------------------------
    ("Heading 1", "4. Nature and purpose of the processing"),
    ("Normal",
     "4.1 The nature and purposes of the processing, the types of personal data and the "
     "categories of data subjects are described in Annex I, Part B. The description follows from "
     "the features of the Service that the controller has chosen to use: each feature determines "
     "the data, the purposes and the usual data subjects listed there."),
    ("Normal",
     "4.2 The processor processes customer personal data only for the purposes in Annex I, Part "
     "B. It does not use customer personal data for its own purposes, for advertising or "
     "profiling, and does not sell it. Processing that Union or Member State law requires of the "
     "processor is governed by clause 6(a). The processor's statistics on the use of the Service "
     "are made from usage data of the Service, for which it is the controller under clause 3.3, "
     "and not from customer personal data."),
    ("Normal",
     "4.3 If the controller starts to use features that are not reflected in Annex I, Part B, "
     "the processor offers the controller an updated version of this DPA. Until it is signed, "
     "this DPA applies to that processing as well."),

    # 5. Special categories ---------------------------------------------------
    ("Heading 1", "5. Special categories of data"),
    ("Normal",
     "5.1 The Service is not designed for special categories of personal data (Article 9 GDPR) "
     "or personal data relating to criminal convictions and offences (Article 10 GDPR). Such "
     "data can nevertheless appear in notes, free-text fields, photos and attached files, for "
     "example information about a person's health written in a note."),
    ("Normal",
     "5.2 The controller decides whether such data is entered into the Service. It enters it "
     "only where it has a legal basis under Article 9 or 10 GDPR, keeps it to what is "
     "necessary, and uses the access restrictions of the Service so that only the users who need "
     "it can see it."),
    ("Normal",
     "5.3 The processor applies the measures in Annex II to such data as well."),

    # 6. Processor obligations (Art. 28(3)) ----------------------------------
    ("Heading 1", "6. Obligations of the processor"),
    ("Normal",
     "The processor undertakes the following obligations, which correspond to Article 28(3), "
     "points (a) to (h), GDPR."),
    ("Normal",
     "**(a) Documented instructions.** The processor processes customer personal data only on "
     "documented instructions from the controller. The controller's instructions are this DPA, "
     "the main agreement, and the settings and actions the controller and its users choose in "
     "the Service; further instructions may be given in writing (including by e-mail). This "
     "applies also to transfers of personal data to a third country or an international "
     "organisation (see clause 8). If Union or Member State law to which the processor is "
     "subject requires it to process the data otherwise, the processor informs the controller "
     "of that legal requirement before processing, unless that law prohibits such information "
     "on important grounds of public interest. The processor informs the controller immediately "
     "if, in its opinion, an instruction infringes data protection law."),
    ("Normal",
     "**(b) Confidentiality of personnel.** The processor ensures that persons authorised to "
     "process customer personal data have committed themselves to confidentiality or are under "
     "an appropriate statutory obligation of confidentiality, as set out in clause 9 "
     "(Confidentiality)."),
    ("Normal",
     "**(c) Security of processing (Article 32).** The processor takes all measures required "
     "under Article 32 GDPR, as set out in clause 10 (Security of processing) and in Annex II."),
    ("Normal",
     "**(d) Subprocessors.** The processor engages another processor only with the controller's "
     "prior general written authorisation, informs the controller of intended changes before the "
     "new subprocessor begins to process data, so that the controller can object, imposes the "
     "same data protection obligations on each subprocessor by contract, and remains fully "
     "liable for them, as set out in clause 11 (Subprocessors)."),
    ("Normal",
     "**(e) Assistance with data subject rights.** Taking into account the nature of the "
     "processing, the processor assists the controller by appropriate technical and "
     "organisational measures, insofar as this is possible, in fulfilling the controller's "
     "obligation to respond to requests from data subjects exercising their rights under "
     "Chapter III GDPR, including the rights to information (Articles 13 and 14), access, "
     "rectification, erasure, restriction of processing, data portability and objection, and "
     "the right not to be subject to a decision based solely on automated processing (Article "
     "22). Where the functions of the Service let the controller find, correct, export or delete "
     "records itself, the controller uses them; where that is not enough, the processor provides "
     "further help on request. If a data subject contacts the processor directly about customer personal data, "
     "the processor forwards the request to the controller without undue delay and does not "
     "answer it itself unless the controller authorises it to do so."),
    ("Normal",
     "**(f) Assistance with Articles 32 to 36.** Taking into account the nature of the "
     "processing and the information available to it, the processor assists the controller in "
     "ensuring compliance with its obligations concerning the security of processing (Article "
     "32), the notification of personal data breaches to the supervisory authority and their "
     "communication to data subjects (Articles 33 and 34), data protection impact assessments "
     "(Article 35) and prior consultation of the supervisory authority (Article 36). For a data "
     "protection impact assessment, the processor provides on request a description of the "
     "processing operations it carries out, the measures in Annex II, the subprocessors and "
     "transfers, and the results of its own risk assessments that concern the Service."),
    ("Normal",
     "**Cost of assistance.** Assistance under points (e) and (f) that the standard features of "
     "the Service provide, assistance with a personal data breach, and assistance needed because "
     "the processor has breached this DPA are free of charge. For other assistance that requires "
     "significant effort, the processor may charge a reasonable fee that it has stated to the "
     "controller in advance; the assistance is not withheld while the fee is being agreed."),
    ("Normal",
     "**(g) Deletion or return at the end.** The controller may export its data from the "
     "Service at any time before the main agreement ends. At the choice of the controller, the "
     "processor deletes all customer personal data or returns it to the controller and deletes "
     "the remaining copies, unless Union or Member State law requires the processor to store "
     "the data, in which case it informs the controller of that requirement. The controller "
     "chooses return by asking for it in writing no later than the day the main agreement ends; "
     "the processor then returns the data in a commonly used, machine-readable format (records "
     "as CSV, documents in their original format). Without such a request, the data is deleted. "
     "The processor completes the return and the deletion from its live systems within "
     "{{ terms.return_deletion.text }} after the main agreement ends. Copies in backups are "
     "deleted when those backups expire, no later than "
     "{{ processor.security.backup_retention.text }} after they were made (Annex II, section "
     "II.4); until then they stay encrypted, are used only to restore systems, and remain "
     "subject to this DPA. When the deletion, including backups, is complete, the processor "
     "confirms it to the controller in writing."),
    ("Normal",
     "**(h) Audits and information.** The processor makes available to the controller all "
     "information necessary to demonstrate compliance with Article 28 GDPR and this DPA, and "
     "allows for and contributes to audits, including inspections, conducted by the controller "
     "or by an independent auditor mandated by the controller, at reasonable intervals or where "
     "there are indications of non-compliance. In deciding on an audit, the controller may take "
     "relevant certifications and audit reports into account. The controller gives at least "
     "{{ terms.audit_notice.text }}' written notice of an audit, unless a shorter period is "
     "needed because of a personal data breach, indications of non-compliance or a request of a "
     "supervisory authority. The processor first provides documentation: answers to "
     "questionnaires, descriptions of its own measures, and the certifications and audit "
     "reports of its subprocessors and hosting providers. Where the controller considers that "
     "documentation insufficient, or where there are indications of non-compliance, an "
     "inspection takes place; without such indications, inspections take place no more than "
     "once a year. Inspections take place during business hours, without undue disruption of "
     "the Service and without access to other customers' data, and auditors are bound by "
     "confidentiality. Each party bears its own costs, unless the audit reveals a material breach "
     "of this DPA by the processor, in which case the processor bears the reasonable costs of "
     "the audit. The parties make the information referred to in this point, including the "
     "results of any audits, available to the competent supervisory authority on request, and "
     "the processor cooperates with supervisory authorities as required by Article 31 GDPR. The "
     "processor informs the controller immediately if, in its opinion, an instruction infringes "
     "data protection law (point (a))."),

    # 7. Breach notification --------------------------------------------------
    ("Heading 1", "7. Personal data breach notification"),
    ("Normal",
     "7.1 The processor notifies the controller of any personal data breach affecting customer "
     "personal data without undue delay, and in any case within "
     "{{ terms.breach_notice.text }}, after becoming aware of it. The notice is sent by e-mail "
     "to the controller's contacts given in Annex I."),
    ("Normal", "7.2 The notice contains, as far as the information is available:"),
    ("List Bullet",
     "a description of the nature of the breach, including, where possible, the categories and "
     "approximate number of data subjects and of personal data records concerned;"),
    ("List Bullet",
     "the name and contact details of the processor's contact point from which more "
     "information can be obtained;"),
    ("List Bullet", "the likely consequences of the breach;"),
    ("List Bullet",
     "the measures taken or proposed by the processor to address the breach, including measures "
     "to mitigate its possible adverse effects."),
    ("Normal",
     "7.3 Where not all information is available at once, the processor provides it in phases "
     "without further undue delay. The processor keeps the controller informed, takes reasonable "
     "steps to contain the breach and to prevent it from happening again, and helps the "
     "controller to notify the competent supervisory authority and, where required, the data "
     "subjects. {% if controller.supervisory_authority %}For the controller, the competent "
     "supervisory authority is {{ controller.supervisory_authority.name }}. {% endif %}The "
     "controller decides on and makes those notifications."),
    ("Normal",
     "7.4 A notice of a breach is not an admission of fault or liability by the processor."),

    # 8. International transfers ---------------------------------------------
    ("Heading 1", "8. Transfers to third countries"),
    ("Normal",
     "8.1 Customer personal data is processed in a third country only where a subprocessor "
     "listed in Annex III processes it there, as shown in that annex. The processor transfers customer personal data to a third country only on the "
     "controller's documented instructions, which include the engagement of the subprocessors "
     "authorised under clause 11, and only where the conditions of Chapter V GDPR are met."),
    ("Normal",
     "8.2 **Order of transfer mechanisms.** Each transfer to a third country relies on one "
     "transfer mechanism, determined in this order: (1) an adequacy decision of the European "
     "Commission under Article 45 GDPR for the destination country, including, for a recipient "
     "in the United States, its certification under the EU–US Data Privacy Framework, which is "
     "covered by Commission Implementing Decision (EU) 2023/1795 of 10 July 2023; (2) where no "
     "adequacy decision applies, the Standard Contractual Clauses, Module 3 (transfer from "
     "processor to processor), together with the supplementary measures that an assessment of "
     "the law and practice of the destination country shows to be needed. Standard Contractual "
     "Clauses concluded in advance as a fallback apply only from the moment the mechanism before "
     "them ceases to apply, for example because the adequacy decision is repealed or declared "
     "invalid or the recipient's certification ends. The processor does not rely on the "
     "derogations in Article 49 GDPR for transfers of customer personal data."),
    ("TAG", "{%p if subprocessors.has_transfers %}"),
    ("Normal",
     "8.3 Under subprocessor list version {{ subprocessors.version }}, the following "
     "subprocessors process customer personal data in a third country: "
     "{% for e in subprocessors.entries if not e.in_eea %}{{ e.name }} ({{ e.location }}){% if not loop.last %}; {% endif %}{% endfor %}. "
     "For each of them Annex III shows the contracting entity, the location of processing, the "
     "transfer mechanisms in the order of clause 8.2 and the supplementary measures that apply."),
    ("TAG", "{%p else %}"),
    ("Normal",
     "8.3 Under subprocessor list version {{ subprocessors.version }}, all subprocessors process "
     "customer personal data within the EEA, so no transfer to a third country takes place."),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "8.4 **Onward transfers.** Where a subprocessor established in the EEA transfers data to "
     "its affiliate or its own subprocessor in a third country, that subprocessor is responsible "
     "for the transfer mechanism under its contract with the processor, which requires the same "
     "order of mechanisms; Annex III shows such transfers as onward transfers."),
    ("Normal",
     "8.5 On request, the processor gives the controller a copy of the Standard Contractual "
     "Clauses it has concluded, from which commercial information may be removed. If a transfer "
     "mechanism ceases to be valid and the next mechanism in the order does not apply, the "
     "processor informs the controller without undue delay and stops the transfer; the "
     "controller may then use its rights under clause 11.3."),

    # 9.–11. Clauses (sub-documents) ------------------------------------------
    ("TAG", "{{p confidentiality_clause }}"),
    ("TAG", "{{p security_clause }}"),
    ("TAG", "{{p subprocessors_clause }}"),

    # 12. Controller ----------------------------------------------------------
    ("Heading 1", "12. Responsibilities of the controller"),
    ("Normal",
     "12.1 The controller is responsible for the lawfulness of the processing it instructs, in "
     "particular for having a legal basis for the personal data it enters into or collects "
     "through the Service and for informing data subjects as required by Articles 13 and 14 "
     "GDPR."),
    ("Normal",
     "12.2 The controller's instructions must comply with data protection law. The controller "
     "manages the retention and deletion of customer personal data in its workspace and decides "
     "who in its organisation has access to it."),

    # 13. Liability -----------------------------------------------------------
    ("Heading 1", "13. Liability"),
    ("Normal",
     "13.1 Each party is liable for damage caused by processing that infringes data protection "
     "law or this DPA as provided in Article 82 GDPR."),
    ("Normal",
     "13.2 Between the parties, the limitations and exclusions of liability agreed in the main "
     "agreement apply to claims under this DPA, including claims for the acts of subprocessors "
     "(clause 11.8), except where the law does not allow liability to be limited. Nothing in "
     "this DPA limits the rights of data subjects or either party's liability towards them."),
    ("Normal",
     "13.3 Where one party has paid full compensation for damage for which the other party is "
     "also responsible, it may claim back from the other party the part of the compensation "
     "corresponding to that party's share of responsibility (Article 82(5) GDPR)."),

    # 14. Term and termination -------------------------------------------------
    ("Heading 1", "14. Effective date, term and termination"),
    ("Normal",
     "14.1 This DPA applies to all processing of customer personal data under the main agreement "
     "from the effective date shown at the top, which is the date on which the main agreement "
     "took effect, including processing that took place before this DPA was signed, except for "
     "any period to which an earlier signed version of this DPA applied. It remains in force for "
     "as long as the main agreement, and after that until all customer personal data has been "
     "returned or deleted under clause 6(g)."),
    ("Normal",
     "14.2 If the processor breaches its obligations under this DPA, the controller may "
     "instruct the processor to suspend the processing until it complies or this DPA is "
     "terminated. The processor informs the controller promptly if it is unable to comply with "
     "this DPA, for whatever reason."),
    ("Normal",
     "14.3 The controller may terminate this DPA insofar as it concerns the processing of "
     "customer personal data, together with the main agreement where the Service cannot be "
     "provided without that processing, if: (1) the processing has been suspended under clause "
     "14.2 and compliance is not restored within a reasonable time and in any event within one "
     "month of the suspension; (2) the processor is in substantial or persistent breach of this "
     "DPA or of its obligations under the GDPR; or (3) the processor fails to comply with a "
     "binding decision of a competent court or of the competent supervisory authority regarding "
     "its obligations under this DPA or the GDPR."),
    ("Normal",
     "14.4 The processor may terminate this DPA insofar as it concerns the processing under it, "
     "together with the main agreement where the Service cannot be provided without that "
     "processing, if the controller insists on an instruction after the processor has informed "
     "it under clause 6(a) that the instruction infringes data protection law."),
    ("Normal",
     "14.5 Termination under this clause involves no termination penalty. After termination, "
     "the processor returns or deletes customer personal data under clause 6(g) and confirms the "
     "deletion in writing."),
    ("Normal",
     "14.6 A later version of this DPA signed by both parties replaces this version from the "
     "date on which it is completed. Clauses that by their nature are meant to continue, in "
     "particular those on confidentiality, deletion or return, and liability, continue to apply "
     "after this DPA ends."),

    # 15. Order of precedence ------------------------------------------------------
    ("Heading 1", "15. Order of precedence and general provisions"),
    ("Normal",
     "15.1 **Order of precedence.** For matters of data protection, this DPA (including its "
     "annexes) prevails over the main agreement and any other agreement between the parties. "
     "Where Standard Contractual Clauses apply, they prevail over this DPA in case of conflict."),
    ("Normal",
     "15.2 **Notices.** Notices under this DPA are given in writing, which includes e-mail, to "
     "the contacts given in Annex I, Part A, or to other contacts a party communicates later."),
    ("Normal",
     "15.3 **Severability.** If a provision of this DPA is invalid or unenforceable, the rest of "
     "the DPA remains in force, and the parties replace the provision with a valid one that "
     "comes as close as possible to its purpose. Where a provision is incomplete, the parties "
     "apply it in the way that best meets the requirements of Article 28 GDPR."),
    ("Normal",
     "15.4 **Electronic signature.** The parties agree that this DPA may be signed "
     "electronically and that an electronic signature binds them in the same way as a "
     "handwritten one."),
    ("TAG", "{%p if agreement.bilingual %}"),
    ("Normal",
     "15.5 **Language.** This DPA is made in English and Latvian, and the two texts form one "
     "agreement. If they differ, the "
     "{% if agreement.prevailing_language == \"lv\" %}Latvian{% else %}English{% endif %} text "
     "prevails."),
    ("TAG", "{%p else %}"),
    ("Normal", "15.5 **Language.** This DPA is made in English."),
    ("TAG", "{%p endif %}"),

    # 16. Governing law ------------------------------------------------------------
    ("Heading 1", "16. Governing law and jurisdiction"),
    ("Normal",
     "16.1 This DPA is governed by the law of {{ terms.governing_law }}."),
    ("Normal",
     "16.2 The courts of {{ terms.courts }} have exclusive jurisdiction over any dispute arising "
     "out of or in connection with this DPA. This does not affect the rights of data subjects to "
     "bring proceedings before other courts, nor the provisions on governing law and "
     "jurisdiction contained in any Standard Contractual Clauses."),

    # 17. Signatures ---------------------------------------------------------------
    *EN_SIGNATURES,

    # Annex I ----------------------------------------------------------------------
    ("ANNEX", "Annex I — Parties and description of the processing"),
    ("Heading 2", "Part A — Parties"),
    ("Heading 3", "Controller"),
    ("Normal", "**Legal name:** {{ controller.legal_name }}"),
    ("Normal", "**Registration number:** {{ controller.registration_number }}"),
    ("TAG", "{%p if controller.vat_number %}"),
    ("Normal", "**VAT number:** {{ controller.vat_number }}"),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "**Address:** {{ controller.address.street }}, {{ controller.address.postal_code }} "
     "{{ controller.address.city }}, {{ controller.address.country_name }}"),
    ("Normal", "**Country:** {{ controller.address.country_name }}"),
    ("Normal",
     "**Signatory and contact person:** {{ controller.signatory.name }}, "
     "{{ controller.signatory.title }}"),
    ("Normal", "**E-mail:** {{ controller.signatory.email }}"),
    ("TAG", "{%p if controller.dpo %}"),
    ("Normal",
     "**Data protection officer:** {{ controller.dpo.name }}, {{ controller.dpo.email }}"),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "**Competent supervisory authority:** {% if controller.supervisory_authority %}"
     "{{ controller.supervisory_authority.name }}{% else %}the supervisory authority competent "
     "under Articles 55 and 56 GDPR{% endif %}"),
    ("Normal",
     "**Role:** controller. The controller uses the Service to run its business and to manage "
     "its relationships with customers and other contacts."),
    ("Heading 3", "Processor"),
    ("Normal",
     "**Legal name:** {{ processor.legal_name }}, trading as {{ processor.trade_name }}"),
    ("Normal", "**Registration number:** {{ processor.registration_number }}"),
    ("Normal", "**Registered address:** {{ processor.address.line }}"),
    ("Normal", "**Country:** {{ processor.address.country_name }}"),
    ("Normal",
     "**Contact for data protection matters:** {{ processor.privacy_contact }}, "
     "{{ processor.privacy_email }}"),
    ("Normal",
     "**Signatory:** {% if processor.signatory.name %}{{ processor.signatory.name }}, {% endif %}"
     "{{ processor.signatory.title }}"),
    ("Normal",
     "**Role:** processor. The processor provides the Service and processes customer personal "
     "data on behalf of the controller."),

    ("Heading 2", "Part B — Description of the processing"),
    ("Normal",
     "**Subject matter:** the provision of the Service under the main agreement (clause 3.1)."),
    ("Normal",
     "**Duration:** the term of the main agreement, and after that until the data has been "
     "returned or deleted (clauses 3.2 and 6(g))."),
    ("Normal", "**Frequency:** the processing is continuous throughout that time."),
    ("Normal",
     "**Nature of the processing:** storing, organising, structuring, retrieving, displaying, "
     "updating, exporting and transmitting personal data to the persons the controller chooses, "
     "making backups and restoring from them, and erasing the data."),
    ("TAG", "{%p if processing.operations %}"),
    ("Normal", "For the features the controller uses, the processing also includes:"),
    ("TAG", "{%p for o in processing.operations %}"),
    ("List Bullet", "{{ o }}"),
    ("TAG", "{%p endfor %}"),
    ("TAG", "{%p endif %}"),
    ("Normal", "**Purposes of the processing:** customer personal data is processed only for:"),
    ("TAG", "{%p for p in processing.purposes %}"),
    ("List Bullet", "{{ p }};"),
    ("TAG", "{%p endfor %}"),
    ("List Bullet", "providing the support the controller asks for; and"),
    ("List Bullet",
     "keeping the Service secure and available, including backups and the prevention of abuse."),
    ("Normal",
     "**Types of personal data:** based on the features the controller uses in the Service, the "
     "following types of personal data are processed:"),
    ("TAG", "{%p for c in processing.data_categories %}"),
    ("List Bullet", "**{{ c.label }}**: {{ c.description }}"),
    ("TAG", "{%p else %}"),
    ("List Bullet",
     "Personal data that the controller or its users enter into, or collect through, the "
     "Service."),
    ("TAG", "{%p endfor %}"),
    ("Normal", "**Special categories of data:** see clause 5."),
    ("Normal",
     "**Categories of data subjects:** the personal data concerns the following categories of "
     "data subjects, as chosen by the controller and as the features it uses imply:"),
    ("TAG", "{%p for s in processing.data_subjects %}"),
    ("List Bullet", "{{ s.label }}"),
    ("TAG", "{%p else %}"),
    ("List Bullet",
     "The persons whose data the controller or its users enter into, or collect through, the "
     "Service."),
    ("TAG", "{%p endfor %}"),
    ("Normal",
     "**Retention:** the controller manages retention in its workspace (clause 12.2); at the end "
     "the data is returned or deleted under clause 6(g), and backups expire as stated in "
     "Annex II."),
    ("Normal",
     "**Subprocessors:** those listed in Annex III, each for the purpose shown there."),
    ("TAG", "{#p annexes #}"),
]


# ===========================================================================
# LATVIAN (templates/lv/*.docx)
#
# Terms of the Latvian text of Regulation (EU) 2016/679: pārzinis, apstrādātājs,
# apakšapstrādātājs, datu subjekts, personas dati, personas datu aizsardzības pārkāpums,
# uzraudzības iestāde, datu aizsardzības speciālists; and of Implementing Decision
# (EU) 2021/914: līguma standartklauzulas. Clause references follow Latvian usage
# ("6. punkta g) apakšpunkts", "14.1. punkts"); figures take the case the sentence needs.
# ===========================================================================

LV_FOOTER = (
    "Personas datu apstrādes līgums{% if agreement.bilingual %} / Data Processing "
    "Agreement{% endif %} · {{ agreement.id }} · versija {{ agreement.version }}"
)

# ---------------------------------------------------------------------------
# Konfidencialitāte (templates/lv/confidentiality.docx)
# ---------------------------------------------------------------------------

LV_CONFIDENTIALITY: list[Block] = [
    ("Heading 1", "9. Konfidencialitāte"),
    ("Normal",
     "9.1. Apstrādātājs nodrošina pārziņa personas datu konfidencialitāti un izmanto tos tikai, "
     "lai sniegtu Pakalpojumu saskaņā ar pamatlīgumu un šo Līgumu un atbilstoši pārziņa "
     "dokumentētiem norādījumiem. Tas neizmanto pārziņa personas datus saviem nolūkiem, "
     "piemēram, citu produktu izstrādei, reklāmai vai profilēšanai, un tos nepārdod un "
     "neiznomā. Kāda apstrāde nav uzskatāma par izmantošanu apstrādātāja nolūkiem, ir "
     "paskaidrots 4.2. punktā."),
    ("Normal",
     "9.2. **Nepieciešamība zināt.** Apstrādātāja organizācijā piekļuvi pārziņa personas datiem "
     "piešķir tikai tiem darbiniekiem un piesaistītajiem izpildītājiem, kuriem tā ir vajadzīga "
     "konkrēta uzdevuma veikšanai: Pakalpojuma darbības un drošības nodrošināšanai, pārziņa "
     "atbalsta pieprasījuma izpildei vai juridiska pienākuma izpildei. Piekļuvi ierobežo līdz "
     "tam, kas vajadzīgs attiecīgajam uzdevumam, un atsauc, kad tā vairs nav vajadzīga."),
    ("Normal",
     "9.3. **Saistoša apņemšanās.** Katra persona, kas ir pilnvarota apstrādāt pārziņa personas "
     "datus, ir rakstiski apņēmusies ievērot konfidencialitāti, vai uz to attiecas atbilstošs "
     "likumā noteikts konfidencialitātes pienākums. Šī apņemšanās ir spēkā arī pēc tam, kad "
     "personas darba vai līgumattiecības ar apstrādātāju ir izbeigtas."),
    ("Normal",
     "9.4. **Instruktāža un apmācība.** Pilnvarotās personas tiek informētas par pārziņa "
     "personas datu konfidenciālo raksturu, tām ir uzdots apstrādāt šos datus tikai tā, kā to "
     "atļauj šis Līgums, un tās saņem datu aizsardzības un drošības apmācību, sākot darbu, un "
     "pēc tam regulāri. Šo noteikumu pārkāpums var būt pamats disciplinārai atbildībai."),
    ("Normal",
     "9.5. **Trešās personas.** Apstrādātājs uzliek katram apakšapstrādātājam un jebkurai citai "
     "trešajai personai, kas var saskarties ar pārziņa personas datiem, konfidencialitātes "
     "pienākumus, kas nav mazāk stingri par šajā punktā noteiktajiem."),
    ("Normal",
     "9.6. **Izpaušana, ko prasa tiesību akti.** Apstrādātājs izpauž pārziņa personas datus "
     "tiesai, publiskai iestādei vai citai trešajai personai tikai tad, ja to prasa Savienības "
     "vai dalībvalsts tiesību akti, kas attiecas uz apstrādātāju. Šādā gadījumā apstrādātājs:"),
    ("List Bullet",
     "pirms datu izpaušanas informē pārzini par pieprasījumu, ja vien tiesību akti to "
     "neaizliedz; ja tas ir aizliegts, apstrādātājs dara visu, kas saprātīgi iespējams, lai "
     "aizliegumu atceltu;"),
    ("List Bullet", "vispirms mēģina novirzīt pieprasītāju pie pārziņa;"),
    ("List Bullet",
     "izvērtē pieprasījuma likumību un to apstrīd, ja ir pamatots iemesls uzskatīt, ka tas ir "
     "nelikumīgs vai pārmērīgs; un"),
    ("List Bullet",
     "izpauž tikai to datu apjomu, kas ir minimāli nepieciešams pieprasījuma izpildei."),
    ("Normal",
     "9.7. **Informācija par drošību.** Pārzinis uzskata par konfidenciālu nepublisko "
     "informāciju, ko tas saņem par apstrādātāja drošības pasākumiem, revīzijām un līgumiem ar "
     "apakšapstrādātājiem. Tas var šo informāciju atklāt uzraudzības iestādēm, saviem "
     "revidentiem un konsultantiem, kuriem ir konfidencialitātes pienākums, un tad, ja to prasa "
     "tiesību akti; tas neietekmē 6. punkta h) apakšpunktu par informācijas pieejamību "
     "uzraudzības iestādei."),
    ("Normal",
     "9.8. **Ilgums.** Šajā punktā noteiktie pienākumi ir spēkā arī pēc Līguma izbeigšanās tik "
     "ilgi, kamēr apstrādātāja vai tā personāla rīcībā ir pārziņa personas dati vai pārziņa "
     "konfidenciāla informācija."),
]


# ---------------------------------------------------------------------------
# Apstrādes drošība un II pielikums (templates/lv/security.docx)
# ---------------------------------------------------------------------------

LV_SECURITY: list[Block] = [
    ("Heading 1", "10. Apstrādes drošība"),
    ("Normal",
     "10.1. Kā to prasa Regulas 32. pants, apstrādātājs īsteno un uztur tehniskus un "
     "organizatoriskus pasākumus, kas nodrošina tādu drošības līmeni, kurš atbilst riskam "
     "attiecībā uz datu subjektu tiesībām un brīvībām. Izvēloties pasākumus, apstrādātājs ņem "
     "vērā tehnikas līmeni, īstenošanas izmaksas un apstrādes raksturu, apmēru, kontekstu un "
     "nolūkus."),
    ("Normal",
     "10.2. Pasākumi, kas tiek piemēroti šīs Līguma versijas dienā, ir aprakstīti II pielikumā, "
     "kas ir šī Līguma neatņemama sastāvdaļa. Apstrādātājs var tos pielāgot tehnoloģiju un "
     "risku attīstībai, ja drošības līmenis nekad netiek pazemināts. Būtiskas izmaiņas tas "
     "dokumentē un pēc pieprasījuma dara pārzinim pieejamu aktuālo pasākumu aprakstu."),
    ("Normal",
     "10.3. Pārzinis atbild par drošību savā Pakalpojuma izmantošanas pusē: tas izvēlas, kuriem "
     "lietotājiem un ar kādām atļaujām ir piekļuve tā darbvietai, nodrošina, ka piekļuves dati "
     "tiek turēti noslēpumā, izmanto piedāvātās autentifikācijas iespējas un atsauc piekļuvi "
     "personām, kuras vairs nav tā organizācijā."),
    ("Normal",
     "10.4. II pielikumā minētie pasākumi ir minimums, ko apstrādātājs piemēro. Tie neierobežo "
     "apstrādātāja pienākumu saskaņā ar Regulas 32. pantu nodrošināt riskam atbilstošu drošības "
     "līmeni: ja šis pienākums prasa vairāk, apstrādātājs dara vairāk. Neviens tiešsaistes "
     "pakalpojums nevar izslēgt visus incidentus; personas datu aizsardzības pārkāpuma gadījumā "
     "rīkojas saskaņā ar 7. punktu."),

    ("TAG", "{#p annex #}"),
    ("ANNEX",
     "II pielikums. Tehniskie un organizatoriskie pasākumi, tostarp datu drošības "
     "nodrošināšanas pasākumi"),
    ("Normal",
     "Šajā pielikumā ir aprakstīti pasākumi, ko apstrādātājs piemēro pārziņa personas datiem "
     "(apstrādātāja profila {{ processor.profile_version }}. versija). Tie ietver visus "
     "{{ processor.trade_name }} datu aizsardzības lapā minētos pasākumus: paroļu aizsardzību ar "
     "jaucējfunkciju, piekļuves kontroli un atļaujas, darbvietu nošķiršanu, autentifikācijas "
     "aizsardzību, drošus infrastruktūras pakalpojumu sniedzējus, uzraudzību un ļaunprātīgas "
     "izmantošanas novēršanu, kā arī rezerves kopijas un atjaunošanu. Pasākumi ir sagrupēti pēc "
     "virsrakstiem, kas izmantoti līguma standartklauzulu II pielikumā."),

    ("Heading 3", "II.1. Šifrēšana"),
    ("List Bullet",
     "**Protokols:** savienojumi ar Pakalpojumu izmanto TLS "
     "{{ processor.security.tls_min_version }} vai jaunāku versiju; glabātos datus šifrē ar "
     "{{ processor.security.encryption_at_rest }}."),
    *_measures("encryption"),

    ("Heading 3", "II.2. Pseidonimizācija"),
    *_measures("pseudonymisation"),

    ("Heading 3",
     "II.3. Apstrādes sistēmu un pakalpojumu nepārtraukta konfidencialitāte, integritāte, "
     "pieejamība un noturība"),
    *_measures("resilience"),

    ("Heading 3",
     "II.4. Spēja savlaicīgi atjaunot datu pieejamību un piekļuvi tiem (rezerves kopijas un "
     "atjaunošana)"),
    ("List Bullet",
     "**Rezerves kopiju grafiks:** datubāzu un glabāto datņu rezerves kopijas veido ne retāk kā "
     "reizi {{ processor.security.backup_interval.loc }}. Rezerves kopiju glabā ne ilgāk kā "
     "{{ processor.security.backup_retention.acc }}, un pēc tam to automātiski dzēš; tas ir "
     "6. punkta g) apakšpunktā minētais termiņš."),
    ("List Bullet",
     "**Atjaunošanas mērķi:** pēc atteices Pakalpojumu atjauno tā, ka zūd ne vairāk kā dati, "
     "kas ievadīti {{ processor.security.rpo.gen }} laikā pirms atteices (atjaunošanas punkta "
     "mērķis), un ne vēlāk kā {{ processor.security.rto.gen }} laikā (atjaunošanas laika "
     "mērķis)."),
    *_measures("restore"),

    ("Heading 3", "II.5. Regulāra testēšana, izvērtēšana un novērtēšana"),
    ("List Bullet",
     "**Drošības atjauninājumi:** kritiskas ievainojamības novērš "
     "{{ processor.security.patch_critical.gen }} laikā, bet augstas bīstamības ievainojamības – "
     "{{ processor.security.patch_high.gen }} laikā pēc tam, kad ir pieejams labojums."),
    ("List Bullet",
     "**Testi un pārskatīšana:** atjaunošanu no rezerves kopijām testē ne retāk kā reizi "
     "{{ processor.security.restore_tests.loc }}; lietotnes ielaušanās testēšanu veic ne retāk "
     "kā reizi {{ processor.security.penetration_tests.loc }}; šajā pielikumā minētos "
     "pasākumus pārskata ne retāk kā reizi {{ processor.security.measures_review.loc }} un pēc "
     "katra būtiska incidenta."),
    *_measures("testing"),

    ("Heading 3", "II.6. Lietotāju identifikācija un autorizācija"),
    ("List Bullet",
     "**Piekļuves pārskatīšana:** administratīvās piekļuves tiesības pārskata ne retāk kā reizi "
     "{{ processor.security.access_review.loc }}."),
    *_measures("identification"),

    ("Heading 3", "II.7. Datu aizsardzība pārsūtīšanas laikā"),
    *_measures("transmission"),

    ("Heading 3", "II.8. Datu aizsardzība glabāšanas laikā"),
    *_measures("storage"),

    ("Heading 3", "II.9. Datu apstrādes vietu fiziskā drošība"),
    *_measures("physical"),

    ("Heading 3", "II.10. Notikumu reģistrēšana un uzraudzība"),
    ("List Bullet",
     "**Žurnālu glabāšana:** drošības žurnālus glabā "
     "{{ processor.security.log_retention.acc }}, un pēc tam tos dzēš."),
    *_measures("logging"),

    ("Heading 3", "II.11. Sistēmu konfigurācija, tostarp noklusējuma konfigurācija"),
    *_measures("configuration"),

    ("Heading 3", "II.12. IT un IT drošības iekšējā pārvaldība un pārskatatbildība"),
    *_measures("governance"),

    ("Heading 3", "II.13. Sertifikācija un apliecinājumi"),
    *_measures("certification"),

    ("Heading 3", "II.14. Incidentu pārvaldība"),
    ("List Bullet",
     "**Paziņošana:** par personas datu aizsardzības pārkāpumiem pārzinim paziņo saskaņā ar "
     "7. punktu."),
    *_measures("incidents"),

    ("Heading 3", "II.15. Datu minimizēšana, datu kvalitāte un ierobežota glabāšana"),
    *_measures("minimisation"),

    ("Heading 3", "II.16. Datu pārnesamība un dzēšana"),
    ("List Bullet",
     "**Pakalpojuma beigas:** datus atdod vai dzēš saskaņā ar 6. punkta g) apakšpunktu."),
    *_measures("portability"),

    ("Heading 3", "II.17. Personāls"),
    ("List Bullet",
     "**Konfidencialitāte:** personālam, kam ir piekļuve pārziņa personas datiem, ir 9. punktā "
     "noteiktais konfidencialitātes pienākums."),
    *_measures("staff"),

    ("Heading 3", "II.18. Apakšapstrādātāji"),
    ("List Bullet",
     "**Līgumi:** ar apakšapstrādātājiem ir noslēgti rakstiski līgumi, kas prasa pasākumus, kuri "
     "nav mazāk aizsargājoši par šajā pielikumā minētajiem (11. punkts)."),
    *_measures("subprocessors"),
]


# ---------------------------------------------------------------------------
# Apakšapstrādātāji un III pielikums (templates/lv/subprocessors.docx)
# ---------------------------------------------------------------------------

LV_SUBPROCESSORS: list[Block] = [
    ("Heading 1", "11. Apakšapstrādātāji"),
    ("Normal",
     "11.1. **Vispārēja rakstiska atļauja.** Pārzinis dod apstrādātājam vispārēju rakstisku "
     "atļauju Regulas 28. panta 2. punkta nozīmē piesaistīt citus apstrādātājus "
     "(apakšapstrādātājus) apstrādes veikšanai pārziņa vārdā. Parakstot šo Līgumu, pārzinis "
     "apstiprina III pielikumā norādītos apakšapstrādātājus: tos, kas apkalpo visas darbvietas, "
     "un tos, kas apkalpo pārziņa izmantotās funkcijas. Ja pārzinis sāk izmantot vēl kādu "
     "funkciju, apstrādātāja apstiprinātajā sarakstā norādītie apakšapstrādātāji, kas apkalpo "
     "šo funkciju, ir atļauti tikai tad, ja apstrādātājs par tiem ir informējis pārzini, pirms "
     "tie sāk apstrādāt pārziņa datus."),
    ("Normal",
     "11.2. **Paziņošana pirms piesaistes.** Apstrādātājs rakstiski informē pārzini par katru "
     "plānoto apakšapstrādātāja pievienošanu vai aizstāšanu vismaz "
     "{{ terms.subprocessor_notice.acc }} pirms jaunais apakšapstrādātājs sāk apstrādāt "
     "pārziņa personas datus. Paziņojumā norāda apakšapstrādātāju, līgumslēdzēju sabiedrību, "
     "apstrādes nolūku, apstrādes vietu un nosūtīšanas mehānismu. Paziņojumu nosūta pa e-pastu "
     "pārziņa kontaktpersonām, kas norādītas I pielikumā, un publicē apstrādātāja "
     "apakšapstrādātāju sarakstā."),
    ("Normal",
     "11.3. **Tiesības iebilst.** Paziņošanas termiņā pārzinis var rakstiski iebilst pret "
     "izmaiņām, pamatojoties uz saprātīgiem ar datu aizsardzību saistītiem iemesliem. Kamēr "
     "iebildums nav atrisināts, apstrādātājs neizmanto jauno apakšapstrādātāju pārziņa personas "
     "datu apstrādei. Puses iebildumu apspriež labā ticībā, un apstrādātājs var piedāvāt "
     "alternatīvu, piemēram, citu pārziņa darbvietas konfigurāciju vai jaunā apakšapstrādātāja "
     "neizmantošanu pārziņa datiem. Ja iebildums netiek atrisināts, pārzinis var, rakstiski "
     "paziņojot, izbeigt pamatlīgumu un šo Līgumu ar spēku, pirms jaunais apakšapstrādātājs "
     "sāktu apstrādāt tā datus, bez līgumsoda vai citas maksas par izbeigšanu; iepriekš "
     "samaksāto maksu par laikposmu pēc izbeigšanas atmaksā. Ja paziņošanas termiņā iebildums "
     "nav saņemts, izmaiņas uzskata par pieņemtām."),
    ("Normal",
     "11.4. **Steidzama aizstāšana.** Tikai tad, ja esošais apakšapstrādātājs vairs nevar "
     "sniegt savu pakalpojumu droši vai likumīgi un gaidīšana apdraudētu pārziņa personas datu "
     "drošību vai pieejamību, apstrādātājs var piesaistīt aizstājēju, paziņojot par to īsākā "
     "termiņā, nekā noteikts 11.2. punktā. Arī tad tas nekavējoties un pirms aizstājējs sāk "
     "apstrādāt pārziņa personas datus informē pārzini par aizstājēju, steidzamības iemesliem un "
     "11.2. punktā minēto informāciju. Pārzinim ir tādas pašas tiesības iebilst kā saskaņā ar "
     "11.3. punktu {{ terms.subprocessor_notice.gen }} laikā pēc paziņojuma; ja pārzinis "
     "iebilst, apstrādātājs pārtrauc izmantot aizstājēju pārziņa datiem vai, ja tas nav "
     "iespējams, pārzinis var izbeigt līgumus saskaņā ar 11.3. punktu ar tūlītēju spēku."),
    ("Normal",
     "11.5. **Tādi paši pienākumi.** Apstrādātājs piesaista katru apakšapstrādātāju ar rakstisku "
     "līgumu, kas uzliek tam tādus pašus datu aizsardzības pienākumus kā šajā Līgumā noteiktie, "
     "jo īpaši pienākumu sniegt pietiekamas garantijas, ka tiks īstenoti atbilstīgi tehniski un "
     "organizatoriski pasākumi, kā arī pienākumus attiecībā uz konfidencialitāti, palīdzību un "
     "datu dzēšanu vai atdošanu. Pēc pieprasījuma apstrādātājs izsniedz pārzinim šī līguma datu "
     "aizsardzības noteikumu un to vēlāko grozījumu kopiju; ciktāl tas ir nepieciešams "
     "komercnoslēpuma vai citas konfidenciālas informācijas, tostarp personas datu, "
     "aizsardzībai, apstrādātājs var kopijā aizklāt attiecīgo tekstu."),
    ("Normal",
     "11.6. **Apakšapstrādātāju pienākumu neizpilde.** Apstrādātājs paziņo pārzinim par katru "
     "gadījumu, kad apakšapstrādātājs nav izpildījis savus datu aizsardzības pienākumus saskaņā "
     "ar savu līgumu un tas skar pārziņa personas datus."),
    ("Normal",
     "11.7. **Pārziņa kā trešās personas tiesības.** Apstrādātājs katrā līgumā ar "
     "apakšapstrādātāju paredz noteikumu par labu pārzinim, saskaņā ar kuru gadījumā, ja "
     "apstrādātājs ir faktiski izzudis, juridiski beidzis pastāvēt vai kļuvis maksātnespējīgs, "
     "pārzinim ir tiesības izbeigt līgumu ar apakšapstrādātāju un uzdot apakšapstrādātājam "
     "dzēst vai atdot pārziņa personas datus."),
    ("Normal",
     "11.8. **Atbildība.** Apstrādātājs paliek pilnībā atbildīgs pārziņa priekšā par katra "
     "apakšapstrādātāja pienākumu izpildi tāpat kā par saviem pienākumiem (Regulas 28. panta "
     "4. punkts). Par apakšapstrādātāja radītiem zaudējumiem starp pusēm ir piemērojami tie "
     "paši atbildības ierobežojumi, kas saskaņā ar 13.2. punktu attiecas uz paša apstrādātāja "
     "darbībām, ne vairāk un ne mazāk; tie neierobežo apstrādātāja atbildību pret datu "
     "subjektiem."),
    ("Normal",
     "11.9. **Nosūtīšana.** Katram apakšapstrādātājam III pielikumā ir norādīta līgumslēdzēja "
     "sabiedrība, apstrādes vieta, nosūtīšanas mehānismi 8.2. punktā noteiktajā secībā un "
     "papildu pasākumi, kas faktiski tiek piemēroti."),
    ("Normal",
     "11.10. **Novērtējums un papildu pasākumi.** Ja nosūtīšana balstās uz līguma "
     "standartklauzulām, apstrādātājs vispirms novērtē galamērķa valsts tiesību aktus un praksi "
     "un piemēro papildu pasākumus, kas vajadzīgi, lai aizsardzības līmenis pēc būtības būtu "
     "līdzvērtīgs Eiropas Savienībā nodrošinātajam. Šifrēšana pārsūtīšanas laikā aizsargā datus "
     "ceļā līdz saņēmējam, bet netiek uzskatīta par papildu pasākumu pret piekļuvi galamērķa "
     "valstī, ja saņēmējs pats datus atšifrē, piemēram, satura piegādes tīkls, kurā šifrētie "
     "savienojumi tiek pārtraukti. Šāda nosūtīšana balstās uz lēmumu par aizsardzības līmeņa "
     "pietiekamību; ja tā vietā būtu jāpiemēro līguma standartklauzulas un novērtējums "
     "nepierādītu, ka galamērķa valsts tiesību akti un prakse ļauj tās ievērot, nosūtīšana tiktu "
     "pārtraukta."),

    ("TAG", "{#p annex #}"),
    ("ANNEX", "III pielikums. Apakšapstrādātāji"),
    ("Normal",
     "Apakšapstrādātāju saraksta {{ subprocessors.version }}. versija; apstiprināšanas datums: "
     "{{ subprocessors.approved_on }}. Pārzinis atļauj piesaistīt šādus apakšapstrādātājus "
     "(11.1. punkts). Katrs no tiem apstrādā pārziņa personas datus tikai norādītajam nolūkam. "
     "Sarakstā ir apakšapstrādātāji, kas apkalpo visas darbvietas, un tie, kas apkalpo pārziņa "
     "izmantotās funkcijas."),
    ("SUBPROCESSOR_TABLE", ""),
    ("Heading 2", "Ziņas par katru apakšapstrādātāju"),
    ("TAG", "{%p for e in subprocessors.entries %}"),
    ("Heading 3", "{{ e.name }}"),
    ("List Bullet", "**Līgumslēdzēja sabiedrība:** {{ e.contracting_entity }}"),
    ("List Bullet", "**Apstrādes vieta:** {{ e.location }}"),
    ("List Bullet",
     "**Apkalpotās funkcijas:** {% if e.general %}visas darbvietas{% else %}{{ e.serves }}"
     "{% endif %}"),
    ("TAG", "{%p for t in e.transfers %}"),
    ("List Bullet",
     "**Nosūtīšana:** {% if t.onward %}apakšapstrādātāja veikta tālāka nosūtīšana saņēmējam "
     "{{ t.importer }} ({{ t.country_name }}), par kuru atbild apakšapstrādātājs (8.4. punkts)"
     "{% else %}apstrādātājs nosūta datus saņēmējam {{ t.importer }} ({{ t.country_name }})"
     "{% endif %}. Mehānismi 8.2. punktā noteiktajā secībā: {% for m in t.mechanisms %}"
     "{{ loop.index }}) {{ m.label }}{% if not loop.last %}; {% endif %}{% endfor %}."),
    ("TAG", "{%p else %}"),
    ("List Bullet",
     "**Nosūtīšana:** {% if e.in_eea %}nenotiek; pārziņa personas datus apstrādā tikai "
     "EEZ{% else %}{{ e.transfer_safeguard }}{% endif %}."),
    ("TAG", "{%p endfor %}"),
    ("List Bullet",
     "**Papildu pasākumi:** {% if e.transfers %}{% for s in e.supplementary_measures %}"
     "{{ s }}{% if not loop.last %}; {% endif %}{% else %}tikai II pielikumā minētie "
     "pasākumi{% endfor %}{% else %}nav piemērojami, jo nosūtīšana uz trešo valsti "
     "nenotiek{% endif %}."),
    ("TAG", "{%p endfor %}"),
]

LV_SUBPROCESSOR_TABLE_HEADER = ["Nosaukums", "Nolūks", "Apstrādes vieta", "Nosūtīšanas pamats"]


# ---------------------------------------------------------------------------
# Pamatdokuments (templates/lv/master.docx)
# ---------------------------------------------------------------------------

LV_SIGNATURES: list[Block] = [
    ("Heading 1", "17. Paraksti"),
    ("TAG", "{%p if agreement.signature_blocks %}"),
    ("KEEP",
     "Parakstot šo Līgumu, katra puse apliecina, ka tā piekrīt šim Līgumam un ka parakstītājs ir "
     "pilnvarots parakstīt tās vārdā."),

    ("SIGNATURE_CONTROLLER", "Pārziņa vārdā"),
    ("SIGN", "{{ controller.legal_name }}"),
    ("TAG", "{%p if signatures.controller %}"),
    ("SIGN", "Vārds, uzvārds: {{ signatures.controller.name }}"),
    ("SIGN", "Amats: {{ signatures.controller.title }}"),
    ("SIGN", "Datums: {{ signatures.controller.signed_at }}"),
    ("SIGN", "Paraksts: parakstījis elektroniski {{ signatures.controller.name }}"),
    ("TAG", "{%p if signatures.controller.drawing %}"),
    ("SIGN", "{{ signatures.controller.drawing }}"),
    ("TAG", "{%p endif %}"),
    ("TAG", "{%p else %}"),
    ("SIGN", "Vārds, uzvārds: ________________________________________"),
    ("SIGN", "Amats: ________________________________________"),
    ("SIGN", "Datums: ________________________________________"),
    ("SIGN", "Paraksts: ________________________________________"),
    ("TAG", "{%p endif %}"),

    ("SIGNATURE_PROCESSOR", "Apstrādātāja vārdā"),
    ("SIGN", "{{ processor.legal_name }} ({{ processor.trade_name }})"),
    ("TAG", "{%p if signatures.processor %}"),
    ("SIGN", "Vārds, uzvārds: {{ signatures.processor.name }}"),
    ("SIGN", "Amats: {{ signatures.processor.title }}"),
    ("SIGN", "Datums: {{ signatures.processor.signed_at }}"),
    ("SIGN", "Paraksts: parakstījis elektroniski {{ signatures.processor.name }}"),
    ("TAG", "{%p if signatures.processor.drawing %}"),
    ("SIGN", "{{ signatures.processor.drawing }}"),
    ("TAG", "{%p endif %}"),
    ("TAG", "{%p else %}"),
    ("SIGN", "Vārds, uzvārds: ________________________________________"),
    ("SIGN", "Amats: ________________________________________"),
    ("SIGN", "Datums: ________________________________________"),
    ("SIGN", "Paraksts: ________________________________________"),
    ("TAG", "{%p endif %}"),
    ("TAG", "{%p else %}"),
    ("Normal",
     "Puses paraksta šo Līgumu vienu reizi – teksta "
     "{% if agreement.prevailing_language == \"en\" %}angļu{% else %}latviešu{% endif %} valodā "
     "17. punktā; šie paraksti attiecas uz abām valodu versijām."),
    ("TAG", "{%p endif %}"),
]

LV_MASTER: list[Block] = [
    ("Title", "Personas datu apstrādes līgums"),
    ("Normal", "**Līgums:** {{ agreement.id }}, versija {{ agreement.version }}"),
    ("Normal", "**Izdošanas datums:** {{ agreement.date }}"),
    ("Normal",
     "**Spēkā stāšanās datums:** {% if agreement.effective_date %}"
     "{{ agreement.effective_date }} – diena, kurā stājās spēkā pamatlīgums{% else %}diena, kurā "
     "stājās spēkā pamatlīgums{% endif %} (14.1. punkts)"),
    ("TAG", "{%p if agreement.bilingual %}"),
    ("Normal",
     "**Valodas:** Līgums ir sagatavots latviešu un angļu valodā; noteicošais ir teksts "
     "{% if agreement.prevailing_language == \"en\" %}angļu{% else %}latviešu{% endif %} valodā "
     "(15.5. punkts)."),
    ("TAG", "{%p endif %}"),
    ("TAG", "{%p if processor.unconfirmed %}"),
    ("Normal",
     "**Projekts, nav paredzēts parakstīšanai.** Vērtības, kas norādītas kā „[vēl jāapstiprina: "
     "…]”, apstrādātāja juristi vēl nav apstiprinājuši. Kamēr tās nav apstiprinātas, šo "
     "dokumentu nevar nosūtīt parakstīšanai."),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "Šo personas datu apstrādes līgumu (turpmāk – Līgums) noslēdz {{ controller.legal_name }} "
     "(turpmāk – pārzinis) un {{ processor.legal_name }}, kas nodrošina platformu "
     "{{ processor.trade_name }} (turpmāk – apstrādātājs). Līgums reglamentē personas datu "
     "apstrādi, ko apstrādātājs veic pārziņa vārdā, kad pārzinis izmanto platformu "
     "{{ processor.trade_name }}, kā to prasa Eiropas Parlamenta un Padomes Regulas (ES) "
     "2016/679 (Vispārīgā datu aizsardzības regula, turpmāk – Regula) 28. panta 3. punkts."),

    # 1. Puses ------------------------------------------------------------------
    ("Heading 1", "1. Puses un pielikumi"),
    ("Normal",
     "1.1. Pārzinis un apstrādātājs, to adreses, parakstītāji un kontaktpersonas datu "
     "aizsardzības jautājumos ir norādīti I pielikuma A daļā."),
    ("Normal",
     "1.2. Pielikumi ir šī Līguma neatņemama sastāvdaļa: I pielikums (puses un apstrādes "
     "apraksts), II pielikums (tehniskie un organizatoriskie pasākumi) un III pielikums "
     "(apakšapstrādātāji)."),

    # 2. Definīcijas --------------------------------------------------------------
    ("Heading 1", "2. Definīcijas"),
    ("Normal",
     "Terminiem „personas dati”, „apstrāde”, „pārzinis”, „apstrādātājs”, „datu subjekts”, "
     "„personas datu aizsardzības pārkāpums” un „uzraudzības iestāde” ir Regulas 4. pantā "
     "noteiktā nozīme. Turklāt šajā Līgumā:"),
    ("List Bullet",
     "**pamatlīgums** – lietošanas noteikumi vai cits līgums, saskaņā ar kuru pārzinis izmanto "
     "Pakalpojumu;"),
    ("List Bullet",
     "**Pakalpojums** – platforma {{ processor.trade_name }} un ar to saistītais atbalsts, ko "
     "apstrādātājs sniedz saskaņā ar pamatlīgumu;"),
    ("List Bullet",
     "**darbvieta** – pārziņa konta vide Pakalpojumā, kurā glabājas tā dati;"),
    ("List Bullet",
     "**pārziņa personas dati** – personas dati, ko apstrādātājs, sniedzot Pakalpojumu, "
     "apstrādā pārziņa vārdā un kas aprakstīti I pielikuma B daļā;"),
    ("List Bullet",
     "**apakšapstrādātājs** – cits apstrādātājs, kuru apstrādātājs piesaista pārziņa personas "
     "datu apstrādei;"),
    ("List Bullet",
     "**EEZ** – Eiropas Ekonomikas zona; **trešā valsts** – valsts, kas neietilpst EEZ;"),
    ("List Bullet",
     "**līguma standartklauzulas** – līguma standartklauzulas par personas datu nosūtīšanu uz "
     "trešām valstīm, kas pieņemtas ar Komisijas 2021. gada 4. jūnija Īstenošanas lēmumu (ES) "
     "2021/914;"),
    ("List Bullet",
     "**datu aizsardzības normatīvie akti** – Regula; Fizisko personu datu apstrādes likums, kas "
     "attiecas uz apstrādātāju kā Latvijā reģistrētu sabiedrību; "
     "{% if controller.address.country != \"LV\" %}Regulu papildinošie tiesību akti pārziņa "
     "valstī; {% endif %}"
     "kā arī citi Savienības vai dalībvalsts datu aizsardzības tiesību akti, kas attiecas uz "
     "apstrādi;"),
    ("List Bullet",
     "**kompetentā uzraudzības iestāde** – uzraudzības iestāde, kas saskaņā ar Regulas 55. un "
     "56. pantu ir kompetenta attiecībā uz pārziņa veikto apstrādi"
     "{% if controller.supervisory_authority %}; ņemot vērā pārziņa adresi, tā ir "
     "{{ controller.supervisory_authority.name }}{% endif %}."),

    # 3. Priekšmets ---------------------------------------------------------------
    ("Heading 1", "3. Priekšmets, ilgums un darbības joma"),
    ("Normal",
     "3.1. **Priekšmets.** Apstrādātājs apstrādā pārziņa personas datus, lai sniegtu pārzinim "
     "Pakalpojumu saskaņā ar pamatlīgumu: tas uztur pārziņa darbvietu un veic apstrādes "
     "darbības, kuras Pakalpojumā uzsāk pārzinis un tā lietotāji."),
    ("Normal",
     "3.2. **Ilgums.** Apstrāde notiek pamatlīguma darbības laikā. Pēc tam apstrādātājs "
     "apstrādā pārziņa personas datus tikai tādēļ, lai tos atdotu vai dzēstu saskaņā ar "
     "6. punkta g) apakšpunktu, un Līgums ir piemērojams, līdz tas ir izdarīts."),
    ("Normal",
     "3.3. **Darbības joma.** Līgums attiecas tikai uz apstrādi, ko apstrādātājs veic pārziņa "
     "vārdā. Tas neattiecas uz personas datiem, attiecībā uz kuriem apstrādātājs pats ir "
     "pārzinis, piemēram, uz pārziņa lietotāju kontu un norēķinu datiem, apstrādātāja "
     "tīmekļvietnes lietošanas datiem, atbalsta pieprasījumiem, mārketinga saziņu un platformas "
     "administrēšanu; šo apstrādi apraksta {{ processor.trade_name }} privātuma dokumentācija."),

    # 4. Apraksts -------------------------------------------------------------------
    ("Heading 1", "4. Apstrādes raksturs un nolūks"),
    ("Normal",
     "4.1. Apstrādes raksturs un nolūki, personas datu veidi un datu subjektu kategorijas ir "
     "aprakstīti I pielikuma B daļā. Apraksts izriet no Pakalpojuma funkcijām, kuras pārzinis "
     "izvēlējies izmantot: katra funkcija nosaka tur norādītos datus, nolūkus un parastās datu "
     "subjektu kategorijas."),
    ("Normal",
     "4.2. Apstrādātājs apstrādā pārziņa personas datus tikai I pielikuma B daļā norādītajiem "
     "nolūkiem. Tas neizmanto pārziņa personas datus saviem nolūkiem, reklāmai vai profilēšanai "
     "un tos nepārdod. Apstrādi, ko apstrādātājam prasa Savienības vai dalībvalsts tiesību "
     "akti, reglamentē 6. punkta a) apakšpunkts. Statistiku par Pakalpojuma lietošanu "
     "apstrādātājs veido no Pakalpojuma lietošanas datiem, attiecībā uz kuriem tas ir pārzinis "
     "saskaņā ar 3.3. punktu, nevis no pārziņa personas datiem."),
    ("Normal",
     "4.3. Ja pārzinis sāk izmantot funkcijas, kas nav atspoguļotas I pielikuma B daļā, "
     "apstrādātājs piedāvā pārzinim atjauninātu Līguma versiju. Līdz tās parakstīšanai šis "
     "Līgums attiecas arī uz šo apstrādi."),

    # 5. Īpašu kategoriju dati -----------------------------------------------------
    ("Heading 1", "5. Īpašu kategoriju personas dati"),
    ("Normal",
     "5.1. Pakalpojums nav paredzēts īpašu kategoriju personas datiem (Regulas 9. pants) vai "
     "personas datiem, kas saistīti ar sodāmību un pārkāpumiem (Regulas 10. pants). Tomēr šādi "
     "dati var nonākt piezīmēs, brīva teksta laukos, fotoattēlos un pievienotajās datnēs, "
     "piemēram, piezīmē ierakstītas ziņas par personas veselību."),
    ("Normal",
     "5.2. Pārzinis izlemj, vai šādus datus ievadīt Pakalpojumā. Tas tos ievada tikai tad, ja "
     "tam ir tiesisks pamats saskaņā ar Regulas 9. vai 10. pantu, ierobežo tos līdz "
     "nepieciešamajam un izmanto Pakalpojuma piekļuves ierobežojumus, lai šos datus redzētu "
     "tikai tie lietotāji, kuriem tie ir vajadzīgi."),
    ("Normal",
     "5.3. Apstrādātājs arī šādiem datiem piemēro II pielikumā minētos pasākumus."),

    # 6. Apstrādātāja pienākumi ----------------------------------------------------
    ("Heading 1", "6. Apstrādātāja pienākumi"),
    ("Normal",
     "Apstrādātājs uzņemas šādus pienākumus, kas atbilst Regulas 28. panta 3. punkta a)–h) "
     "apakšpunktam."),
    ("Normal",
     "**a) Dokumentēti norādījumi.** Apstrādātājs apstrādā pārziņa personas datus tikai saskaņā "
     "ar pārziņa dokumentētiem norādījumiem. Pārziņa norādījumi ir šis Līgums, pamatlīgums un "
     "iestatījumi un darbības, kuras Pakalpojumā izvēlas pārzinis un tā lietotāji; papildu "
     "norādījumus var dot rakstiski (arī pa e-pastu). Tas attiecas arī uz personas datu "
     "nosūtīšanu uz trešo valsti vai starptautisku organizāciju (sk. 8. punktu). Ja Savienības "
     "vai dalībvalsts tiesību akti, kas attiecas uz apstrādātāju, prasa datus apstrādāt citādi, "
     "apstrādātājs pirms apstrādes informē pārzini par šo juridisko prasību, ja vien šie tiesību "
     "akti šādu informēšanu neaizliedz svarīgu sabiedrības interešu dēļ. Apstrādātājs "
     "nekavējoties informē pārzini, ja, tā ieskatā, kāds norādījums pārkāpj datu aizsardzības "
     "normatīvos aktus."),
    ("Normal",
     "**b) Personāla konfidencialitāte.** Apstrādātājs nodrošina, ka personas, kuras ir "
     "pilnvarotas apstrādāt pārziņa personas datus, ir apņēmušās ievērot konfidencialitāti vai "
     "uz tām attiecas atbilstošs likumā noteikts konfidencialitātes pienākums, kā noteikts "
     "9. punktā (Konfidencialitāte)."),
    ("Normal",
     "**c) Apstrādes drošība (Regulas 32. pants).** Apstrādātājs veic visus pasākumus, kas "
     "prasīti Regulas 32. pantā, kā noteikts 10. punktā (Apstrādes drošība) un II pielikumā."),
    ("Normal",
     "**d) Apakšapstrādātāji.** Apstrādātājs piesaista citu apstrādātāju tikai ar pārziņa "
     "iepriekšēju vispārēju rakstisku atļauju, informē pārzini par plānotajām izmaiņām, pirms "
     "jaunais apakšapstrādātājs sāk datu apstrādi, lai pārzinis varētu iebilst, ar līgumu "
     "uzliek katram apakšapstrādātājam tādus pašus datu aizsardzības pienākumus un paliek "
     "pilnībā atbildīgs par to izpildi, kā noteikts 11. punktā (Apakšapstrādātāji)."),
    ("Normal",
     "**e) Palīdzība saistībā ar datu subjektu tiesībām.** Ņemot vērā apstrādes raksturu, "
     "apstrādātājs ar atbilstīgiem tehniskiem un organizatoriskiem pasākumiem, ciktāl tas ir "
     "iespējams, palīdz pārzinim izpildīt pienākumu atbildēt uz datu subjektu pieprasījumiem "
     "īstenot Regulas III nodaļā noteiktās tiesības, tostarp tiesības saņemt informāciju (13. un "
     "14. pants), piekļūt datiem, labot un dzēst tos, ierobežot apstrādi, tiesības uz datu "
     "pārnesamību un tiesības iebilst, kā arī tiesības, lai uz datu subjektu neattiektos "
     "lēmums, kas balstīts tikai uz automatizētu apstrādi (22. pants). Ja Pakalpojuma funkcijas "
     "ļauj pārzinim pašam atrast, labot, eksportēt vai dzēst ierakstus, pārzinis tās izmanto; "
     "ja ar to nepietiek, apstrādātājs pēc pieprasījuma sniedz papildu palīdzību. Ja datu subjekts "
     "saistībā ar pārziņa personas datiem vēršas tieši pie apstrādātāja, apstrādātājs bez "
     "nepamatotas kavēšanās pārsūta pieprasījumu pārzinim un pats uz to neatbild, ja vien "
     "pārzinis to nav atļāvis."),
    ("Normal",
     "**f) Palīdzība saistībā ar Regulas 32.–36. pantu.** Ņemot vērā apstrādes raksturu un "
     "apstrādātāja rīcībā esošo informāciju, apstrādātājs palīdz pārzinim nodrošināt, ka tiek "
     "izpildīti pienākumi attiecībā uz apstrādes drošību (32. pants), paziņošanu uzraudzības "
     "iestādei par personas datu aizsardzības pārkāpumu un datu subjekta informēšanu par to "
     "(33. un 34. pants), novērtējumu par ietekmi uz datu aizsardzību (35. pants) un iepriekšēju "
     "apspriešanos ar uzraudzības iestādi (36. pants). Novērtējumam par ietekmi uz datu "
     "aizsardzību apstrādātājs pēc pieprasījuma sniedz savu apstrādes darbību aprakstu, "
     "II pielikumā minētos pasākumus, ziņas par apakšapstrādātājiem un datu nosūtīšanu, kā arī "
     "to savu risku novērtējumu rezultātus, kas attiecas uz Pakalpojumu."),
    ("Normal",
     "**Palīdzības izmaksas.** Palīdzību saskaņā ar e) un f) apakšpunktu, ko nodrošina "
     "Pakalpojuma standarta funkcijas, palīdzību personas datu aizsardzības pārkāpuma gadījumā "
     "un palīdzību, kas vajadzīga tādēļ, ka apstrādātājs ir pārkāpis šo Līgumu, apstrādātājs "
     "sniedz bez maksas. Par citu palīdzību, kas prasa ievērojamu darbu, apstrādātājs var prasīt "
     "samērīgu atlīdzību, par kuru tas pārzini iepriekš informējis; palīdzības sniegšanu "
     "neaptur, kamēr atlīdzība tiek saskaņota."),
    ("Normal",
     "**g) Dzēšana vai atdošana pēc apstrādes beigām.** Pārzinis var eksportēt savus datus no "
     "Pakalpojuma jebkurā laikā, līdz pamatlīgums izbeidzas. Pēc pārziņa izvēles apstrādātājs "
     "pārziņa personas datus dzēš vai atdod pārzinim un dzēš atlikušās kopijas, ja vien "
     "Savienības vai dalībvalsts tiesību akti neprasa datus glabāt; par šādu prasību "
     "apstrādātājs informē pārzini. Pārzinis izvēlas datu atdošanu, rakstiski to pieprasot ne "
     "vēlāk kā pamatlīguma izbeigšanās dienā; tad apstrādātājs atdod datus plaši izmantotā "
     "mašīnlasāmā formātā (ierakstus CSV formātā, dokumentus to sākotnējā formātā). Ja šāds "
     "pieprasījums nav saņemts, datus dzēš. Apstrādātājs atdod datus un dzēš tos no savām "
     "aktīvajām sistēmām {{ terms.return_deletion.gen }} laikā pēc pamatlīguma izbeigšanās. "
     "Rezerves kopijās esošos datus dzēš, kad beidzas šo kopiju glabāšanas termiņš, – ne vēlāk "
     "kā {{ processor.security.backup_retention.gen }} laikā pēc kopijas izveides (II pielikuma "
     "II.4. sadaļa); līdz tam kopijas glabā šifrētas, izmanto tikai sistēmu atjaunošanai, un uz "
     "tām attiecas šis Līgums. Kad dzēšana, ieskaitot rezerves kopijas, ir pabeigta, "
     "apstrādātājs to rakstiski apliecina pārzinim."),
    ("Normal",
     "**h) Revīzijas un informācija.** Apstrādātājs dara pārzinim pieejamu visu informāciju, kas "
     "vajadzīga, lai apliecinātu Regulas 28. pantā un šajā Līgumā noteikto pienākumu izpildi, un "
     "ļauj veikt un veicina revīzijas, tostarp pārbaudes, ko veic pārzinis vai cits pārziņa "
     "pilnvarots neatkarīgs revidents, saprātīgos intervālos vai tad, ja ir pazīmes, ka "
     "pienākumi netiek pildīti. Lemjot par revīziju, pārzinis var ņemt vērā attiecīgus "
     "sertifikātus un revīziju ziņojumus. Pārzinis par revīziju rakstiski paziņo vismaz "
     "{{ terms.audit_notice.acc }} iepriekš, ja vien īsāks termiņš nav vajadzīgs personas datu "
     "aizsardzības pārkāpuma, pazīmju par pienākumu nepildīšanu vai uzraudzības iestādes "
     "pieprasījuma dēļ. Vispirms apstrādātājs sniedz dokumentāciju: atbildes uz aptaujām, savu "
     "pasākumu aprakstus un savu apakšapstrādātāju un mitināšanas pakalpojumu sniedzēju "
     "sertifikātus un revīziju ziņojumus. Ja pārzinis uzskata, ka ar šo dokumentāciju "
     "nepietiek, vai ja ir pazīmes, ka pienākumi netiek pildīti, notiek pārbaude; ja šādu "
     "pazīmju nav, pārbaudes notiek ne biežāk kā reizi gadā. Pārbaudes notiek darba laikā, "
     "netraucējot Pakalpojuma darbību vairāk, nekā nepieciešams, un bez piekļuves citu klientu "
     "datiem, un revidentiem ir konfidencialitātes pienākums. Katra puse sedz savas izmaksas, ja "
     "vien revīzijā netiek konstatēts būtisks apstrādātāja pieļauts šī Līguma pārkāpums; tādā "
     "gadījumā apstrādātājs sedz revīzijas saprātīgās izmaksas. Puses pēc pieprasījuma dara "
     "šajā apakšpunktā minēto informāciju, tostarp revīziju rezultātus, pieejamu kompetentajai "
     "uzraudzības iestādei, un apstrādātājs sadarbojas ar uzraudzības iestādēm, kā to paredz "
     "Regulas 31. pants. Apstrādātājs nekavējoties informē pārzini, ja, tā ieskatā, kāds "
     "norādījums pārkāpj datu aizsardzības normatīvos aktus (sk. šī punkta a) apakšpunktu)."),

    # 7. Pārkāpumi ------------------------------------------------------------------
    ("Heading 1", "7. Paziņošana par personas datu aizsardzības pārkāpumu"),
    ("Normal",
     "7.1. Apstrādātājs paziņo pārzinim par katru personas datu aizsardzības pārkāpumu, kas skar "
     "pārziņa personas datus, bez nepamatotas kavēšanās un jebkurā gadījumā ne vēlāk kā "
     "{{ terms.breach_notice.gen }} laikā pēc tam, kad tas kļuvis apstrādātājam zināms. "
     "Paziņojumu nosūta pa e-pastu pārziņa kontaktpersonām, kas norādītas I pielikumā."),
    ("Normal", "7.2. Paziņojumā, ciktāl informācija ir pieejama, norāda:"),
    ("List Bullet",
     "pārkāpuma raksturu, tostarp, ja iespējams, attiecīgo datu subjektu kategorijas un aptuveno "
     "skaitu, kā arī attiecīgo personas datu ierakstu kategorijas un aptuveno skaitu;"),
    ("List Bullet",
     "apstrādātāja kontaktpunktu, kurā var saņemt vairāk informācijas, un tā kontaktinformāciju;"),
    ("List Bullet", "pārkāpuma iespējamās sekas;"),
    ("List Bullet",
     "pasākumus, ko apstrādātājs veicis vai ierosina veikt, lai novērstu pārkāpumu, tostarp "
     "pasākumus tā iespējamo nelabvēlīgo seku mazināšanai."),
    ("Normal",
     "7.3. Ja visu informāciju nav iespējams sniegt vienlaikus, apstrādātājs to sniedz pa "
     "posmiem bez turpmākas nepamatotas kavēšanās. Apstrādātājs informē pārzini par notikumu "
     "gaitu, veic saprātīgus pasākumus, lai pārkāpumu ierobežotu un novērstu tā atkārtošanos, "
     "un palīdz pārzinim paziņot par pārkāpumu kompetentajai uzraudzības iestādei un, ja "
     "nepieciešams, datu subjektiem. {% if controller.supervisory_authority %}Pārzinim "
     "kompetentā uzraudzības iestāde ir {{ controller.supervisory_authority.name }}. "
     "{% endif %}Lēmumu par šiem paziņojumiem pieņem un paziņojumus sniedz pārzinis."),
    ("Normal",
     "7.4. Paziņojums par pārkāpumu nav uzskatāms par apstrādātāja vainas vai atbildības "
     "atzīšanu."),

    # 8. Nosūtīšana ------------------------------------------------------------------
    ("Heading 1", "8. Nosūtīšana uz trešām valstīm"),
    ("Normal",
     "8.1. Pārziņa personas dati tiek apstrādāti trešā valstī tikai tad, ja tos tur apstrādā "
     "kāds no III pielikumā norādītajiem apakšapstrādātājiem, kā tas redzams šajā pielikumā. "
     "Apstrādātājs nosūta pārziņa personas datus uz trešo valsti tikai saskaņā ar pārziņa "
     "dokumentētiem norādījumiem, kas ietver 11. punktā atļauto apakšapstrādātāju piesaisti, un "
     "tikai tad, ja ir izpildīti Regulas V nodaļas nosacījumi."),
    ("Normal",
     "8.2. **Nosūtīšanas mehānismu secība.** Katra nosūtīšana uz trešo valsti balstās uz vienu "
     "nosūtīšanas mehānismu, ko nosaka šādā secībā: 1) Eiropas Komisijas lēmums par "
     "aizsardzības līmeņa pietiekamību saskaņā ar Regulas 45. pantu attiecībā uz galamērķa "
     "valsti, tostarp saņēmējam Amerikas Savienotajās Valstīs – tā sertifikācija saskaņā ar ES "
     "un ASV datu privātuma regulējumu, uz kuru attiecas Komisijas 2023. gada 10. jūlija "
     "Īstenošanas lēmums (ES) 2023/1795; 2) ja lēmums par aizsardzības līmeņa pietiekamību nav "
     "piemērojams, – līguma standartklauzulas, 3. modulis (nosūtīšana no apstrādātāja "
     "apstrādātājam), kopā ar papildu pasākumiem, kuru nepieciešamību parāda galamērķa valsts "
     "tiesību aktu un prakses novērtējums. Iepriekš kā rezerves mehānisms noslēgtās līguma "
     "standartklauzulas piemēro tikai no brīža, kad iepriekšējais mehānisms vairs nav "
     "piemērojams, piemēram, tāpēc, ka lēmums par aizsardzības līmeņa pietiekamību ir atcelts "
     "vai atzīts par spēkā neesošu vai saņēmēja sertifikācija ir beigusies. Pārziņa personas "
     "datu nosūtīšanai apstrādātājs neizmanto Regulas 49. pantā paredzētās atkāpes."),
    ("TAG", "{%p if subprocessors.has_transfers %}"),
    ("Normal",
     "8.3. Saskaņā ar apakšapstrādātāju saraksta {{ subprocessors.version }}. versiju pārziņa "
     "personas datus trešā valstī apstrādā šādi apakšapstrādātāji: "
     "{% for e in subprocessors.entries if not e.in_eea %}{{ e.name }} ({{ e.location }}){% if not loop.last %}; {% endif %}{% endfor %}. "
     "Katram no tiem III pielikumā ir norādīta līgumslēdzēja sabiedrība, apstrādes vieta, "
     "nosūtīšanas mehānismi 8.2. punktā noteiktajā secībā un piemērojamie papildu pasākumi."),
    ("TAG", "{%p else %}"),
    ("Normal",
     "8.3. Saskaņā ar apakšapstrādātāju saraksta {{ subprocessors.version }}. versiju visi "
     "apakšapstrādātāji apstrādā pārziņa personas datus EEZ, tāpēc nosūtīšana uz trešo valsti "
     "nenotiek."),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "8.4. **Tālāka nosūtīšana.** Ja EEZ reģistrēts apakšapstrādātājs nosūta datus savai "
     "saistītajai sabiedrībai vai savam apakšapstrādātājam trešā valstī, par nosūtīšanas "
     "mehānismu atbild šis apakšapstrādātājs saskaņā ar savu līgumu ar apstrādātāju, kas paredz "
     "to pašu mehānismu secību; III pielikumā šāda nosūtīšana ir norādīta kā tālāka "
     "nosūtīšana."),
    ("Normal",
     "8.5. Pēc pieprasījuma apstrādātājs izsniedz pārzinim noslēgto līguma standartklauzulu "
     "kopiju, no kuras var būt izņemta komerciāla informācija. Ja nosūtīšanas mehānisms zaudē "
     "spēku un nākamais mehānisms secībā nav piemērojams, apstrādātājs bez nepamatotas "
     "kavēšanās informē pārzini un pārtrauc nosūtīšanu; pārzinis tad var izmantot 11.3. punktā "
     "noteiktās tiesības."),

    # 9.–11. Klauzulas (apakšdokumenti) ----------------------------------------------
    ("TAG", "{{p confidentiality_clause }}"),
    ("TAG", "{{p security_clause }}"),
    ("TAG", "{{p subprocessors_clause }}"),

    # 12. Pārzinis ---------------------------------------------------------------------
    ("Heading 1", "12. Pārziņa pienākumi"),
    ("Normal",
     "12.1. Pārzinis atbild par tā uzdotās apstrādes likumīgumu, jo īpaši par to, lai tam būtu "
     "tiesisks pamats personas datiem, ko tas ievada Pakalpojumā vai vāc ar tā palīdzību, un "
     "par datu subjektu informēšanu saskaņā ar Regulas 13. un 14. pantu."),
    ("Normal",
     "12.2. Pārziņa norādījumiem jāatbilst datu aizsardzības normatīvajiem aktiem. Pārzinis "
     "pārvalda pārziņa personas datu glabāšanu un dzēšanu savā darbvietā un izlemj, kuriem tā "
     "organizācijā ir piekļuve šiem datiem."),

    # 13. Atbildība ---------------------------------------------------------------------
    ("Heading 1", "13. Atbildība"),
    ("Normal",
     "13.1. Katra puse ir atbildīga par zaudējumiem, kas radušies apstrādē, kura pārkāpj datu "
     "aizsardzības normatīvos aktus vai šo Līgumu, kā paredzēts Regulas 82. pantā."),
    ("Normal",
     "13.2. Starp pusēm pamatlīgumā noteiktie atbildības ierobežojumi un izņēmumi attiecas uz "
     "prasījumiem saskaņā ar šo Līgumu, tostarp uz prasījumiem par apakšapstrādātāju darbībām "
     "(11.8. punkts), izņemot gadījumus, kad tiesību akti neļauj atbildību ierobežot. Nekas šajā "
     "Līgumā neierobežo datu subjektu tiesības vai pušu atbildību pret datu subjektiem."),
    ("Normal",
     "13.3. Ja viena puse ir pilnībā atlīdzinājusi zaudējumus, par kuriem atbildīga ir arī otra "
     "puse, tā var prasīt no otras puses to atlīdzības daļu, kas atbilst otras puses atbildības "
     "daļai (Regulas 82. panta 5. punkts)."),

    # 14. Termiņš ------------------------------------------------------------------------
    ("Heading 1", "14. Spēkā stāšanās, darbības termiņš un izbeigšana"),
    ("Normal",
     "14.1. Līgums attiecas uz visu pārziņa personas datu apstrādi saskaņā ar pamatlīgumu no "
     "Līguma sākumā norādītā spēkā stāšanās datuma, t. i., no dienas, kurā stājās spēkā "
     "pamatlīgums, tostarp uz apstrādi, kas notikusi pirms Līguma parakstīšanas, izņemot "
     "laikposmu, uz kuru attiecās kāda agrāk parakstīta šī Līguma versija. Līgums ir spēkā, "
     "kamēr ir spēkā pamatlīgums, un pēc tam – līdz visi pārziņa personas dati ir atdoti vai "
     "dzēsti saskaņā ar 6. punkta g) apakšpunktu."),
    ("Normal",
     "14.2. Ja apstrādātājs pārkāpj šajā Līgumā noteiktos pienākumus, pārzinis var uzdot "
     "apstrādātājam apturēt apstrādi, līdz apstrādātājs pienākumus izpilda vai Līgums tiek "
     "izbeigts. Apstrādātājs nekavējoties informē pārzini, ja tas jebkāda iemesla dēļ nespēj "
     "izpildīt šo Līgumu."),
    ("Normal",
     "14.3. Pārzinis var izbeigt šo Līgumu attiecībā uz pārziņa personas datu apstrādi un, ja "
     "Pakalpojumu bez šīs apstrādes nav iespējams sniegt, arī pamatlīgumu, ja: 1) apstrāde ir "
     "apturēta saskaņā ar 14.2. punktu un Līguma izpilde nav atjaunota saprātīgā termiņā, bet "
     "jebkurā gadījumā viena mēneša laikā pēc apturēšanas; 2) apstrādātājs būtiski vai "
     "atkārtoti pārkāpj šo Līgumu vai savus pienākumus saskaņā ar Regulu; vai 3) apstrādātājs "
     "nepilda kompetentas tiesas vai kompetentās uzraudzības iestādes saistošu nolēmumu par "
     "saviem pienākumiem saskaņā ar šo Līgumu vai Regulu."),
    ("Normal",
     "14.4. Apstrādātājs var izbeigt šo Līgumu attiecībā uz apstrādi saskaņā ar to un, ja "
     "Pakalpojumu bez šīs apstrādes nav iespējams sniegt, arī pamatlīgumu, ja pārzinis uzstāj "
     "uz norādījuma izpildi pēc tam, kad apstrādātājs saskaņā ar 6. punkta a) apakšpunktu to "
     "ir informējis, ka šis norādījums pārkāpj datu aizsardzības normatīvos aktus."),
    ("Normal",
     "14.5. Izbeigšana saskaņā ar šo punktu notiek bez līgumsoda. Pēc izbeigšanas apstrādātājs "
     "atdod vai dzēš pārziņa personas datus saskaņā ar 6. punkta g) apakšpunktu un rakstiski "
     "apliecina dzēšanu."),
    ("Normal",
     "14.6. Vēlāka šī Līguma versija, ko parakstījušas abas puses, aizstāj šo versiju no dienas, "
     "kad tā ir pabeigta. Noteikumi, kas pēc būtības ir paredzēti piemērošanai arī turpmāk, jo "
     "īpaši noteikumi par konfidencialitāti, dzēšanu vai atdošanu un atbildību, ir spēkā arī "
     "pēc Līguma izbeigšanās."),

    # 15. Prioritāte ------------------------------------------------------------------------
    ("Heading 1", "15. Noteikumu prioritāte un citi noteikumi"),
    ("Normal",
     "15.1. **Prioritāte.** Datu aizsardzības jautājumos šim Līgumam (ieskaitot tā pielikumus) "
     "ir prioritāte pār pamatlīgumu un jebkuru citu pušu līgumu. Ja ir piemērojamas līguma "
     "standartklauzulas, pretrunu gadījumā noteicošās ir tās."),
    ("Normal",
     "15.2. **Paziņojumi.** Paziņojumus saskaņā ar šo Līgumu sniedz rakstiski, tostarp pa "
     "e-pastu, I pielikuma A daļā norādītajām kontaktpersonām vai citām kontaktpersonām, par "
     "kurām puse paziņo vēlāk."),
    ("Normal",
     "15.3. **Spēkā neesoši noteikumi.** Ja kāds šī Līguma noteikums ir spēkā neesošs vai "
     "neizpildāms, pārējie noteikumi paliek spēkā, un puses aizstāj šo noteikumu ar spēkā esošu "
     "noteikumu, kas iespējami tuvāk atbilst tā mērķim. Ja kāds noteikums nav pilnīgs, puses to "
     "piemēro tā, lai vislabāk izpildītu Regulas 28. panta prasības."),
    ("Normal",
     "15.4. **Elektroniskais paraksts.** Puses vienojas, ka šo Līgumu var parakstīt "
     "elektroniski un ka elektroniskais paraksts pusēm ir tikpat saistošs kā paraksts ar roku."),
    ("TAG", "{%p if agreement.bilingual %}"),
    ("Normal",
     "15.5. **Valoda.** Šis Līgums ir sagatavots latviešu un angļu valodā, un abi teksti veido "
     "vienu līgumu. Ja starp tiem ir atšķirības, noteicošais ir teksts "
     "{% if agreement.prevailing_language == \"en\" %}angļu{% else %}latviešu{% endif %} "
     "valodā."),
    ("TAG", "{%p else %}"),
    ("Normal", "15.5. **Valoda.** Šis Līgums ir sagatavots latviešu valodā."),
    ("TAG", "{%p endif %}"),

    # 16. Tiesības -------------------------------------------------------------------------------
    ("Heading 1", "16. Piemērojamie tiesību akti un strīdu izskatīšana"),
    ("Normal", "16.1. Šim Līgumam ir piemērojami Latvijas Republikas normatīvie akti."),
    ("Normal",
     "16.2. Strīdus, kas izriet no šī Līguma vai ir saistīti ar to, izskata tikai Latvijas "
     "Republikas vispārējās jurisdikcijas tiesās Rīgā. Tas neietekmē datu subjektu tiesības "
     "vērsties citās tiesās, kā arī līguma standartklauzulu noteikumus par piemērojamiem "
     "tiesību aktiem un jurisdikciju."),

    # 17. Paraksti ----------------------------------------------------------------------------
    *LV_SIGNATURES,

    # I pielikums -----------------------------------------------------------------------------
    ("ANNEX", "I pielikums. Puses un apstrādes apraksts"),
    ("Heading 2", "A daļa. Puses"),
    ("Heading 3", "Pārzinis"),
    ("Normal", "**Nosaukums:** {{ controller.legal_name }}"),
    ("Normal", "**Reģistrācijas numurs:** {{ controller.registration_number }}"),
    ("TAG", "{%p if controller.vat_number %}"),
    ("Normal", "**PVN maksātāja numurs:** {{ controller.vat_number }}"),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "**Adrese:** {{ controller.address.street }}, {{ controller.address.city }}, "
     "{{ controller.address.postal_code }}, {{ controller.address.country_name }}"),
    ("Normal", "**Valsts:** {{ controller.address.country_name }}"),
    ("Normal",
     "**Parakstītājs un kontaktpersona:** {{ controller.signatory.name }}, "
     "{{ controller.signatory.title }}"),
    ("Normal", "**E-pasts:** {{ controller.signatory.email }}"),
    ("TAG", "{%p if controller.dpo %}"),
    ("Normal",
     "**Datu aizsardzības speciālists:** {{ controller.dpo.name }}, {{ controller.dpo.email }}"),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "**Kompetentā uzraudzības iestāde:** {% if controller.supervisory_authority %}"
     "{{ controller.supervisory_authority.name }}{% else %}uzraudzības iestāde, kas ir "
     "kompetenta saskaņā ar Regulas 55. un 56. pantu{% endif %}"),
    ("Normal",
     "**Loma:** pārzinis. Pārzinis izmanto Pakalpojumu sava uzņēmuma darbībai un attiecību "
     "pārvaldībai ar klientiem un citām kontaktpersonām."),
    ("Heading 3", "Apstrādātājs"),
    ("Normal",
     "**Nosaukums:** {{ processor.legal_name }} (zīmols {{ processor.trade_name }})"),
    ("Normal", "**Reģistrācijas numurs:** {{ processor.registration_number }}"),
    ("Normal", "**Juridiskā adrese:** {{ processor.address.line }}"),
    ("Normal", "**Valsts:** {{ processor.address.country_name }}"),
    ("Normal",
     "**Kontaktpersona datu aizsardzības jautājumos:** {{ processor.privacy_contact }}, "
     "{{ processor.privacy_email }}"),
    ("Normal",
     "**Parakstītājs:** {% if processor.signatory.name %}{{ processor.signatory.name }}, "
     "{% endif %}{{ processor.signatory.title }}"),
    ("Normal",
     "**Loma:** apstrādātājs. Apstrādātājs sniedz Pakalpojumu un apstrādā pārziņa personas datus "
     "pārziņa vārdā."),

    ("Heading 2", "B daļa. Apstrādes apraksts"),
    ("Normal",
     "**Apstrādes priekšmets:** Pakalpojuma sniegšana saskaņā ar pamatlīgumu (3.1. punkts)."),
    ("Normal",
     "**Ilgums:** pamatlīguma darbības laiks un pēc tam – līdz datu atdošanai vai dzēšanai "
     "(3.2. punkts un 6. punkta g) apakšpunkts)."),
    ("Normal", "**Biežums:** apstrāde notiek nepārtraukti visu šo laiku."),
    ("Normal",
     "**Apstrādes raksturs:** personas datu glabāšana, organizēšana, strukturēšana, atgūšana, "
     "attēlošana, atjaunināšana, eksportēšana un nosūtīšana pārziņa izvēlētām personām, "
     "rezerves kopiju veidošana un datu atjaunošana no tām, kā arī datu dzēšana."),
    ("TAG", "{%p if processing.operations %}"),
    ("Normal", "Attiecībā uz pārziņa izmantotajām funkcijām apstrāde ietver arī:"),
    ("TAG", "{%p for o in processing.operations %}"),
    ("List Bullet", "{{ o }}"),
    ("TAG", "{%p endfor %}"),
    ("TAG", "{%p endif %}"),
    ("Normal", "**Apstrādes nolūki:** pārziņa personas datus apstrādā tikai šādiem nolūkiem:"),
    ("TAG", "{%p for p in processing.purposes %}"),
    ("List Bullet", "{{ p }};"),
    ("TAG", "{%p endfor %}"),
    ("List Bullet", "pārziņa pieprasītā atbalsta sniegšana; un"),
    ("List Bullet",
     "Pakalpojuma drošības un pieejamības nodrošināšana, tostarp rezerves kopijas un "
     "ļaunprātīgas izmantošanas novēršana."),
    ("Normal",
     "**Personas datu veidi:** atbilstoši Pakalpojuma funkcijām, kuras izmanto pārzinis, tiek "
     "apstrādāti šādi personas datu veidi:"),
    ("TAG", "{%p for c in processing.data_categories %}"),
    ("List Bullet", "**{{ c.label }}**: {{ c.description }}"),
    ("TAG", "{%p else %}"),
    ("List Bullet",
     "Personas dati, kurus pārzinis vai tā lietotāji ievada Pakalpojumā vai vāc ar tā "
     "palīdzību."),
    ("TAG", "{%p endfor %}"),
    ("Normal", "**Īpašu kategoriju personas dati:** sk. 5. punktu."),
    ("Normal",
     "**Datu subjektu kategorijas:** personas dati attiecas uz šādām datu subjektu kategorijām, "
     "kuras izvēlējies pārzinis vai kuras izriet no tā izmantotajām funkcijām:"),
    ("TAG", "{%p for s in processing.data_subjects %}"),
    ("List Bullet", "{{ s.label }}"),
    ("TAG", "{%p else %}"),
    ("List Bullet",
     "Personas, kuru datus pārzinis vai tā lietotāji ievada Pakalpojumā vai vāc ar tā "
     "palīdzību."),
    ("TAG", "{%p endfor %}"),
    ("Normal",
     "**Glabāšana:** pārzinis pārvalda datu glabāšanu savā darbvietā (12.2. punkts); pēc "
     "pamatlīguma izbeigšanās datus atdod vai dzēš saskaņā ar 6. punkta g) apakšpunktu, un "
     "rezerves kopiju glabāšanas termiņš beidzas, kā norādīts II pielikumā."),
    ("Normal",
     "**Apakšapstrādātāji:** III pielikumā norādītie apakšapstrādātāji, katrs tur norādītajam "
     "nolūkam."),
    ("TAG", "{#p annexes #}"),
]


# ===========================================================================
# The template sets
# ===========================================================================

SUBPROCESSOR_TABLE_ROW = [
    "{{ e.name }}",
    "{{ e.purpose }}",
    "{{ e.location }}",
    "{{ e.transfer_safeguard }}",
]
SUBPROCESSOR_TABLE_WIDTHS = [Cm(3.6), Cm(5.0), Cm(3.4), Cm(5.0)]
SUBPROCESSOR_TABLE_HEADERS = {"en": EN_SUBPROCESSOR_TABLE_HEADER, "lv": LV_SUBPROCESSOR_TABLE_HEADER}
FOOTERS = {"en": (EN_FOOTER, "page", "of"), "lv": (LV_FOOTER, "lapa", "no")}
LANGUAGE_TAGS = {"en": "en-GB", "lv": "lv-LV"}
OUT_DIRS = {"en": ".", "lv": "lv"}

DOCUMENTS: dict[str, dict[str, tuple[str, str, list[Block]]]] = {
    # language: {file name: (core title, core subject, blocks)}
    "en": {
        "master.docx": (
            "Data Processing Agreement",
            "GDPR Article 28 data processing agreement between the controller and Klusaro",
            EN_MASTER,
        ),
        "confidentiality.docx": (
            "Data Processing Agreement — Confidentiality clause",
            "Confidentiality of customer personal data and personnel",
            EN_CONFIDENTIALITY,
        ),
        "security.docx": (
            "Data Processing Agreement — Security of processing and Annex II",
            "Technical and organisational security measures (Article 32 GDPR)",
            EN_SECURITY,
        ),
        "subprocessors.docx": (
            "Data Processing Agreement — Subprocessors clause and Annex III",
            "Subprocessor authorisation, approved list and international transfers",
            EN_SUBPROCESSORS,
        ),
    },
    "lv": {
        "master.docx": (
            "Personas datu apstrādes līgums",
            "Līgums par personas datu apstrādi saskaņā ar Regulas 28. pantu starp pārzini un "
            "Klusaro",
            LV_MASTER,
        ),
        "confidentiality.docx": (
            "Personas datu apstrādes līgums — Konfidencialitāte",
            "Pārziņa personas datu konfidencialitāte un personāls",
            LV_CONFIDENTIALITY,
        ),
        "security.docx": (
            "Personas datu apstrādes līgums — Apstrādes drošība un II pielikums",
            "Tehniskie un organizatoriskie drošības pasākumi (Regulas 32. pants)",
            LV_SECURITY,
        ),
        "subprocessors.docx": (
            "Personas datu apstrādes līgums — Apakšapstrādātāji un III pielikums",
            "Apakšapstrādātāju piesaiste, apstiprinātais saraksts un nosūtīšana uz trešām valstīm",
            LV_SUBPROCESSORS,
        ),
    },
}


# ---------------------------------------------------------------------------
# DOCX construction helpers
# ---------------------------------------------------------------------------

_BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
_THEME_ATTRS = ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")


def _segments(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into (segment, bold) pieces on ``**`` markers."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _BOLD_RE.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], False))
        out.append((m.group(1), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def _check_tags_not_split(text: str) -> None:
    for seg, _bold in _segments(text):
        for opener, closer in (("{{", "}}"), ("{%", "%}"), ("{#", "#}")):
            if seg.count(opener) != seg.count(closer):
                raise ValueError(f"Jinja tag split across runs in: {text!r}")


def _set_rfonts(rpr, name: str = FONT_NAME) -> None:
    """Give an ``w:rPr`` explicit fonts (removing theme font references)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in _THEME_ATTRS:
        key = qn(f"w:{attr}")
        if key in rfonts.attrib:
            del rfonts.attrib[key]
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        rfonts.set(qn(f"w:{attr}"), name)


def _set_color_black(rpr) -> None:
    color = rpr.find(qn("w:color"))
    if color is not None:
        for attr in ("themeColor", "themeShade", "themeTint"):
            key = qn(f"w:{attr}")
            if key in color.attrib:
                del color.attrib[key]
        color.set(qn("w:val"), "000000")


def _configure_styles(doc, language: str) -> None:
    styles_el = doc.styles.element

    # Document defaults: font, size, language, spacing.
    rpr_default = styles_el.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    _set_rfonts(rpr_default)
    for tag in ("w:sz", "w:szCs"):
        el = rpr_default.find(qn(tag))
        if el is not None:
            el.set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), LANGUAGE_TAGS[language])
    ppr_default = styles_el.find(f"{qn('w:docDefaults')}/{qn('w:pPrDefault')}/{qn('w:pPr')}")
    spacing = ppr_default.find(qn("w:spacing"))
    if spacing is not None:
        spacing.set(qn("w:after"), "100")
        spacing.set(qn("w:line"), "264")

    # Every style: explicit fonts, no theme colours.
    for style_el in styles_el.findall(qn("w:style")):
        rpr = style_el.find(qn("w:rPr"))
        if rpr is None:
            continue
        if rpr.find(qn("w:rFonts")) is not None:
            _set_rfonts(rpr)
        _set_color_black(rpr)

    normal = doc.styles["Normal"]
    normal.font.name = FONT_NAME
    normal.font.size = BODY_SIZE
    _set_rfonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after = Pt(5)
    normal.paragraph_format.line_spacing = 1.1

    title = doc.styles["Title"]
    title.font.size = Pt(20)
    title.font.bold = True
    title.paragraph_format.space_after = Pt(10)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    border = title.element.pPr.find(qn("w:pBdr"))
    if border is not None:
        for side in border:
            for attr in ("themeColor", "themeShade", "themeTint"):
                key = qn(f"w:{attr}")
                if key in side.attrib:
                    del side.attrib[key]
            side.set(qn("w:color"), "000000")

    for name, size, before, after in (
        ("Heading 1", 13, 14, 5),
        ("Heading 2", 11.5, 10, 4),
        ("Heading 3", 10.5, 8, 3),
    ):
        st = doc.styles[name]
        st.font.size = Pt(size)
        st.font.bold = True
        st.font.italic = False
        st.font.color.rgb = RGBColor(0, 0, 0)
        st.paragraph_format.space_before = Pt(before)
        st.paragraph_format.space_after = Pt(after)
        st.paragraph_format.keep_with_next = True

    bullet = doc.styles["List Bullet"]
    bullet.paragraph_format.space_after = Pt(3)


def _configure_font_table(doc) -> None:
    """Declare Liberation Serif with DejaVu Serif as its alternative name."""
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/word/fontTable.xml":
            xml = part.blob.decode("utf-8")
            entry = (
                f'<w:font w:name="{FONT_NAME}"><w:altName w:val="{FALLBACK_FONT}"/>'
                '<w:charset w:val="00"/><w:family w:val="roman"/>'
                '<w:pitch w:val="variable"/></w:font>'
                f'<w:font w:name="{FALLBACK_FONT}"><w:charset w:val="00"/>'
                '<w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
            )
            if f'w:name="{FONT_NAME}"' not in xml:
                xml = xml.replace("</w:fonts>", entry + "</w:fonts>")
            part._blob = xml.encode("utf-8")  # generic Part: the blob is the content


def _configure_bullets(doc) -> None:
    """Use a plain "•" in the document font for bullets instead of the Symbol-font
    private-use glyph, so that bullets survive PDF text extraction."""
    numbering = doc.part.numbering_part.element
    for lvl in numbering.iter(qn("w:lvl")):
        text = lvl.find(qn("w:lvlText"))
        if text is None or text.get(qn("w:val")) != "\uf0b7":
            continue
        text.set(qn("w:val"), "•")
        rpr = lvl.find(qn("w:rPr"))
        if rpr is not None:
            _set_rfonts(rpr)
            rfonts = rpr.find(qn("w:rFonts"))
            hint = qn("w:hint")
            if hint in rfonts.attrib:
                del rfonts.attrib[hint]


def _configure_page(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Mm(210)
    section.page_height = Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    section.header_distance = Cm(1)
    section.footer_distance = Cm(1)


def _add_field(paragraph, instr: str, placeholder: str) -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = placeholder
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def _configure_footer(doc, language: str) -> None:
    footer_text, page_word, of_word = FOOTERS[language]
    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False
    para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    para.style = doc.styles["Normal"]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.paragraph_format.space_after = Pt(0)
    run = para.add_run(footer_text)  # the whole docxtpl tag set sits in this single run
    run.font.size = Pt(8.5)
    run = para.add_run(f" · {page_word} ")
    run.font.size = Pt(8.5)
    _add_field(para, "PAGE", "1")
    run = para.add_run(f" {of_word} ")
    run.font.size = Pt(8.5)
    _add_field(para, "NUMPAGES", "1")
    # Field results inherit the paragraph's run properties; size them too.
    for r in para._p.iter(qn("w:r")):
        rpr = r.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            r.insert(0, rpr)
        if rpr.find(qn("w:sz")) is None:
            sz = OxmlElement("w:sz")
            sz.set(qn("w:val"), "17")
            rpr.append(sz)


def _add_text(paragraph, text: str) -> None:
    _check_tags_not_split(text)
    for seg, bold in _segments(text):
        run = paragraph.add_run(seg)
        if bold:
            run.bold = True


_CLAUSE_HEADING = re.compile(r"(\d+)\. ")
_ANNEX_HEADING = re.compile(r"(?:Annex (I{1,3})\b|(I{1,3}) pielikums\b)")
_ROMAN = {"I": 1, "II": 2, "III": 3}
SIGNATURE_MARKERS = {
    "SIGNATURE_CONTROLLER": ("dpa_signature_controller", 201),
    "SIGNATURE_PROCESSOR": ("dpa_signature_processor", 202),
}


def _add_bookmark(paragraph, name: str, number: int) -> None:
    """A bookmark around nothing at the start of `paragraph`: it prints nothing, Word keeps it,
    and its ids differ between the templates that are merged into one DPA."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    p_pr = paragraph._p.pPr
    if p_pr is not None:
        p_pr.addnext(start)
    else:
        paragraph._p.insert(0, start)
    start.addnext(end)


def _mark_heading(paragraph, style: str, text: str) -> None:
    if style in SIGNATURE_MARKERS:
        _add_bookmark(paragraph, *SIGNATURE_MARKERS[style])
    elif style == "Heading 1" and (m := _CLAUSE_HEADING.match(text)):
        _add_bookmark(paragraph, f"dpa_clause_{m.group(1)}", int(m.group(1)))
    elif style == "ANNEX" and (m := _ANNEX_HEADING.match(text)):
        roman = m.group(1) or m.group(2)
        _add_bookmark(paragraph, f"dpa_annex_{roman}", 100 + _ROMAN[roman])


def _set_cell_width(cell, width) -> None:
    cell.width = width


def _mark_header_row(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    tr_pr.append(header)
    cant_split = OxmlElement("w:cantSplit")
    tr_pr.append(cant_split)


def _add_subprocessor_table(doc, header_labels: list[str]) -> None:
    table = doc.add_table(rows=4, cols=len(header_labels))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False

    header, loop_start, data, loop_end = table.rows
    _mark_header_row(header)
    for i, label in enumerate(header_labels):
        cell = header.cells[i]
        run = cell.paragraphs[0].add_run(label)
        run.bold = True
        run.font.size = Pt(9.5)
    # docxtpl removes the rows holding {%tr ... %} and repeats the row between them.
    loop_start.cells[0].paragraphs[0].add_run("{%tr for e in subprocessors.entries %}")
    for i, tag in enumerate(SUBPROCESSOR_TABLE_ROW):
        run = data.cells[i].paragraphs[0].add_run(tag)
        run.font.size = Pt(9.5)
    loop_end.cells[0].paragraphs[0].add_run("{%tr endfor %}")
    data._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))

    for row in table.rows:
        for i, width in enumerate(SUBPROCESSOR_TABLE_WIDTHS):
            _set_cell_width(row.cells[i], width)
            for p in row.cells[i].paragraphs:
                p.paragraph_format.space_after = Pt(1)
                p.paragraph_format.line_spacing = 1.0
    # A small gap after the table.
    doc.add_paragraph("", style="Normal").paragraph_format.space_after = Pt(2)


def build_document(title: str, subject: str, blocks: list[Block], language: str):
    doc = Document()
    _configure_styles(doc, language)
    _configure_font_table(doc)
    _configure_bullets(doc)
    _configure_page(doc)
    _configure_footer(doc, language)

    for style, text in blocks:
        if style == "SUBPROCESSOR_TABLE":
            _add_subprocessor_table(doc, SUBPROCESSOR_TABLE_HEADERS[language])
            continue
        if style == "ANNEX":
            para = doc.add_paragraph(style=doc.styles["Heading 1"])
            para.paragraph_format.page_break_before = True
            _mark_heading(para, style, text)
            _add_text(para, text)
            continue
        if style == "TAG":
            # A docxtpl paragraph tag: the whole paragraph is replaced on render.
            para = doc.add_paragraph(style="Normal")
            para.add_run(text)
            continue
        if style in ("SIGN", "KEEP"):
            para = doc.add_paragraph(style="Normal")
            para.paragraph_format.keep_with_next = True
            if style == "SIGN":
                para.paragraph_format.space_after = Pt(6)
            _add_text(para, text)
            continue
        if style in SIGNATURE_MARKERS:
            para = doc.add_paragraph(style=doc.styles["Heading 2"])
        else:
            para = doc.add_paragraph(style=doc.styles[style])
        _mark_heading(para, style, text)
        _add_text(para, text)

    props = doc.core_properties
    props.title = title
    props.subject = subject
    props.author = 'Klusaro (SIA "A.U. Holding")'
    props.last_modified_by = "scripts/build_templates.py"
    props.keywords = "GDPR; Article 28; data processing agreement; docxtpl"
    props.comments = "Built-in dpa-service template. Generated by scripts/build_templates.py."
    props.language = language
    props.category = "Data Processing Agreement template"
    props.revision = 1
    props.created = TEMPLATE_DATE
    props.modified = TEMPLATE_DATE
    props.last_printed = TEMPLATE_DATE
    return doc


def _drop_thumbnail(doc) -> None:
    """Remove python-docx's generic thumbnail image from the package."""
    pkg_rels = doc.part.package.rels
    for rid, rel in list(pkg_rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del pkg_rels[rid]


def _normalised_bytes(doc) -> bytes:
    """Save ``doc`` with fixed zip timestamps so identical content gives identical bytes."""
    raw = io.BytesIO()
    doc.save(raw)
    raw.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, data)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    default_out = Path(__file__).resolve().parent.parent / "templates"
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=default_out, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    for language, documents in DOCUMENTS.items():
        folder = args.out / OUT_DIRS[language]
        folder.mkdir(parents=True, exist_ok=True)
        for filename, (title, subject, blocks) in documents.items():
            doc = build_document(title, subject, blocks, language)
            _drop_thumbnail(doc)
            path = folder / filename
            path.write_bytes(_normalised_bytes(doc))
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

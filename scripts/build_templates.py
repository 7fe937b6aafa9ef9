#!/usr/bin/env python3
"""Build the built-in DPA template set (``templates/*.docx``).

This script is the human-readable source of the built-in templates. Each
document is described as a list of ``(style, text)`` blocks; the script turns
them into DOCX files that use docxtpl (Jinja2) syntax.

Run it with the project interpreter::

    .venv/bin/python scripts/build_templates.py [--out templates]

Conventions used in the block lists below
-----------------------------------------
* ``style`` is a paragraph style of the python-docx default template
  (``Title``, ``Heading 1``, ``Heading 2``, ``Heading 3``, ``Normal``,
  ``List Bullet``), or one of the pseudo styles:

  - ``TAG``  a paragraph that holds nothing but a docxtpl paragraph tag
    (``{%p if ... %}``, ``{%p endfor %}``, ``{{p subdoc }}`` ...);
  - ``SIGN`` a signature-block line (kept together with the next line);
  - ``KEEP`` a ``Normal`` paragraph kept on the same page as the next one;
  - ``SUBPROCESSOR_TABLE`` the approved-subprocessor table (text unused).

* ``**text**`` marks a bold run. Every piece of text between the markers
  becomes exactly one run, so a Jinja tag must never be cut by a ``**``.

Rendering contract: the templates are rendered in a Jinja2
``SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)`` with
the top-level names ``agreement``, ``processor``, ``controller``,
``processing``, ``subprocessors``, ``terms`` and ``signatures``; the master
additionally receives the already rendered clause sub-documents
``confidentiality_clause``, ``security_clause`` and ``subprocessors_clause``.
No other name may be used.

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

FOOTER_TEXT = "Data Processing Agreement · {{ agreement.id }} · version {{ agreement.version }}"


# ---------------------------------------------------------------------------
# Confidentiality clause (templates/confidentiality.docx)
# ---------------------------------------------------------------------------

CONFIDENTIALITY: list[Block] = [
    ("Heading 1", "9. Confidentiality"),
    ("Normal",
     "9.1 The processor keeps the customer personal data confidential. It uses that data only "
     "to perform the main agreement and this DPA and in line with the controller's documented "
     "instructions, and never for its own purposes, for advertising, or to sell or rent it to "
     "anyone."),
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
     "nature of customer personal data, are instructed to process it only as permitted by this "
     "DPA, and receive data protection and security training when they start and at regular "
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
     "this; where it is forbidden, the processor uses reasonable efforts to obtain a waiver;"),
    ("List Bullet",
     "first tries to redirect the requesting party to the controller;"),
    ("List Bullet",
     "examines whether the request is lawful and challenges it where there are reasonable grounds "
     "to consider it unlawful or excessive; and"),
    ("List Bullet",
     "discloses only the minimum amount of data needed to comply with the request."),
    ("Normal",
     "9.7 **Security information.** The controller treats as confidential the non-public "
     "information it receives about the processor's security measures, audits and "
     "subprocessor contracts. It may share that information with its supervisory authority, "
     "with its auditors and advisers who are bound by confidentiality, and where the law "
     "requires."),
    ("Normal",
     "9.8 **Duration.** The obligations in this clause continue after this DPA ends, for as long "
     "as the processor or its personnel hold any customer personal data or confidential "
     "information of the controller."),
]


# ---------------------------------------------------------------------------
# Security clause and Annex II (templates/security.docx)
# ---------------------------------------------------------------------------

SECURITY: list[Block] = [
    ("Heading 1", "10. Security of processing"),
    ("Normal",
     "10.1 As required by Article 32 GDPR, the processor implements and maintains technical and "
     "organisational measures that ensure a level of security appropriate to the risk for the "
     "rights and freedoms of the data subjects. In choosing those measures the processor takes "
     "into account the state of the art, the costs of implementation, and the nature, scope, "
     "context and purposes of the processing."),
    ("Normal",
     "10.2 The measures in place at the date of this DPA are described in Annex II below, which "
     "forms part of this DPA. The processor may adapt and improve the measures as technology and "
     "threats develop, provided that the overall level of protection is never reduced. "
     "Significant changes are documented and the current description is available to the "
     "controller on request."),
    ("Normal",
     "10.3 The controller is responsible for the security of its own side of the Service: "
     "choosing which users have access to its workspace and with which permissions, keeping "
     "credentials secret, using the authentication options offered, and removing access for "
     "people who leave its organisation."),
    ("Normal",
     "10.4 The parties acknowledge that no online service can rule out every security incident. "
     "The processor's duty is to apply the measures set out in this DPA with due care and to deal "
     "with any personal data breach as described in clause 7."),

    ("Heading 2", "Annex II — Technical and organisational security measures"),
    ("Normal",
     "This annex describes the measures the processor applies to customer personal data. They "
     "include every measure listed on the {{ processor.trade_name }} GDPR page: password hashing, "
     "access controls and permissions, workspace isolation, authentication protections, secure "
     "infrastructure providers, monitoring and abuse prevention, and backups and recovery. The "
     "measures are grouped under the headings commonly used by data protection authorities."),

    ("Heading 3", "II.1 Encryption"),
    ("List Bullet",
     "**Encryption in transit:** all connections to the Service, including the web application, "
     "the API, embedded booking forms and customer portals, use TLS (version 1.2 or higher) with "
     "current cipher suites; unencrypted HTTP requests are redirected to HTTPS and HSTS is "
     "enabled."),
    ("List Bullet",
     "**Encryption at rest:** databases, file storage for uploaded documents and backups are "
     "stored on encrypted volumes or in encrypted storage services."),
    ("List Bullet",
     "**Keys and secrets:** encryption keys, API keys and other secrets are kept in access-"
     "restricted secret stores, never in source code, and are rotated when there is a reason to "
     "believe they may have been exposed."),

    ("Heading 3", "II.2 Confidentiality, integrity, availability and resilience"),
    ("List Bullet",
     "**Workspace isolation:** each business customer's data is logically separated in its own "
     "workspace; every request is checked against the workspace of the signed-in user, so one "
     "customer cannot read or change another customer's data."),
    ("List Bullet",
     "**Integrity:** input is validated, database changes run in transactions, and important "
     "changes to records are logged so that unauthorised or accidental changes can be detected."),
    ("List Bullet",
     "**Availability and resilience:** the Service runs on professionally operated "
     "infrastructure with redundant power and network connections; capacity is monitored and "
     "the Service is protected against denial-of-service attacks."),

    ("Heading 3", "II.3 Ability to restore availability and access (backups and recovery)"),
    ("List Bullet",
     "**Backups and recovery:** customer data is backed up automatically and regularly. "
     "Backups are encrypted, stored separately from the production systems, access to them is "
     "restricted, and they expire automatically under a rolling retention schedule."),
    ("List Bullet",
     "**Recovery procedures:** documented procedures exist for restoring the databases and files "
     "after a technical failure, a human error or a security incident."),
    ("List Bullet",
     "**Restore tests:** restoring from backup is tested at regular intervals to confirm that "
     "backups are complete and usable."),

    ("Heading 3", "II.4 Regular testing, assessment and evaluation"),
    ("List Bullet",
     "Software dependencies and systems are scanned for known vulnerabilities, and security "
     "updates are applied within time limits that depend on their severity."),
    ("List Bullet",
     "Changes to the Service are reviewed and tested before they are deployed to production."),
    ("List Bullet",
     "The technical and organisational measures are reviewed at least once a year and after any "
     "significant incident or change, and security testing of the application is carried out "
     "periodically, including by independent testers where appropriate."),

    ("Heading 3", "II.5 User identification and authorisation"),
    ("List Bullet",
     "**Access controls and permissions:** within a workspace, the workspace owner decides which "
     "users have access and assigns roles and permissions that limit what each user can see and "
     "do. On the processor's side, administrative access follows the principle of least "
     "privilege, is granted individually, reviewed regularly and removed promptly when no "
     "longer needed."),
    ("List Bullet",
     "**Authentication protections:** users sign in with individual accounts; sign-in attempts "
     "are rate-limited and suspicious activity is blocked; sessions expire and can be ended; "
     "password reset links are single-use and time-limited. Administrative access to production "
     "systems requires multi-factor authentication."),
    ("List Bullet",
     "**Workspace isolation:** authorisation checks are enforced on the server for every request, "
     "so that access rights always follow the workspace and role of the user."),

    ("Heading 3", "II.6 Protection of data during transmission"),
    ("List Bullet",
     "Data exchanged between users' browsers, the Service and its subprocessors is encrypted "
     "with TLS; internal traffic between services is kept on private networks or encrypted."),
    ("List Bullet",
     "E-mails sent on the controller's behalf are delivered over encrypted connections wherever "
     "the receiving mail server supports them, and links in such e-mails do not carry "
     "passwords."),

    ("Heading 3", "II.7 Protection of data during storage"),
    ("List Bullet",
     "**Password hashing:** user passwords are never stored in readable form. They are protected "
     "with a modern, deliberately slow and salted password-hashing algorithm (such as Argon2id or "
     "bcrypt), so that stored values cannot practically be turned back into passwords."),
    ("List Bullet",
     "Production data is stored only in the systems of the approved subprocessors listed in "
     "Annex III, on encrypted storage, and is never copied to staff laptops or to test "
     "environments."),
    ("List Bullet",
     "Uploaded documents are kept in private storage and can be reached only through "
     "authorised, time-limited links."),

    ("Heading 3", "II.8 Physical security"),
    ("List Bullet",
     "**Secure infrastructure providers:** the processor does not run its own data centres. It "
     "uses professional hosting and cloud providers whose data centres have controlled entry, "
     "round-the-clock surveillance, fire protection, climate control and redundant power, and "
     "which hold recognised security certifications such as ISO/IEC 27001."),
    ("List Bullet",
     "Office devices used by personnel are protected by disk encryption, screen locks and "
     "up-to-date operating systems."),

    ("Heading 3", "II.9 Logging and monitoring"),
    ("List Bullet",
     "**Monitoring and abuse prevention:** the availability, performance and error rates of the "
     "Service are monitored continuously with automatic alerts; automated controls detect and "
     "limit abusive traffic, spam sent through forms, brute-force attempts and other misuse."),
    ("List Bullet",
     "Security-relevant events, such as sign-ins, permission changes and administrative actions, "
     "are logged. Logs are protected against tampering, access to them is restricted, and they "
     "are kept only as long as needed for security purposes."),

    ("Heading 3", "II.10 Incident management"),
    ("List Bullet",
     "A documented incident response procedure defines how security incidents are reported, "
     "assessed, contained, investigated and resolved, and who is responsible at each step."),
    ("List Bullet",
     "Personal data breaches are recorded and reported to the controller as set out in clause 7, "
     "and lessons learned are used to improve the measures."),

    ("Heading 3", "II.11 Data minimisation and retention"),
    ("List Bullet",
     "The Service collects only the data needed for the features the controller uses; logs and "
     "diagnostic data are limited and, where possible, stripped of personal data."),
    ("List Bullet",
     "The controller can correct, export and delete records in its workspace at any time. At the "
     "end of the main agreement, customer personal data is returned or deleted as set out in "
     "clause 6, point (g), and remaining backup copies expire under the rolling schedule."),

    ("Heading 3", "II.12 Staff and confidentiality"),
    ("List Bullet",
     "Personnel with access to customer personal data are bound by confidentiality (clause 9), "
     "are trained in data protection and security, and follow written security policies."),
    ("List Bullet",
     "Access rights are withdrawn and company devices and credentials are recovered when a "
     "person leaves or changes role."),

    ("Heading 3", "II.13 Subprocessors"),
    ("List Bullet",
     "Subprocessors are selected after checking their security and data protection guarantees, "
     "are bound by written agreements that require measures at least as protective as those in "
     "this annex (clause 11), and are reviewed periodically."),
]


# ---------------------------------------------------------------------------
# Subprocessors clause and Annex III (templates/subprocessors.docx)
# ---------------------------------------------------------------------------

SUBPROCESSORS: list[Block] = [
    ("Heading 1", "11. Subprocessors"),
    ("Normal",
     "11.1 **General written authorisation.** The controller gives the processor its general "
     "written authorisation, within the meaning of Article 28(2) GDPR, to engage other "
     "processors (subprocessors) to carry out processing on its behalf. By signing this DPA the "
     "controller approves the subprocessors listed in Annex III below."),
    ("Normal",
     "11.2 **Notice of changes.** The processor informs the controller of any intended addition "
     "or replacement of a subprocessor at least {{ terms.subprocessor_notice_days }} days before "
     "the new subprocessor starts processing customer personal data. The notice is sent by "
     "e-mail to the controller's contact given in clause 1 and states the subprocessor's name, "
     "the purpose of the processing, its location and the transfer safeguard that will apply."),
    ("Normal",
     "11.3 **Right to object.** Within that notice period the controller may object to the "
     "change in writing, on reasonable grounds relating to the protection of personal data. The "
     "parties will then discuss the objection in good faith, and the processor will try to offer "
     "a reasonable alternative, such as a change to the configuration of the controller's "
     "workspace or not using the new subprocessor for the controller's data. If the parties "
     "cannot resolve the objection before the change takes effect, the controller may terminate "
     "the main agreement and this DPA, with effect from the date of the change, without any "
     "termination penalty; prepaid fees for the period after termination are refunded. If no "
     "objection is received within the notice period, the change is considered accepted."),
    ("Normal",
     "11.4 **Urgent replacement.** If a subprocessor must be replaced urgently to protect the "
     "security or continuity of the Service, the processor may do so with shorter notice. It "
     "informs the controller as soon as possible, and the controller's right to object under "
     "clause 11.3 applies from that moment."),
    ("Normal",
     "11.5 **Same obligations.** The processor engages each subprocessor under a written contract "
     "that imposes on it the same data protection obligations as those set out in this DPA, in "
     "particular sufficient guarantees that it will implement appropriate technical and "
     "organisational measures, confidentiality, assistance, and deletion or return of the data. "
     "On request, the processor gives the controller a summary or copy of the relevant terms, "
     "from which commercial information may be removed."),
    ("Normal",
     "11.6 **Liability.** The processor remains fully liable to the controller for the "
     "performance of each subprocessor's obligations, as if they were its own."),

    ("Heading 2",
     "Annex III — Approved subprocessors (list version {{ subprocessors.version }}, approved "
     "{{ subprocessors.approved_on }})"),
    ("Normal",
     "The following subprocessors are approved under this DPA. Each processes customer personal "
     "data only for the purpose shown."),
    ("SUBPROCESSOR_TABLE", ""),

    ("Heading 2", "International transfers to subprocessors"),
    ("Normal",
     "11.7 Where a subprocessor is located outside the European Economic Area (EEA), or may "
     "access customer personal data from a country outside the EEA, and that country is not "
     "covered by an adequacy decision of the European Commission, the processor and the "
     "subprocessor conclude the EU Standard Contractual Clauses adopted by Commission "
     "Implementing Decision (EU) 2021/914 of 4 June 2021, Module 3 (transfer from processor to "
     "processor). Where the subprocessor is certified under the EU-U.S. Data Privacy Framework, "
     "that certification is an additional safeguard. The safeguard that applies to each "
     "subprocessor is shown in the table above."),
    ("Normal",
     "11.8 Before such a transfer, the processor assesses the law and practice of the "
     "destination country and applies supplementary measures where needed, in particular "
     "encryption in transit and at rest, limiting the data transferred to what the "
     "subprocessor's service requires, and contractual commitments by the subprocessor to "
     "challenge and report requests for access by public authorities."),
    ("TAG", "{%p if subprocessors.has_transfers %}"),
    ("Normal",
     "11.9 Under list version {{ subprocessors.version }}, the following subprocessors are "
     "located, or may access data, outside the EEA: "
     "{% for e in subprocessors.entries if not e.in_eea %}{{ e.name }} ({{ e.location }}){% if not loop.last %}; {% endif %}{% endfor %}."),
    ("TAG", "{%p else %}"),
    ("Normal",
     "11.9 Under list version {{ subprocessors.version }}, all subprocessors process customer "
     "personal data within the EEA."),
    ("TAG", "{%p endif %}"),
]

SUBPROCESSOR_TABLE_HEADER = ["Name", "Purpose", "Location", "Transfer safeguard"]
SUBPROCESSOR_TABLE_ROW = [
    "{{ e.name }}",
    "{{ e.purpose }}",
    "{{ e.location }}",
    "{{ e.transfer_safeguard }}",
]
SUBPROCESSOR_TABLE_WIDTHS = [Cm(3.6), Cm(5.0), Cm(3.4), Cm(5.0)]


# ---------------------------------------------------------------------------
# Master agreement (templates/master.docx)
# ---------------------------------------------------------------------------

MASTER: list[Block] = [
    ("Title", "Data Processing Agreement"),
    ("Normal",
     "**Agreement:** {{ agreement.id }}, version {{ agreement.version }}, dated {{ agreement.date }}"),
    ("Normal",
     "This Data Processing Agreement (the “DPA”) is concluded between "
     "{{ controller.legal_name }} (the “controller”) and {{ processor.legal_name }}, which "
     "operates the {{ processor.trade_name }} platform (the “processor”). It sets out the terms "
     "on which the processor processes personal data on behalf of the controller when the "
     "controller uses {{ processor.trade_name }}, as required by Article 28 of the General Data "
     "Protection Regulation (EU) 2016/679 (“GDPR”)."),

    # 1. Parties --------------------------------------------------------------
    ("Heading 1", "1. Parties"),
    ("Normal",
     "This clause, together with clauses 3 to 5, contains the information usually given in "
     "Annex I (list of parties and description of the processing)."),
    ("Heading 2", "1.1 Controller"),
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
     "**Role:** controller. The controller uses the Service to manage its business and its "
     "relationships with its customers, staff and other contacts."),
    ("Heading 2", "1.2 Processor"),
    ("Normal",
     "**Legal name:** {{ processor.legal_name }}, trading as {{ processor.trade_name }}"),
    ("Normal",
     "**Address:** {{ processor.address.street }}, {{ processor.address.postal_code }} "
     "{{ processor.address.city }}, {{ processor.address.country_name }}"),
    ("Normal", "**Country:** {{ processor.address.country_name }}"),
    ("Normal",
     "**Data protection contact:** {{ processor.privacy_contact }}, {{ processor.email }}"),
    ("Normal",
     "**Signatory:** {% if processor.signatory.name %}{{ processor.signatory.name }}, {% endif %}"
     "{{ processor.signatory.title }}"),
    ("Normal",
     "**Role:** processor. The processor provides the Service and processes customer personal "
     "data on behalf of the controller."),

    # 2. Definitions ----------------------------------------------------------
    ("Heading 1", "2. Definitions"),
    ("Normal",
     "Terms such as “personal data”, “processing”, “controller”, “processor”, “data subject”, "
     "“personal data breach” and “supervisory authority” have the meaning given to them in the "
     "GDPR. In addition:"),
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
     "behalf of the controller when providing the Service, as described in clause 5."),
    ("List Bullet",
     "**“Subprocessor”** means another processor engaged by the processor to carry out "
     "processing of customer personal data."),
    ("List Bullet",
     "**“EEA”** means the European Economic Area."),
    ("List Bullet",
     "**“Standard Contractual Clauses”** or **“SCCs”** means the standard contractual clauses "
     "for transfers of personal data to third countries adopted by Commission Implementing "
     "Decision (EU) 2021/914 of 4 June 2021."),
    ("List Bullet",
     "**“Data protection law”** means the GDPR, the data protection law of Latvia and any other "
     "Union or Member State data protection law that applies to the processing."),

    # 3. Subject matter and duration -----------------------------------------
    ("Heading 1", "3. Subject matter and duration"),
    ("Normal",
     "3.1 **Subject matter.** The processor hosts and processes customer personal data so that "
     "the controller can use the Service under the main agreement."),
    ("Normal",
     "3.2 **Duration.** The processing lasts for as long as the controller uses the Service, that "
     "is, for the term of the main agreement. After that, the processor continues to process "
     "customer personal data only in order to return or delete it as set out in clause 6, point "
     "(g), and this DPA continues to apply until that has been completed."),
    ("Normal",
     "3.3 **Scope.** This DPA covers only processing that the processor carries out on behalf of "
     "the controller. It does not cover data for which {{ processor.trade_name }} is itself the "
     "controller, such as user account and billing data, website usage, support requests and "
     "marketing communications; that data is described in the {{ processor.trade_name }} privacy "
     "documentation."),

    # 4. Nature and purpose ---------------------------------------------------
    ("Heading 1", "4. Nature and purpose of the processing"),
    ("Normal",
     "4.1 **Nature.** The processing consists of collecting data through the Service (for "
     "example through booking forms and customer portals), storing, organising, structuring, "
     "retrieving, displaying, updating, exporting and transmitting it, sending notifications and "
     "messages on the controller's behalf, making backups, and erasing it."),
    ("Normal",
     "4.2 **Purpose.** Customer personal data is processed only to provide the Service to the "
     "controller: managing leads, contacts and customer requests, taking bookings, planning and "
     "recording jobs, preparing quotes and invoices, storing documents, organising the "
     "controller's workers and staff, and communicating with the controller's customers; and "
     "further to provide support that the controller asks for, to keep the Service secure and "
     "prevent abuse, and to meet legal obligations of the processor."),
    ("Normal",
     "4.3 **Frequency.** The processing is continuous for the duration set out in clause 3."),

    # 5. Personal data and data subjects ---------------------------------------
    ("Heading 1", "5. Types of personal data and categories of data subjects"),
    ("Heading 2", "5.1 Types of personal data"),
    ("Normal",
     "Based on the features the controller uses in the Service, the following types of personal "
     "data are processed:"),
    ("TAG", "{%p for c in processing.data_categories %}"),
    ("List Bullet", "**{{ c.label }}**: {{ c.description }}"),
    ("TAG", "{%p else %}"),
    ("List Bullet",
     "Personal data that the controller or its users enter into, or collect through, the "
     "Service."),
    ("TAG", "{%p endfor %}"),
    ("Normal",
     "**Special categories of data.** The Service is not designed for special categories of "
     "personal data (Article 9 GDPR) or data about criminal convictions (Article 10 GDPR). The "
     "controller should store such data only where this is necessary and lawful; where it does, "
     "the measures in Annex II apply to it as well."),
    ("Heading 2", "5.2 Categories of data subjects"),
    ("Normal", "The personal data concerns the following categories of data subjects:"),
    ("TAG", "{%p for s in processing.data_subjects %}"),
    ("List Bullet", "{{ s.label }}"),
    ("TAG", "{%p else %}"),
    ("List Bullet",
     "The persons whose data the controller or its users enter into, or collect through, the "
     "Service."),
    ("TAG", "{%p endfor %}"),

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
     "organisation (see clause 8). If Union or Member State law requires the processor to "
     "process the data otherwise, the processor informs the controller of that legal "
     "requirement before processing, unless that law prohibits such information on important "
     "grounds of public interest. The processor tells the controller immediately if, in its "
     "opinion, an instruction infringes data protection law."),
    ("Normal",
     "**(b) Confidentiality of personnel.** The processor ensures that persons authorised to "
     "process customer personal data have committed themselves to confidentiality or are under "
     "an appropriate statutory obligation of confidentiality, as set out in clause 9 "
     "(Confidentiality)."),
    ("Normal",
     "**(c) Security of processing (Article 32).** The processor takes all measures required "
     "under Article 32 GDPR, as set out in clause 10 (Security of processing) and in Annex II "
     "(Technical and organisational security measures)."),
    ("Normal",
     "**(d) Subprocessors.** The processor engages another processor only with the controller's "
     "prior general written authorisation, informs the controller of intended changes so that "
     "it can object, imposes the same data protection obligations on each subprocessor by "
     "contract, and remains fully liable for them, as set out in clause 11 (Subprocessors)."),
    ("Normal",
     "**(e) Assistance with data subject rights.** Taking into account the nature of the "
     "processing, the processor helps the controller, by appropriate technical and "
     "organisational measures, to respond to requests from data subjects who exercise their "
     "rights under Chapter III GDPR (access, rectification, erasure, restriction, data "
     "portability and objection). The Service lets the controller find, correct, export and "
     "delete records in its workspace itself. Where that is not enough, the processor provides "
     "further help on request. If a data subject contacts the processor directly about customer "
     "personal data, the processor forwards the request to the controller without undue delay "
     "and does not answer it itself unless the controller authorises it to do so."),
    ("Normal",
     "**(f) Assistance with Articles 32 to 36.** Taking into account the nature of the "
     "processing and the information available to it, the processor assists the controller in "
     "ensuring compliance with its obligations concerning the security of processing (Article "
     "32), the notification of personal data breaches to the supervisory authority and the "
     "communication of breaches to data subjects (Articles 33 and 34), data protection impact "
     "assessments (Article 35) and prior consultation of the supervisory authority (Article 36)."),
    ("Normal",
     "**(g) Deletion or return at the end.** When the provision of the Service ends, the "
     "processor, at the choice of the controller, deletes all customer personal data or returns "
     "it to the controller, and deletes the remaining copies, within "
     "{{ terms.return_deletion_days }} days, unless Union or Member State law requires the "
     "processor to keep the data. The controller can export its data from the Service at any "
     "time before the end. Copies in backups are deleted when the backups expire under the "
     "rolling retention schedule described in Annex II and remain protected by this DPA until "
     "then. On request, the processor confirms the deletion in writing."),
    ("Normal",
     "**(h) Audits and information.** The processor makes available to the controller all "
     "information necessary to demonstrate compliance with Article 28 GDPR and this DPA, and "
     "allows for and contributes to audits, including inspections, conducted by the controller "
     "or by an independent auditor mandated by the controller. The controller gives at least "
     "{{ terms.audit_notice_days }} days' written notice of an audit, unless a shorter period is "
     "needed because of a personal data breach or a request of a supervisory authority. The "
     "processor first answers questionnaires and provides documentation, certifications and "
     "reports of its providers; an inspection takes place where that information is not "
     "sufficient, normally no more than once a year, during business hours, without undue "
     "disruption of the Service and without access to other customers' data. Auditors must be "
     "bound by confidentiality. Each party bears its own costs, unless the audit reveals a "
     "material breach of this DPA by the processor. The processor immediately informs the "
     "controller if, in its opinion, an instruction received under this point infringes data "
     "protection law."),

    # 7. Breach notification --------------------------------------------------
    ("Heading 1", "7. Personal data breach notification"),
    ("Normal",
     "7.1 The processor notifies the controller of any personal data breach affecting customer "
     "personal data without undue delay, and in any case within "
     "{{ terms.breach_notice_hours }} hours, after becoming aware of it. The notice is sent by "
     "e-mail to the controller's contacts given in clause 1."),
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
     "controller to notify the supervisory authority and, where required, the data subjects. It "
     "is the controller who decides on and makes those notifications."),
    ("Normal",
     "7.4 A notice of a breach is not an admission of fault or liability by the processor."),

    # 8. International transfers ---------------------------------------------
    ("Heading 1", "8. International transfers"),
    ("Normal",
     "8.1 The processor stores and processes customer personal data primarily within the EEA. "
     "It transfers customer personal data to a country outside the EEA only on the controller's "
     "documented instructions, which include the engagement of the subprocessors authorised "
     "under clause 11, and only where the conditions of Chapter V GDPR are met."),
    ("Normal",
     "8.2 Where the destination country is not covered by an adequacy decision, the transfer is "
     "based on the Standard Contractual Clauses concluded between the processor and the "
     "subprocessor (Module 3, processor to processor), complemented by supplementary measures "
     "where needed, as described in clause 11."),
    ("TAG", "{%p if subprocessors.has_transfers %}"),
    ("Normal",
     "8.3 Under the current subprocessor list (version {{ subprocessors.version }}), customer "
     "personal data may be transferred outside the EEA to the following subprocessors, each "
     "with the safeguard shown in Annex III: "
     "{% for e in subprocessors.entries if not e.in_eea %}{{ e.name }} ({{ e.location }}){% if not loop.last %}; {% endif %}{% endfor %}."),
    ("TAG", "{%p else %}"),
    ("Normal",
     "8.3 Under the current subprocessor list (version {{ subprocessors.version }}), all "
     "subprocessors process customer personal data within the EEA, so no transfer to a third "
     "country takes place."),
    ("TAG", "{%p endif %}"),
    ("Normal",
     "8.4 On request, the processor gives the controller a copy of the Standard Contractual "
     "Clauses it has concluded, from which commercial information may be removed. If a transfer "
     "mechanism ceases to be valid, the processor informs the controller and moves to another "
     "lawful safeguard or stops the transfer."),

    # 9.–11. Clauses (sub-documents) ------------------------------------------
    ("TAG", "{{p confidentiality_clause }}"),
    ("TAG", "{{p security_clause }}"),
    ("TAG", "{{p subprocessors_clause }}"),

    # 12. Controller ----------------------------------------------------------
    ("Heading 1", "12. Responsibilities of the controller"),
    ("Normal",
     "12.1 The controller is responsible for the lawfulness of the processing it instructs, in "
     "particular for having a lawful basis for the personal data it enters into or collects "
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
     "agreement apply to claims under this DPA, except where the law does not allow liability to "
     "be limited. Nothing in this DPA limits the rights of data subjects or either party's "
     "liability towards them."),
    ("Normal",
     "13.3 Where one party has paid full compensation for damage for which the other party is "
     "also responsible, it may claim back from the other party the part of the compensation "
     "corresponding to that party's share of responsibility."),

    # 14. Term and termination -------------------------------------------------
    ("Heading 1", "14. Term and termination"),
    ("Normal",
     "14.1 This DPA takes effect when both parties have signed it and remains in force for as "
     "long as the main agreement, and after that until the processor has returned or deleted "
     "all customer personal data as set out in clause 6, point (g)."),
    ("Normal",
     "14.2 The DPA cannot be terminated separately from the main agreement. If the processor "
     "materially breaches this DPA and does not remedy the breach within a reasonable period "
     "after written notice, the controller may instruct the processor to suspend the processing "
     "and may terminate the main agreement."),
    ("Normal",
     "14.3 A later version of this DPA signed by both parties replaces this version from the "
     "date of its completion. Clauses that by their nature are meant to continue, in particular "
     "those on confidentiality, deletion or return, and liability, continue to apply after this "
     "DPA ends."),

    # 15. Order of precedence ------------------------------------------------------
    ("Heading 1", "15. Order of precedence and general provisions"),
    ("Normal",
     "15.1 **Order of precedence.** For matters of data protection, this DPA (including its "
     "annexes) prevails over the main agreement and any other agreement between the parties. "
     "Where Standard Contractual Clauses apply, they prevail over this DPA in case of conflict."),
    ("Normal",
     "15.2 **Notices.** Notices under this DPA are given in writing, which includes e-mail, to "
     "the contacts given in clause 1, or to other contacts a party communicates later."),
    ("Normal",
     "15.3 **Severability.** If a provision of this DPA is invalid or unenforceable, the rest of "
     "the DPA remains in force, and the parties replace the provision with a valid one that "
     "comes as close as possible to its purpose. Where a provision is incomplete, the parties "
     "apply it in the way that best meets the requirements of Article 28 GDPR."),
    ("Normal",
     "15.4 **Electronic signature.** The parties agree that this DPA may be signed "
     "electronically and that an electronic signature binds them in the same way as a "
     "handwritten one."),

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
    ("Heading 1", "17. Signatures"),
    ("KEEP",
     "By signing below, each party confirms that it agrees to this DPA and that the person "
     "signing is authorised to sign on its behalf."),

    ("Heading 2", "For the controller"),
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

    ("Heading 2", "For the processor"),
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
]


DOCUMENTS: dict[str, tuple[str, str, list[Block]]] = {
    # file name: (core title, core subject, blocks)
    "master.docx": (
        "Data Processing Agreement",
        "GDPR Article 28 data processing agreement between the controller and Klusaro",
        MASTER,
    ),
    "confidentiality.docx": (
        "Data Processing Agreement — Confidentiality clause",
        "Confidentiality of customer personal data and personnel",
        CONFIDENTIALITY,
    ),
    "security.docx": (
        "Data Processing Agreement — Security of processing and Annex II",
        "Technical and organisational security measures (Article 32 GDPR)",
        SECURITY,
    ),
    "subprocessors.docx": (
        "Data Processing Agreement — Subprocessors clause and Annex III",
        "Subprocessor authorisation, approved list and international transfers",
        SUBPROCESSORS,
    ),
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
        for opener, closer in (("{{", "}}"), ("{%", "%}")):
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


def _configure_styles(doc) -> None:
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
        lang.set(qn("w:val"), "en-GB")
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


def _configure_footer(doc) -> None:
    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False
    para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    para.style = doc.styles["Normal"]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.paragraph_format.space_after = Pt(0)
    run = para.add_run(FOOTER_TEXT)  # the whole docxtpl tag set sits in this single run
    run.font.size = Pt(8.5)
    run = para.add_run(" · page ")
    run.font.size = Pt(8.5)
    _add_field(para, "PAGE", "1")
    run = para.add_run(" of ")
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


def _set_cell_width(cell, width) -> None:
    cell.width = width


def _mark_header_row(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    tr_pr.append(header)
    cant_split = OxmlElement("w:cantSplit")
    tr_pr.append(cant_split)


def _add_subprocessor_table(doc) -> None:
    table = doc.add_table(rows=4, cols=len(SUBPROCESSOR_TABLE_HEADER))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False

    header, loop_start, data, loop_end = table.rows
    _mark_header_row(header)
    for i, label in enumerate(SUBPROCESSOR_TABLE_HEADER):
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


def build_document(title: str, subject: str, blocks: list[Block]):
    doc = Document()
    _configure_styles(doc)
    _configure_font_table(doc)
    _configure_bullets(doc)
    _configure_page(doc)
    _configure_footer(doc)

    for style, text in blocks:
        if style == "SUBPROCESSOR_TABLE":
            _add_subprocessor_table(doc)
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
        para = doc.add_paragraph(style=doc.styles[style])
        _add_text(para, text)

    props = doc.core_properties
    props.title = title
    props.subject = subject
    props.author = 'Klusaro (SIA "A.U. Holding")'
    props.last_modified_by = "scripts/build_templates.py"
    props.keywords = "GDPR; Article 28; data processing agreement; docxtpl"
    props.comments = "Built-in dpa-service template. Generated by scripts/build_templates.py."
    props.language = "en"
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

    for filename, (title, subject, blocks) in DOCUMENTS.items():
        doc = build_document(title, subject, blocks)
        _drop_thumbnail(doc)
        path = args.out / filename
        path.write_bytes(_normalised_bytes(doc))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every table, imported once so metadata (Alembic, tests) sees them all."""

from dpa_service.accounts.models import ApiToken
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.archive.models import ArchiveObject
from dpa_service.audit.models import AuditEvent
from dpa_service.clauses.models import TemplateVersion
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import Base
from dpa_service.signing.models import Signature, SigningCode, SigningLink
from dpa_service.subprocessors.models import SubprocessorListVersion

__all__ = [
    "ApiToken",
    "Agreement",
    "AgreementVersion",
    "ArchiveObject",
    "AuditEvent",
    "Base",
    "Counterparty",
    "Signature",
    "SigningCode",
    "SigningLink",
    "SubprocessorListVersion",
    "TemplateVersion",
]

"""Every table, imported once so metadata (Alembic, tests) sees them all."""

from dpa_service.accounts.models import ApiToken, LoginThrottle, StaffSession, User
from dpa_service.agreements.models import Agreement, AgreementVersion, Reissue, ReissueItem
from dpa_service.archive.models import ArchiveObject
from dpa_service.audit.models import AuditCheckpoint, AuditEvent
from dpa_service.clauses.models import TemplateEvent, TemplateVersion
from dpa_service.counterparties.models import Counterparty, SigningInvitation
from dpa_service.db import Base
from dpa_service.idempotency.models import IdempotentRequest
from dpa_service.notify.models import EmailAttempt, OutboundEmail
from dpa_service.profile.models import ProcessorProfileVersion
from dpa_service.signing.models import Signature, SigningCode, SigningLink
from dpa_service.subprocessors.models import (
    SubprocessorChange,
    SubprocessorListVersion,
    SubprocessorNotice,
    SubprocessorObjection,
)
from dpa_service.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = [
    "ApiToken",
    "Agreement",
    "AgreementVersion",
    "ArchiveObject",
    "AuditCheckpoint",
    "AuditEvent",
    "Base",
    "Reissue",
    "ReissueItem",
    "Counterparty",
    "IdempotentRequest",
    "LoginThrottle",
    "EmailAttempt",
    "OutboundEmail",
    "ProcessorProfileVersion",
    "Signature",
    "SigningCode",
    "SigningInvitation",
    "SigningLink",
    "StaffSession",
    "SubprocessorChange",
    "SubprocessorListVersion",
    "SubprocessorNotice",
    "SubprocessorObjection",
    "TemplateEvent",
    "TemplateVersion",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]

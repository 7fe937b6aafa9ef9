"""The lifecycle service as the staff web pages call it: four eyes by identity, races, hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from dpa_service.accounts.service import Principal
from dpa_service.clauses import service
from dpa_service.clauses.models import TemplateVersion
from dpa_service.errors import Conflict, Forbidden, ServiceUnavailable
from tests.clauses import docx_files as f
from tests.conftest import Api

ANNA = Principal(subject="user:anna", name="Anna Legal", role="legal", email="anna@klusaro.com")


def _in_review(api: Api, text: str) -> str:
    with api.session() as s:
        row = service.upload_version(
            session=s,
            template_key="confidentiality",
            data=f.with_jinja(text, "confidentiality"),
            filename="conf.docx",
            change_note="service test",
            author=ANNA,
        )
        service.submit_for_review(session=s, version_id=row.id, actor=ANNA)
        s.commit()
        return row.id


def test_four_eyes_compares_identities_not_names(gov: Api) -> None:
    version_id = _in_review(gov, "Four eyes by subject.")
    same_person = Principal(subject="user:anna", name="Anna L. (other browser)", role="legal")
    namesake = Principal(subject="user:anna2", name="Anna Legal", role="legal")
    with gov.session() as s:
        with pytest.raises(Forbidden, match="four-eyes rule"):
            service.approve(session=s, version_id=version_id, reviewer=same_person)
        with pytest.raises(Forbidden, match="may not approve"):
            service.approve(
                session=s,
                version_id=version_id,
                reviewer=Principal(subject="user:boss", name="Boss", role="admin"),
            )
        row = service.approve(session=s, version_id=version_id, reviewer=namesake)
        s.commit()
        assert row.state == "approved" and row.reviewer_subject == "user:anna2"
        assert row.author_subject == "user:anna" and row.approved_at == row.reviewed_at
        events = service.history(session=s, template_key="confidentiality", version_id=row.id)
        assert [(e.type, e.actor_subject) for e in events] == [
            ("uploaded", "user:anna"),
            ("submitted", "user:anna"),
            ("approved", "user:anna2"),
        ]


def test_two_reviewers_at_once_exactly_one_wins(gov: Api) -> None:
    version_id = _in_review(gov, "Race test.")
    bob = Principal(subject="user:bob", name="Bob", role="legal")
    eve = Principal(subject="user:eve", name="Eve", role="legal")
    first, second = gov.session(), gov.session()
    try:
        # Both reviewers loaded the page while it was in review.
        assert first.get(TemplateVersion, version_id).state == "in_review"
        assert second.get(TemplateVersion, version_id).state == "in_review"
        first.rollback()  # SQLite: no read snapshot held while the other writes
        service.approve(session=first, version_id=version_id, reviewer=bob)
        first.commit()
        with pytest.raises(Conflict):
            service.reject(session=second, version_id=version_id, reviewer=eve, comment="no")
        second.rollback()
    finally:
        first.close()
        second.close()
    with gov.session() as s:
        row = s.get(TemplateVersion, version_id)
        assert row.state == "approved" and row.reviewer == "Bob"


def test_tampered_template_bytes_stop_generation(gov: Api) -> None:
    with gov.session() as s:
        current = service.current_approved(session=s).versions["master"]
        master_id = current.id
        s.execute(
            update(TemplateVersion)
            .where(TemplateVersion.id == current.id)
            .values(content=current.content + b"x")
        )
        s.expire_all()
        with pytest.raises(ServiceUnavailable, match="does not match its recorded SHA-256"):
            service.current_approved(session=s)
        s.rollback()
    with gov.session() as s:
        assert service.current_approved(session=s).versions["master"].id == master_id

"""The whole demo loads with the issue-19 data: memberships in step with the flag, a sent education campaign with
acknowledgements, a draft, a session with attendance, current employment records with sealed liaison phones."""

import pytest
from sqlalchemy import func, select

from backend.education.models import EducationAttendance, EducationCampaign
from backend.employment.models import CivicActivity, EmploymentRecord, EmploymentSupport
from backend.employment.service import LIAISON_CONTEXT
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.party.models import PartyMembership
from backend.veterans.models import Veteran


def _count(query):
    return db.session.scalar(query)


def test_the_whole_demo_loads_with_issue_19_data(app, tmp_path, monkeypatch):
    import backend.demo as backend_demo

    monkeypatch.setattr(backend_demo, "logins_file", lambda: tmp_path / "demo-logins.txt")
    if _count(select(func.count()).select_from(backend_demo.OrgUnit)):
        pytest.skip("the test database already holds units")
    assert backend_demo.load_demo()
    members = _count(select(func.count()).select_from(Veteran).where(Veteran.party_member.is_(True)))
    assert members and _count(select(func.count()).select_from(PartyMembership)) == members
    states = dict(db.session.execute(select(EducationCampaign.kind, EducationCampaign.state)).all())
    assert states == {"confidentiality": "sent", "political": "draft"}
    sent = db.session.scalars(select(EducationCampaign).where(EducationCampaign.state == "sent")).one()
    total, acked = db.session.execute(
        select(func.count(), func.count(InboxMessage.acknowledged_at)).where(
            InboxMessage.notification_id == sent.notification_id, InboxMessage.requires_ack.is_(True)
        )
    ).one()
    assert total == sent.recipient_count and 0 < acked < total
    assert _count(select(func.count()).select_from(EducationAttendance))
    current = db.session.execute(
        select(EmploymentRecord.status, func.count()).where(EmploymentRecord.until.is_(None)).group_by("status")
    ).all()
    assert {s for s, _ in current} >= {"employed", "self_employed", "unemployed", "retired"}
    assert sum(n for _, n in current) > 0.8 * _count(select(func.count()).select_from(Veteran))
    assert _count(select(func.count()).select_from(EmploymentSupport).where(EmploymentSupport.outcome == "succeeded"))
    assert _count(select(func.count()).select_from(CivicActivity))
    sealed = db.session.scalars(select(EmploymentRecord).where(EmploymentRecord.liaison_phone_enc.is_not(None))).first()
    assert not sealed.liaison_phone_enc.startswith("1")
    from backend import pii

    assert len(pii.decrypt(sealed.liaison_phone_enc, context=LIAISON_CONTEXT)) == 11

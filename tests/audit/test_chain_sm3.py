"""issue 15: the audit chain and its checkpoints under HMAC-SM3 (AUDIT_CHAIN_DIGEST=sm3), chosen per deployment."""

from sqlalchemy import select

from backend.audit import chain
from backend.audit.models import AuditSeal
from backend.audit.verify import verify
from backend.extensions import db
from backend.keys.primitives import Mac
from tests.audit.conftest import log_rows


def test_chain_and_checkpoints_under_hmac_sm3_verify(world, sink, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHAIN_DIGEST", "sm3")
    log_rows(4, world)
    assert chain.seal_pending().sealed == 4
    report = verify()
    assert report.ok and report.sealed_rows == 4 and report.checkpoints_compared == 1
    assert isinstance(chain.keyed(chain.chain_key()), Mac)
    assert len(db.session.scalars(select(AuditSeal.chain_hash)).first()) == 64  # SM3 is 256 bits too
    monkeypatch.setitem(app.config, "AUDIT_CHAIN_DIGEST", "sha256")  # the other digest finds every link wrong
    assert not verify().ok

"""Registration test data."""

from backend.accounts.models import WechatAccount
from backend.db import transaction
from backend.extensions import db
from tests.factories import unique

FULL = {
    "party_life": {"participated": True, "notes": "按时参加"},
    "social_orgs": {"joined": False, "organizations": []},
    "trips_abroad": {"had_trips": False, "trips": []},
    "rewards_punishments": {"has_any": False, "details": ""},
    "employment": {"status": "employed", "employer": "青山机械厂"},
    "contact": {"phone": "13900001111", "address": "青山镇1号"},
    "declaration": {"agreed": True},
}


def account_for(veteran):
    with transaction():
        account = WechatAccount(openid=unique("o-reg-"), veteran_id=veteran.id)
        db.session.add(account)
    return account

"""Workbench cards of party (issue 19), registered with @card (admin_portal/home/cards.py).

Members without this year's evaluation (评定意见), for party.manage holders, from 1 October (CST): branches give
their yearly opinions towards the year's end, so earlier in the year the figure would only be noise."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.party import figures
from backend.registration.windows import today_cst

FROM_MONTH = 10


@card(order=120)
def party_evaluations_missing(actor):
    today = today_cst()
    if not actor.can("party.manage") or today.month < FROM_MONTH:
        return None
    missing = figures.count_missing_evaluations(actor=actor, year=today.year)
    return Card(
        key="party",
        title=f"{today.year}年度党员评定",
        template="home/_card_counts.html",
        order=party_evaluations_missing.order,
        items=[
            Item(
                "party_missing",
                "未录入评定意见的党员",
                str(missing),
                url_for("party.members", missing="1"),
                urgent=missing.value > 0,
            )
        ],
    )

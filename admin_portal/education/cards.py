"""Workbench cards of education (issue 19), registered with @card (admin_portal/home/cards.py).

Campaigns past their due date with recipients still unacknowledged, for education.send holders (who can chase)."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.education import followup
from backend.registration.windows import today_cst


@card(order=125)
def education_overdue(actor):
    if not actor.can("education.send"):
        return None
    overdue = followup.count_overdue(actor=actor, today=today_cst())
    return Card(
        key="education",
        title="教育提醒",
        template="home/_card_counts.html",
        order=education_overdue.order,
        items=[
            Item(
                "education_overdue",
                "已过截止日期仍有人未确认知悉",
                str(overdue),
                url_for("education.index"),
                urgent=overdue.value > 0,
            )
        ],
    )

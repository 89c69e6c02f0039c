"""Workbench cards of employment (issue 19), registered with @card (admin_portal/home/cards.py).

Veterans whose current status is unemployed and who got no support in the last 6 months (a capped count)."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.employment import figures
from backend.registration.windows import today_cst


@card(order=126)
def employment_unsupported(actor):
    if not actor.can("employment.manage"):
        return None
    count = figures.count_unemployed_without_support(actor=actor, today=today_cst())
    return Card(
        key="employment",
        title="就业创业",
        template="home/_card_counts.html",
        order=employment_unsupported.order,
        items=[
            Item(
                "employment_unsupported",
                "待业且近半年未获扶持",
                str(count),
                url_for("employment.unemployed"),
                urgent=count.value > 0,
            )
        ],
    )

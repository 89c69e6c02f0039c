"""Workbench cards of onboarding (issue 17): overdue steps of open cases in scope, registered with @card."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.onboarding import service as onboarding_service


@card(order=25)
def onboarding_overdue(actor):
    if not actor.can("onboarding.view"):
        return None
    overdue = onboarding_service.count_overdue_steps(actor=actor)
    return Card(
        key="onboarding",
        title="接收安置待办",
        template="home/_card_counts.html",
        order=onboarding_overdue.order,
        items=[
            Item(
                "onboarding_overdue",
                "逾期未办事项",
                str(overdue),
                url_for("onboarding.index", overdue="1"),
                urgent=bool(overdue.value),
            )
        ],
    )

"""Workbench cards of training (issue 19), registered with @card (admin_portal/home/cards.py): units in scope with
nobody responsible (明确专人), for training.manage holders."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.training import service as training


@card(order=125)
def units_without_responsible(actor):
    if not actor.can("training.manage"):
        return None
    missing = training.count_missing_responsible(actor=actor)
    return Card(
        key="training",
        title="明确专人",
        template="home/_card_counts.html",
        order=units_without_responsible.order,
        items=[
            Item(
                "training_nobody",
                "未明确负责科室或专人的单位",
                str(missing),
                url_for("training.responsible", missing="1"),
                urgent=missing.value > 0,
            )
        ],
    )

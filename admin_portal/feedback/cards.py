"""Workbench cards of feedback (issue 20), registered with @card (admin_portal/home/cards.py)."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.feedback import cases
from backend.feedback.rules import setting


@card(order=27)
def feedback_due(actor):
    """评价与投诉: cases due within FEEDBACK_DUE_SOON_WORKING_DAYS working days or overdue (capped counts, never the
    cases about the viewer)."""
    if not actor.can("feedback.view"):
        return None
    days = setting("FEEDBACK_DUE_SOON_WORKING_DAYS")
    due, overdue = cases.count_due(actor=actor, within_days=days)
    return Card(
        key="feedback",
        title="评价与投诉",
        template="home/_card_counts.html",
        order=feedback_due.order,
        items=[
            Item(
                "feedback_due",
                f"{days}个工作日内到期或已逾期",
                str(due),
                url_for("feedback.index"),
                urgent=bool(due.value),
            ),
            Item(
                "feedback_overdue",
                "已逾期",
                str(overdue),
                url_for("feedback.index", overdue="1"),
                urgent=bool(overdue.value),
            ),
        ],
        more_url=url_for("feedback.index"),
    )

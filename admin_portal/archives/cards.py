"""Workbench cards of archives (issue 17): overdue inspections for the custodians, pending requests for approvers."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.archives import inspections
from backend.archives import requests as archive_requests


def _shown(n, cap=100):
    return f"{cap}+" if n > cap else str(n)


@card(order=72)
def archives_todo(actor):
    items = []
    if actor.can("archives.manage"):
        overdue = inspections.overdue_count(actor)
        items.append(
            Item(
                "archive_inspections_overdue",
                "档案安全检查逾期",
                _shown(overdue),
                url_for("archives.locations"),
                urgent=overdue > 0,
            )
        )
    if actor.can("archives.approve"):
        pending = archive_requests.pending_count(actor)
        items.append(
            Item(
                "archive_requests_pending",
                "档案查阅、复制待审批",
                _shown(pending),
                url_for("archives.requests", state="pending"),
                urgent=pending > 0,
            )
        )
    if not items:
        return None
    return Card(key="archives", title="人事档案待办", template="home/_card_counts.html", order=72, items=items)

"""The workbench's cards: a small registry of providers, each `provider(actor) -> Card | None`.

A later capability adds its own card (bookings today, contacts overdue, assistance requests) by writing a provider in
its portal package, decorating it with `@card(order=...)`, and naming the module in PROVIDER_MODULES. A provider
returns None when the card does not apply to the actor (a permission it lacks), reads only through scoped backend
queries, and keeps its counts cheap: capped (backend/counting.py), never a full COUNT of a large table.
"""

import importlib
from dataclasses import dataclass, field

from flask import url_for

from backend.audit import activity
from backend.figures import service as figures_service
from backend.registration import queries as registration_queries
from backend.registration import windows
from backend.travel import queries as travel_queries
from backend.veterans import queries as veterans_queries

# Modules whose import registers more providers (later capabilities append here).
PROVIDER_MODULES = (
    "admin_portal.bookings.figure_views",  # bookings slice (issue 14): the 8-week chart
    "admin_portal.onboarding.cards",  # issue 17: overdue onboarding steps
    "admin_portal.archives.cards",  # issue 17: overdue archive inspections, pending lookup requests
    "admin_portal.honors.cards",  # issue 17: invitations awaiting replies, chronicle candidates to review
    "admin_portal.pension.cards",  # issue 18: batches and runs waiting for a checker, failed payments
    "admin_portal.party.cards",  # issue 19: evaluations missing this year
    "admin_portal.education.cards",  # issue 19: campaigns past due with acknowledgements missing
    "admin_portal.employment.cards",  # issue 19: unemployed veterans without support
    "admin_portal.training.cards",  # issue 19: units with nobody responsible
    "admin_portal.feedback.cards",  # issue 20: cases due or overdue
    "admin_portal.assessment.cards",  # issue 20: the unit's score and rank
)

_PROVIDERS = []


@dataclass
class Item:
    """One to-do figure: its value as shown ("3", "1000+", "—"), a label, and the list it links to."""

    key: str
    label: str
    value: str
    url: str | None = None
    hint: str | None = None
    urgent: bool = False


@dataclass
class Card:
    key: str
    title: str
    template: str  # a partial under templates/home/
    order: int = 100
    items: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    data: dict = field(default_factory=dict)
    more_url: str | None = None


def card(order):
    """Register a provider: `@card(order=10) def my_card(actor): ...`."""

    def register(provider):
        provider.order = order
        _PROVIDERS.append(provider)
        _PROVIDERS.sort(key=lambda p: p.order)
        return provider

    return register


def cards_for(actor):
    """Every card that applies to `actor`, in order."""
    for module in PROVIDER_MODULES:
        importlib.import_module(module)
    return [c for c in (provider(actor) for provider in _PROVIDERS) if c is not None]


def _days(n):
    return "—" if n is None else f"{n} 天"


@card(order=10)
def registration_todo(actor):
    if not actor.can("registration.view"):
        return None
    year = windows.today_cst().year
    counts = registration_queries.todo_counts(actor=actor, year=year)
    oldest = registration_queries.oldest_waiting_days(actor=actor, year=year)
    link = lambda tab: url_for("registration.index", tab=tab)  # noqa: E731
    return Card(
        key="registration",
        title=f"{year}年度确认待办",
        template="home/_card_counts.html",
        order=registration_todo.order,
        items=[
            Item(
                "waiting",
                "待审核",
                str(counts["waiting"]),
                link("waiting"),
                hint=counts["waiting"].as_of_text,
                urgent=counts["waiting"].value > 0,
            ),
            Item(
                "oldest",
                "最久已等待",
                _days(oldest),
                url_for("registration.index", tab="waiting", sort="waiting_desc"),
                hint=None if oldest is not None else "暂无待审核",
                urgent=oldest is not None and oldest >= 15,
            ),
            Item(
                "returned", "退回待补正", str(counts["returned"]), link("returned"), hint=counts["returned"].as_of_text
            ),
            Item(
                "talks",
                "待约谈",
                str(counts["talks"]),
                link("talks"),
                hint=counts["talks"].as_of_text,
                urgent=counts["talks"].value > 0,
            ),
        ],
    )


@card(order=20)
def travel_todo(actor):
    if not actor.can("travel.view"):
        return None
    overdue = travel_queries.count_overdue(actor=actor)
    return Card(
        key="travel",
        title="出入境待办",
        template="home/_card_counts.html",
        order=travel_todo.order,
        items=[
            Item(
                "trips_overdue",
                "逾期未报返回",
                str(overdue),
                url_for("travel.index", overdue="1"),
                urgent=bool(overdue.value),
            )
        ],
    )


@card(order=30)
def imports_finished(actor):
    if not actor.can("veterans.import"):
        return None
    jobs = veterans_queries.finished_imports(actor=actor)
    if not jobs:
        return None
    return Card(
        key="imports",
        title="近 7 天完成的批量导入",
        template="home/_card_imports.html",
        order=imports_finished.order,
        rows=jobs,
    )


@card(order=40)
def registration_progress(actor):
    if not actor.can("registration.view"):
        return None
    year = windows.today_cst().year
    return Card(
        key="progress",
        title=f"{year}年度确认进度",
        template="home/_card_chart.html",
        order=registration_progress.order,
        data={
            "chart_url": url_for("charts.registration", year=year),
            "table_url": url_for("registration.figures"),
            # aggregates slice (issue 12): the chart draws the rollup; say when it was counted
            "as_of_text": figures_service.as_of_text_for(actor.org_unit_id, year),
        },
    )


@card(order=50)
def recent_activity(actor):
    rows = activity.recent_activity(actor=actor)
    if not rows and not any(actor.can(p) for p in set(activity.ACTIVITY_ACTIONS.values())):
        return None
    return Card(key="activity", title="最近动态", template="home/_card_activity.html", order=50, rows=rows)

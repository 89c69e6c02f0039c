"""Workbench cards of honors (issue 17): chronicle candidates awaiting review (honors.review) and the upcoming
celebrations with their reply counts (honors.view), registered with @card (admin_portal/home/cards.py)."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.counting import capped_count
from backend.honors import ceremonies, chronicle, rules


@card(order=74)
def chronicle_reviews(actor):
    if not actor.can("honors.review"):
        return None
    waiting = capped_count(chronicle.awaiting_review(actor))
    return Card(
        key="honors-chronicle",
        title="编入地方志待审核",
        template="home/_card_counts.html",
        order=chronicle_reviews.order,
        items=[
            Item(
                "chronicle-waiting",
                "待审核的推荐",
                str(waiting),
                url_for("honors.chronicle_list", status="candidate"),
                urgent=waiting.value > 0,
            )
        ],
    )


@card(order=75)
def upcoming_ceremonies(actor):
    if not actor.can("honors.view"):
        return None
    rows = ceremonies.upcoming(actor=actor, limit=3)
    if not rows:
        return None
    items = [
        Item(
            f"ceremony-{c.id}",
            f"{c.title}（{rules.cst(c.held_at):%m-%d}）已回复",
            f"{f['accepted'] + f['declined']}/{f['invited']}",
            url_for("honors.ceremony", ceremony_id=c.id),
            hint=f"参加 {f['accepted']} 人，随行 {f['guests']} 人，待回复 {f['waiting']} 人",
        )
        for c, f in rows
    ]
    return Card(
        key="honors-ceremonies",
        title="近期庆典活动",
        template="home/_card_counts.html",
        order=upcoming_ceremonies.order,
        items=items,
    )

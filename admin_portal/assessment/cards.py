"""Workbench cards of assessment (issue 20): the unit's score this year and its rank among its siblings (a few
primary-key reads of assessment_figure, never the source tables)."""

from flask import url_for

from admin_portal.home.cards import Card, Item, card
from backend.assessment import service


@card(order=80)
def assessment_score(actor):
    if not actor.can("assessment.view"):
        return None
    unit, year, score, rank, siblings = service.card(actor)
    url = url_for("assessment.index")
    items = [Item(key="assessment-score", label=f"{unit.name} {year} 年度考核得分", value="—" if score is None
                  else f"{score:.1f}", url=url, hint=None if score is not None else "尚未生成")]  # fmt: skip
    if rank:
        items.append(Item(key="assessment-rank", label="同级排名", value=f"{rank}/{siblings}", url=url))
    return Card(key="assessment", title="考核评价", template="home/_card_counts.html", order=80, items=items)

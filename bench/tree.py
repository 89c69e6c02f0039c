"""Benchmark: the portal's unit-tree sidebar before and after issue 12 (lazy, cheap). Prints ratios, asserts nothing.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/veterans_h7 .venv/bin/python bench/tree.py --fan 8

Adds its own tree (reused when present) to the target database: a province with --fan children per unit over five
levels (fan 8: 1 + 8 + 64 + 512 + 4,096 = 4,681 units, cities of 585 as in the 1M run), and a province supervisor.
Times, for the province actor, loading and rendering the sidebar as the pages did before (the subtree three levels
down, nested in Python, one url_for per node) against now (the chain to the current unit and its siblings, links as
prefix + id), with no unit selected and with a grid at the bottom selected. Medians of --repeat runs, interleaved.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

LEVELS = ["province", "city", "county", "station", "grid"]
# The macro the pages used before issue 12 (admin_portal/templates/macros/tree.html at 83d4018), verbatim.
OLD_MACRO = """
{% macro unit_tree(nodes, endpoint, current_id=None, param='unit_id') -%}
<nav class="unit-tree" aria-label="组织机构树">
  {{ _branch(nodes, endpoint, current_id, param) }}
</nav>
{%- endmacro %}
{% macro _branch(nodes, endpoint, current_id, param) -%}
<ul>
  {% for unit, children in nodes %}
  <li>
    <a href="{{ url_for(endpoint, **{param: unit.id}) }}" class="{{ 'current' if unit.id == current_id else '' }}"
       title="{{ unit.level_label }}">{{ unit.name }}</a>
    {% if children %}{{ _branch(children, endpoint, current_id, param) }}{% endif %}
  </li>
  {% endfor %}
</ul>
{%- endmacro %}
{{ unit_tree(tree, 'veterans.index', current_id, param='unit') }}
"""
NEW = """{% from "macros/tree.html" import unit_tree %}
{{ unit_tree(tree, 'veterans.index', current_id, param='unit') }}"""


def build_tree(fan):
    """The bench province (reused when present): returns (province id, the id of its last grid)."""
    from sqlalchemy import text

    from backend.extensions import db

    conn = db.session.connection()
    found = conn.execute(text("SELECT id FROM org_unit WHERE name = :n"), {"n": f"bench-tree-{fan}"}).scalar()
    if found is None:
        next_id = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM org_unit")).scalar() + 1
        rows, level = [], [(None, "/")]
        for depth in range(5):
            below = []
            for parent_id, parent_path in level:
                for _ in range(1 if depth == 0 else fan):
                    uid, next_id = next_id, next_id + 1
                    name = f"bench-tree-{fan}" if depth == 0 else f"单位{uid:06d}"
                    path = f"{parent_path}{uid}/"
                    rows.append({"id": uid, "p": parent_id, "l": LEVELS[depth], "n": name, "path": path, "d": depth})
                    below.append((uid, path))
            level = below
        conn.execute(
            text(
                "INSERT INTO org_unit (id, parent_id, level, name, path, depth, created_at) "
                "VALUES (:id, :p, :l, :n, :path, :d, CURRENT_TIMESTAMP)"
            ),
            rows,
        )
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('org_unit', 'id'), MAX(id)) FROM org_unit"))
        db.session.commit()
        conn = db.session.connection()
        found = rows[0]["id"]
        print(f"tree: {len(rows)} units, fan {fan}", flush=True)
    path = conn.execute(text("SELECT path FROM org_unit WHERE id = :i"), {"i": found}).scalar()
    last = conn.execute(
        text("SELECT MAX(id) FROM org_unit WHERE path LIKE :p AND depth = 4"), {"p": f"{path}%"}
    ).scalar()
    return found, last


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fan", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from sqlalchemy import event

    from admin_portal import create_app
    from admin_portal.orgs.tree import unit_tree
    from backend.extensions import db
    from backend.orgs.service import build_tree as nest
    from backend.orgs.service import list_subtree
    from tests.factories import create_staff

    app = create_app()
    with app.test_request_context("/veterans/"):
        province_id, grid_id = build_tree(args.fan)
        from backend.orgs.models import OrgUnit

        actor = create_staff(unit=db.session.get(OrgUnit, province_id), roles=("supervisor",))
        old_template, new_template = app.jinja_env.from_string(OLD_MACRO), app.jinja_env.from_string(NEW)
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))

        def old(current_id):
            tree = nest(list_subtree(actor=actor, max_depth=actor.org_unit.depth + 3))
            return old_template.render(tree=tree, current_id=current_id)

        def new(current_id):
            return new_template.render(tree=unit_tree(actor, current_id), current_id=current_id)

        cases = [("old", old, None), ("new", new, None), ("old", old, grid_id), ("new", new, grid_id)]
        times, facts = {}, {}
        for run in range(args.repeat + 1):  # the first run warms caches and is not counted
            for name, call, current in cases:
                statements.clear()
                start = time.perf_counter()
                html = call(current)
                elapsed = time.perf_counter() - start
                if run:
                    times.setdefault((name, current), []).append(elapsed)
                facts[(name, current)] = (html.count("<li"), len(statements), len(html))
        print(f"{'sidebar':<28}{'median ms':>10}{'p95 ms':>9}{'nodes':>7}{'stmts':>7}{'KB':>7}")
        for (name, current), values in times.items():
            nodes, stmts, size = facts[(name, current)]
            label = f"{name}, {'grid selected' if current else 'no unit selected'}"
            p95 = sorted(values)[max(0, round(0.95 * len(values)) - 1)]
            print(
                f"{label:<28}{statistics.median(values) * 1000:>10.2f}{p95 * 1000:>9.2f}{nodes:>7}{stmts:>7}"
                f"{size / 1024:>7.0f}"
            )
        for current in (None, grid_id):
            ratio = statistics.median(times[("old", current)]) / statistics.median(times[("new", current)])
            print(f"old / new ({'grid selected' if current else 'no unit selected'}): {ratio:.1f}x")
        db.session.rollback()


if __name__ == "__main__":
    main()

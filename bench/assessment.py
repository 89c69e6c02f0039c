"""Benchmark: the assessment dashboard at province scope against page 1 of the veteran list (issue 20). Prints
ratios, asserts nothing.

    MIGRATION_DATABASE_URL=... .venv/bin/python bench/seed.py            # 1,000,000 veterans, ~5,000 units
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/veterans_bench .venv/bin/python bench/assessment.py

Runs the aggregation job once for this year and last year (timed: it is the nightly job, the only reader of the source
tables), then times, through the app's own code and as a province actor, what a dashboard request reads (the unit's
figures, settings, sibling ranking, children's ranking, 5-year trend and the treemap's two levels below) and what
page 1 of the veteran list reads, each the median of --repeat runs, and prints their ratio. The dashboard reads only
assessment_figure, assessment_setting and org_unit, so its time does not grow with the number of veterans.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")


class Actor:
    def __init__(self, unit):
        self.org_unit, self.org_unit_id, self.scope_path = unit, unit.id, unit.path

    def can(self, permission):
        return True


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--skip-aggregate", action="store_true", help="reuse the figures already computed")
    args = parser.parse_args(argv)
    from sqlalchemy import func, select

    from backend import create_app
    from backend.assessment import service
    from backend.assessment.aggregate import aggregate
    from backend.extensions import db
    from backend.orgs.models import OrgUnit
    from backend.registration.windows import today_cst
    from backend.veterans import queries
    from backend.veterans.models import Veteran
    from config.settings import get_config

    url = os.environ.get("DATABASE_URL")
    config = type("BenchAssessment", (get_config(),), {"SQLALCHEMY_DATABASE_URI": url} if url else {})
    app = create_app(config)
    with app.app_context():
        year = today_cst().year
        veterans = db.session.scalar(select(func.count()).select_from(Veteran))
        units = db.session.scalar(select(func.count()).select_from(OrgUnit))
        print(f"veterans: {veterans:,}  units: {units:,}")
        if not args.skip_aggregate:
            for y in (year - 1, year):
                start = time.perf_counter()
                rows = aggregate(y)
                print(f"aggregation {y}: {rows:,} figure rows in {time.perf_counter() - start:.1f} s")
        root = db.session.scalars(
            select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1)
        ).first()
        actor = Actor(root)

        def dashboard():
            board = service.dashboard(actor=actor, unit_id=root.id, year=year)
            service.treemap(board.unit, year)
            db.session.expunge_all()

        def veteran_list():
            queries.list_veterans(actor=actor, filters=queries.VeteranFilter())
            db.session.expunge_all()

        dashboard(), veteran_list()  # warm caches
        board_time, list_time = timed(dashboard, args.repeat), timed(veteran_list, args.repeat)
        print(f"dashboard (province {root.name}): {board_time * 1000:.1f} ms")
        print(f"veteran list page 1 (province):  {list_time * 1000:.1f} ms")
        print(
            f"RATIO assessment dashboard @province / veteran list page 1 @province (median time): "
            f"{board_time / list_time:.2f}  (no goal in quality.md: the dashboard stays flat as veterans grow)"
        )


if __name__ == "__main__":
    main()

"""Benchmark: peak RSS of every export kind added since issue 12, province against a city (issue 21). Prints; asserts
nothing.

    DATABASE_URL=postgresql+psycopg://veterans_app@127.0.0.1:5432/veterans_bench .venv/bin/python bench/exports_caps.py

Against a database filled by bench/seed.py and bench/seed_caps.py (run bench/assessment.py first: the assessment
export reads the aggregated figures). As bench/during_job.py measures the roster, each export runs through the real
export job (backend/exports/service.request_export, then service.run in this process, Celery eager) in a fresh
subprocess, as the seeded province staff member (1M veterans) and as the city one (about 1/14 of them, the "100k"
side), and the child's ru_maxrss is its peak. Prints rows, seconds and peak RSS per scope and RSS(province) /
RSS(city), goal <= 1.2 (quality.md P6: memory does not grow with the data). A kind whose data is missing (no
adjustment batch in the seed) prints "not measured" with the reason.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_ENV", "development")

from bench import targets  # noqa: E402

KINDS = ("funding_figures", "pension_funding", "pension_adjustment", "assessment")
GOAL = 1.2


def _params(kind, actor):
    """The parameters of a realistic request of `kind` by `actor`, or a string: why it cannot be measured."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.registration.windows import today_cst

    today = today_cst()
    if kind in ("funding_figures", "assessment"):
        return {"year": str(today.year)}
    if kind == "pension_funding":
        from backend.pension.models import FundingTotal

        month = db.session.scalar(select(FundingTotal.month).order_by(FundingTotal.month.desc()).limit(1))
        return {"year": str((month or today).year)}  # the whole year: every month's totals
    from backend.orgs.models import OrgUnit
    from backend.pension.models import AdjustmentBatch

    batch = db.session.scalar(
        select(AdjustmentBatch.id)
        .join(OrgUnit, OrgUnit.id == AdjustmentBatch.unit_id)
        .where(OrgUnit.path.startswith(actor.org_unit.path))
        .order_by(AdjustmentBatch.line_count.desc(), AdjustmentBatch.id)
        .limit(1)
    )
    return {"batch": batch} if batch else "no adjustment batch of this unit in the seeded data"


def child(kind, level, logins):
    """Fresh process: one export of `kind` as the seeded `level` staff member; prints RESULT {...}."""
    os.environ.pop("CELERY_BROKER_URL", None)  # eager Celery: the export runs in this process, measured
    from sqlalchemy import select

    from backend import create_app
    from backend.exports import service
    from backend.exports.models import ExportJob
    from backend.extensions import db
    from backend.staff.models import Staff

    app = create_app()
    with app.app_context():
        username = targets.read_logins(logins)[level][0]
        actor = db.session.scalars(select(Staff).where(Staff.username == username)).one()
        params = _params(kind, actor)
        if isinstance(params, str):
            print("RESULT " + json.dumps({"skipped": params}))
            return
        started = time.monotonic()
        job = service.request_export(actor=actor, kind=kind, params=params)
        service.run(job.id)  # does nothing when the eager task already ran it
        db.session.expire_all()
        done = db.session.get(ExportJob, job.id)
        out = {"rows": done.rows_done, "seconds": time.monotonic() - started, "status": done.status}
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("RESULT " + json.dumps(out), flush=True)


def _run(kind, level, logins):
    command = [sys.executable, __file__, "--child", kind, level, "--logins", logins]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy())
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    return json.loads(line[7:]) if line else {"error": (done.stdout + done.stderr)[-800:]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", default=str(targets.LOGINS))
    parser.add_argument("--kinds", nargs="*", default=list(KINDS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child, args.logins)
    print("new export kinds through the export job, each in a fresh process: province (all) against a city")
    for kind in args.kinds:
        results = {level: _run(kind, level, args.logins) for level in ("city", "province")}
        reason = next((r.get("skipped") or r.get("error") for r in results.values() if "maxrss_kb" not in r), None)
        if reason:
            print(f"  {kind:<20} not measured: {reason.strip()}")
            continue
        city, province = results["city"], results["province"]
        ratio = province["maxrss_kb"] / city["maxrss_kb"]
        verdict = "ok" if ratio <= GOAL else "ABOVE GOAL"
        print(
            f"  {kind:<20} city {city['rows']:>8,} rows {city['seconds']:6.1f} s {city['maxrss_kb'] / 1024:7.1f} MiB"
            f"   province {province['rows']:>8,} rows {province['seconds']:6.1f} s "
            f"{province['maxrss_kb'] / 1024:7.1f} MiB   RSS ratio {ratio:.2f} (goal <= {GOAL}) {verdict}"
            f"   [{city['status']}/{province['status']}]",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""The payroll job: computes a run's lines, PENSION_RUN_BATCH veterans at a time (keyset on veteran id), a fixed
number of set-based queries per batch, each batch committed with the run's progress. Memory stays flat whatever the
size of the subtree: nothing but the current batch is held.

Per veteran with a pay profile in the run's subtree:
- the month's components in force (as recorded when the run was started: rows created later wait for the next run);
- whether pay stands (the state events, else the profile's state): suspended -> a held line of 0 (exception
  "suspended"); stopped or not started -> no line unless something is still owed (back pay, a carried failure);
- back pay (payroll_owed.py): (a) retroactive amounts recorded after the veteran's last confirmed run, for each
  earlier month paid (within PENSION_BACK_PAY_MONTHS): the month's due now minus its due as known at that last run;
  (b) resumed pay: resume events' back_pay_fen not yet claimed, claimed only for lines that pay it; (c) failed
  payments marked fixed (carried_from_id);
- net is never below 0: a larger retroactive cut gives a held line (exception "negative") whose overpayment
  (carry_fen) later runs deduct (deduction_fen, at most the month's gross);
- the funding split: each component's own source; retroactive back pay by its component's source, resumed back pay in
  the month's proportion, a carried failure as it was; a deduction reduces the local share first;
- exceptions: no_account (held out of the bank file), suspended (held), negative (held), overdue (this year's
  registration overdue), jump (the monthly amount moved more than PENSION_JUMP_PERCENT from last month's confirmed
  line). The veteran's name is copied onto the line (veteran_name): the bank file never reads the live record.
Like the registry import: a Celery task (imports queue) with a broker, a background thread of this process without."""

import logging
import threading
from collections import defaultdict

from celery import shared_task
from flask import current_app
from sqlalchemy import func, insert, select, update

from backend import pii
from backend import tasks as task_queue
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.pension import payroll_owed as owed
from backend.pension.amounts import add_months
from backend.pension.models import COMPONENTS, PayAccount, PayAmount, PayProfile, PayrollLine, PayrollRun, PayStateEvent
from backend.veterans.models import Veteran

logger = logging.getLogger(__name__)
STATE_OF = {"start": "active", "resume": "active", "suspend": "suspended", "stop": "stopped"}
FAILURE = "计算发放名册时发生系统错误，请作废后重新编制或联系管理员"


@shared_task(name="pension.compute_run")
def compute_run_task(run_id):
    """Compute payroll run `run_id` (idempotent: only a queued run is computed)."""
    compute(run_id)


def start_job(run_id):
    """Start computing `run_id` off the request thread. :returns: the Thread in the embedded setup, else None."""
    from config.settings import QueueNames

    app = current_app._get_current_object()
    if app.config.get("CELERY_BROKER_URL"):
        task_queue.enqueue(compute_run_task, run_id, queue=QueueNames.IMPORTS)
        return None
    thread = threading.Thread(target=_in_thread, args=(app, run_id), name=f"payroll-{run_id}", daemon=True)
    thread.start()
    return thread


def _in_thread(app, run_id):
    with app.app_context():
        try:
            compute(run_id)
        except Exception as error:  # noqa: BLE001 - compute ends the run itself; a thread never dies loudly
            logger.error("payroll run %s thread failed: %s", run_id, type(error).__name__)
        finally:
            db.session.remove()


def compute(run_id):
    """queued -> computing -> ready (or failed, with the error shown on the run page)."""
    with transaction():
        moved = db.session.execute(
            update(PayrollRun)
            .where(PayrollRun.id == run_id, PayrollRun.state == "queued")
            .values(state="computing", version_id=PayrollRun.version_id + 1)
        ).rowcount
    if not moved:
        return
    try:
        _compute(db.session.get(PayrollRun, run_id))
    except Exception as error:  # noqa: BLE001 - a run never stays "computing"; the cause goes to the log by type
        logger.error("payroll run %s failed: %s", run_id, type(error).__name__)
        db.session.rollback()
        with transaction():
            db.session.execute(  # a run cancelled meanwhile (stuck, then cancelled) stays cancelled
                update(PayrollRun)
                .where(PayrollRun.id == run_id, PayrollRun.state == "computing")
                .values(state="failed", error=FAILURE, finished_at=utcnow(), version_id=PayrollRun.version_id + 1)
            )


def _compute(run):
    unit = db.session.get(OrgUnit, run.unit_id)
    stations = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
    profiles = select(PayProfile.veteran_id, PayProfile.station_id, PayProfile.state).where(
        PayProfile.station_id.in_(stations)
    )
    total = db.session.scalar(select(func.count()).select_from(profiles.subquery()))
    with transaction():
        run.total_rows, run.processed_rows, run.total_fen, run.exception_count = total, 0, 0, 0
    size, last = current_app.config.get("PENSION_RUN_BATCH", 2000), 0
    context = _Context(run, current_app.config)
    while True:
        batch = db.session.execute(
            profiles.where(PayProfile.veteran_id > last).order_by(PayProfile.veteran_id).limit(size)
        ).all()
        if not batch:
            break
        last = batch[-1].veteran_id
        with transaction():
            rows = context.lines(batch)
            if rows:
                db.session.execute(insert(PayrollLine), rows)
            run.processed_rows += len(batch)
            run.total_fen += sum(r["net_fen"] for r in rows if not r["held"])
            run.exception_count += sum(1 for r in rows if r["exceptions"])
    with transaction():
        run.state, run.finished_at = "ready", utcnow()


class _Context:
    def __init__(self, run, config):
        self.run, self.month, self.as_of = run, run.month, run.created_at
        self.jump = int(config.get("PENSION_JUMP_PERCENT", 20))
        self.window_start = add_months(run.month, -int(config.get("PENSION_BACK_PAY_MONTHS", 36)))

    def lines(self, batch):
        ids = [row.veteran_id for row in batch]
        due = self._in_force(ids)
        states = self._states(ids)
        accounts = {
            r.veteran_id: r
            for r in db.session.execute(
                select(PayAccount.veteran_id, PayAccount.bank, PayAccount.account_enc, PayAccount.holder_name).where(
                    PayAccount.veteran_id.in_(ids)
                )
            )
        }
        overdue = self._overdue(ids)
        last_month = self._last_month(ids)
        retro = owed.retro(ids, month=self.month, as_of=self.as_of, window_start=self.window_start)
        state_of = {p.veteran_id: states.get(p.veteran_id) or p.state for p in batch}
        paying = [vid for vid in ids if state_of[vid] != "suspended"]  # a held line pays no resumed back pay
        resumed = owed.claim_resumed(paying, run_id=self.run.id, month=self.month)
        carries = owed.carries(ids)
        deductions = owed.outstanding(ids)
        names = dict(db.session.execute(select(Veteran.id, Veteran.name).where(Veteran.id.in_(ids))).all())
        out = []
        for profile in batch:
            vid = profile.veteran_id
            owing = (retro.get(vid), resumed.get(vid), carries.get(vid), deductions.get(vid, 0))
            line = self._line(profile, state_of[vid], due.get(vid, {}), *owing)
            if line is None:
                continue
            line["veteran_name"] = (names.get(vid) or "")[:64]
            month_fen = line["base_fen"] + line["allowance_fen"] + line["adjustment_fen"]
            if vid in overdue:
                line["exceptions"].append("overdue")
            before = last_month.get(vid)
            if before and month_fen and abs(month_fen - before) * 100 > before * self.jump:
                line["exceptions"].append("jump")
            account = accounts.get(vid)
            if account is None:
                if line["net_fen"] > 0:
                    line["exceptions"].insert(0, "no_account")
                    line["held"] = True
            else:
                number = pii.decrypt(account.account_enc, context="pay_account.number")
                line["account_enc"] = pii.encrypt(number, context="payroll_line.account")
                line["bank"], line["holder_name"] = account.bank, account.holder_name
            out.append(line)
        return out

    def _line(self, profile, state, components, retro, resumed, carry, outstanding):
        line = {
            "run_id": self.run.id,
            "veteran_id": profile.veteran_id,
            "station_id": profile.station_id,
            "deduction_fen": 0,
            "exceptions": [],
            "held": False,
            "status": "pending",
            "carried": False,
            "carried_from_id": None,
            "account_enc": None,
            "bank": None,
            "holder_name": None,
            "carry_fen": 0,
        }
        if state == "suspended":
            line.update(dict.fromkeys(("base_fen", "allowance_fen", "adjustment_fen", "back_pay_fen"), 0))
            line.update(net_fen=0, central_fen=0, local_fen=0, back_pay_central_fen=0, held=True)
            line.update({f"{c}_funding": None for c in COMPONENTS})
            line["exceptions"].append("suspended")
            return line
        stands = state == "active"
        central = 0
        for component in COMPONENTS:
            fen, funding = components.get(component, (0, None)) if stands else (0, None)
            line[f"{component}_fen"], line[f"{component}_funding"] = fen, funding
            central += fen if funding == "central" else 0
        month_fen = sum(line[f"{c}_fen"] for c in COMPONENTS)
        back, back_central = 0, 0
        if retro:
            back, back_central = back + retro[0], back_central + retro[1]
        if resumed:
            share = (resumed * central // month_fen) if month_fen else 0
            back, back_central = back + resumed, back_central + share
        if carry:
            back, back_central = back + carry.net_fen, back_central + carry.central_fen
            line["carried_from_id"] = carry.id
        gross = month_fen + back
        if month_fen == 0 and back == 0 and not resumed:
            return None
        line.update(back_pay_fen=back, back_pay_central_fen=back_central)
        if gross < 0:  # a retroactive cut larger than what is due: held, the rest deducted from later runs
            line.update(net_fen=0, central_fen=0, local_fen=0, carry_fen=-gross, held=True)
            line["exceptions"].append("negative")
            return line
        line["deduction_fen"] = min(outstanding, gross)
        net = gross - line["deduction_fen"]
        central_fen = max(0, min(central + back_central, net))  # a deduction reduces the local share first
        line.update(net_fen=net, central_fen=central_fen, local_fen=net - central_fen)
        return line

    def _in_force(self, ids):
        """{veteran: {component: (fen, funding)}} in force in the month, as recorded when the run was started."""
        ranked = (
            select(
                PayAmount.veteran_id,
                PayAmount.component,
                PayAmount.amount_fen,
                PayAmount.funding,
                func.row_number()
                .over(
                    partition_by=(PayAmount.veteran_id, PayAmount.component),
                    order_by=(PayAmount.effective_month.desc(), PayAmount.id.desc()),
                )
                .label("rank"),
            )
            .where(PayAmount.veteran_id.in_(ids), PayAmount.effective_month <= self.month)
            .where(PayAmount.created_at <= self.as_of)
            .subquery()
        )
        out = defaultdict(dict)
        for row in db.session.execute(select(ranked).where(ranked.c.rank == 1)):
            out[row.veteran_id][row.component] = (row.amount_fen, row.funding)
        return out

    def _states(self, ids):
        """{veteran: state in the month} from the state events (veterans without events are absent)."""
        out = {}
        end = add_months(self.month, 1)
        for row in db.session.execute(
            select(PayStateEvent.veteran_id, PayStateEvent.action)
            .where(PayStateEvent.veteran_id.in_(ids), PayStateEvent.effective_on < end)
            .order_by(PayStateEvent.veteran_id, PayStateEvent.effective_on, PayStateEvent.id)
        ):
            out[row.veteran_id] = STATE_OF[row.action]
        return out

    def _overdue(self, ids):
        from backend.registration.models import Registration

        return set(
            db.session.scalars(
                select(Registration.veteran_id).where(
                    Registration.veteran_id.in_(ids),
                    Registration.year == self.month.year,
                    Registration.status == "overdue",
                )
            )
        )

    def _last_month(self, ids):
        """{veteran: last month's confirmed monthly amount (components, without back pay)}."""
        previous = select(PayrollRun.id).where(
            PayrollRun.state == "confirmed", PayrollRun.month == add_months(self.month, -1)
        )
        month_fen = PayrollLine.base_fen + PayrollLine.allowance_fen + PayrollLine.adjustment_fen
        return dict(
            db.session.execute(
                select(PayrollLine.veteran_id, month_fen).where(
                    PayrollLine.veteran_id.in_(ids), PayrollLine.run_id.in_(previous)
                )
            ).all()
        )

"""Scheduled work (pm_admin/jobs.py): when it is due, and that running it again changes nothing."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from pm_admin import clock
from pm_admin.extensions import db

from models.billing import Bill
from models.period import period_of
from views.commands import bill_run_is_due


@pytest.mark.parametrize("day, moment, due", [
    (0, dt.datetime(2027, 1, 5, 1, 0), False),  # not configured: by hand only
    (5, dt.datetime(2027, 1, 5, 1, 0), True),
    (5, dt.datetime(2027, 1, 5, 1, 1), False),
    (5, dt.datetime(2027, 1, 6, 1, 0), False),
    (28, dt.datetime(2027, 2, 28, 1, 0), True),
])
def test_the_bill_run_is_due_at_one_on_its_day(day, moment, due):
    assert bill_run_is_due(moment, {"BILL_RUN_DAY": day}) is due


def test_the_scheduled_bill_run_issues_this_months_bills_once(app, world):
    queue = app.extensions["pm_jobs"]
    assert set(queue.tasks) >= {"background_job", "job_housekeeping", "bill_run"}
    period = period_of(clock.today())

    def bills():
        db.session.expire_all()
        return db.session.scalar(select(func.count()).select_from(Bill).where(Bill.period == period))

    assert bills() == 0
    queue.run_now("bill_run")
    issued = bills()
    assert issued > 0
    queue.run_now("bill_run")  # idempotent, as every bill run
    assert bills() == issued

"""The four ledgers managers take to Excel: bills (应收明细), the payments journal
(收款流水), arrears with aging (欠费台账) and the collection rate (收缴率报表).

Each ledger is a query read as plain rows (no ORM objects: a ledger may hold
hundreds of thousands of rows), streamed in order into ``pm_admin.export``'s
writer, which sums the totals from the cells it writes. Personal data is
revealed only as the current user may see it (masked outside a request).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext, lazy_gettext as _l, pgettext
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from pm_admin import masking
from pm_admin.errors import DomainError
from pm_admin.export import ExportColumn, Sheet, Summary, write_sheets
from pm_admin.background import counted
from pm_admin.extensions import db
from pm_admin.scope import UNSET, scoped

from models.billing import OPEN_STATUSES, Bill, BillStatus, FeeItem
from models.community import Building, Community
from models.household import Household
from models.payment import Payment
from models.period import parse_period, period_bounds, period_of, periods_between
from models.resident import Resident, household_owners
from models.staff import Staff

from .arrears import AGING_BUCKETS, OpenBills, collection_rate, open_bill_columns
from pm_admin import clock

ZERO = Decimal("0")
FETCH = 2000  # rows per round trip from a server-side cursor

LEDGERS = {
    "bills": _l("Bills ledger (应收明细)"),
    "payments": _l("Payments journal (收款流水)"),
    "arrears": _l("Arrears ledger (欠费台账)"),
    "collection": _l("Collection rate (收缴率报表)"),
}


@dataclass(frozen=True)
class LedgerRange:
    """The months (bills, collection) and local days (payments) a ledger covers."""

    first_period: str
    last_period: str
    first_day: dt.date
    last_day: dt.date
    text: str

    @property
    def periods(self) -> list[str]:
        return periods_between(self.first_period, self.last_period)


def _date(text, what) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise DomainError(_l("%(what)s “%(value)s” is not a date: write it as 2026-11-23."), what=what,
                          value=str(text)) from None


def ledger_range(period=None, date_from=None, date_to=None, *, today: dt.date | None = None) -> LedgerRange:
    """``--period 2026-11`` or ``--from 2026-11-01 --to 2026-11-15``; the current month when neither."""
    if period and (date_from or date_to):
        raise DomainError(_l("Give either a period or a date range (from and to), not both."))
    if period or not (date_from or date_to):
        period = parse_period(period or period_of(today or clock.today()))
        first, last = period_bounds(period)
        return LedgerRange(period, period, first, last, period)
    if not (date_from and date_to):
        raise DomainError(_l("A date range needs both a from date and a to date."))
    first, last = _date(date_from, _l("From")), _date(date_to, _l("To"))
    if first > last:
        raise DomainError(_l("The from date %(first)s is after the to date %(last)s."), first=first, last=last)
    if (last - first).days > 3700:
        raise DomainError(_l("A ledger covers at most ten years."))
    return LedgerRange(period_of(first), period_of(last), first, last, f"{first} – {last}")


def find_community(name: str | None, scope_ids=UNSET) -> Community | None:
    if not name:
        return None
    community = db.session.scalar(scoped(select(Community), Community, scope_ids).where(Community.name == name.strip()))
    if community is None:
        raise DomainError(_l("No community named “%(name)s”."), name=name)
    return community


def _where_community(query, model, scope_ids, community_id):
    query = scoped(query, model, scope_ids)
    if community_id:
        query = query.where(model.community_id == community_id)
    return query


def _stream(query):
    return db.session.execute(query.execution_options(yield_per=FETCH))


def _label(value) -> str:
    return str(getattr(value, "label", value))


# -- 应收明细 ----------------------------------------------------------------------

def bills_rows(span: LedgerRange, *, scope_ids=UNSET, community_id=None):
    return _stream(_bills_query(span, scope_ids=scope_ids, community_id=community_id))


def _bills_query(span: LedgerRange, *, scope_ids=UNSET, community_id=None):
    query = (select(Community.name.label("community"), Building.name.label("building"), Household.unit,
                    Household.room, FeeItem.name.label("fee_item"), Bill.period, Bill.quantity, Bill.unit_price,
                    Bill.discount_percent, Bill.amount, Bill.paid, Bill.status, Bill.due_on, Bill.issued_at)
             .select_from(Bill).join(Household, Bill.household_id == Household.id)
             .join(Building, Household.building_id == Building.id).join(Community, Bill.community_id == Community.id)
             .join(FeeItem, Bill.fee_item_id == FeeItem.id)
             .where(Bill.status != BillStatus.voided, Bill.period >= span.first_period, Bill.period <= span.last_period)
             .order_by(Community.name, Bill.period, Building.name, Household.unit, Household.room, FeeItem.name,
                       Bill.id))
    return _where_community(query, Bill, scope_ids, community_id)


def address_columns() -> list[ExportColumn]:
    """Where a row's household is, as every ledger names it."""
    return [
        ExportColumn(gettext("Community"), "text", lambda r: r.community),
        ExportColumn(gettext("Building"), "text", lambda r: r.building),
        ExportColumn(gettext("Unit"), "text", lambda r: r.unit),
        ExportColumn(gettext("Room"), "text", lambda r: r.room),
    ]


def bills_sheet(span, **where) -> Sheet:
    columns = [
        *address_columns(),
        ExportColumn(gettext("Fee item"), "text", lambda r: r.fee_item),
        ExportColumn(gettext("Period"), "text", lambda r: r.period),
        ExportColumn(gettext("Quantity"), "decimal", lambda r: r.quantity),
        ExportColumn(gettext("Unit price"), "decimal", lambda r: r.unit_price),
        ExportColumn(gettext("Discount %"), "decimal", lambda r: r.discount_percent),
        ExportColumn(gettext("Amount"), "money", lambda r: r.amount),
        ExportColumn(gettext("Paid"), "money", lambda r: r.paid),
        ExportColumn(pgettext("amount", "Open"), "money", lambda r: r.amount - r.paid),
        ExportColumn(gettext("Status"), "text", lambda r: _label(r.status)),
        ExportColumn(pgettext("bill", "Due"), "date", lambda r: r.due_on),
        ExportColumn(pgettext("bill", "Issued"), "datetime", lambda r: r.issued_at),
    ]
    return Sheet(gettext("Bills"), [gettext("Voided bills are not listed.")], columns, bills_rows(span, **where),
                 gettext("Total"), [Summary(gettext("By fee item"), lambda r: r.fee_item)])


# -- 收款流水 ----------------------------------------------------------------------

def payments_rows(span: LedgerRange, *, scope_ids=UNSET, community_id=None):
    return _stream(_payments_query(span, scope_ids=scope_ids, community_id=community_id))


def _payments_query(span: LedgerRange, *, scope_ids=UNSET, community_id=None):
    start, end = clock.day_bounds(span.first_day, span.last_day)
    original = aliased(Payment)
    query = (select(Payment.receipt_no, Payment.paid_at, Community.name.label("community"),
                    Building.name.label("building"), Household.unit, Household.room, Payment.kind, Payment.method,
                    func.coalesce(Staff.display_name, "system").label("collector"), Payment.amount,
                    Payment.advance_added, Payment.advance_used, original.receipt_no.label("refund_of"))
             .select_from(Payment).join(Household, Payment.household_id == Household.id)
             .join(Building, Household.building_id == Building.id)
             .join(Community, Payment.community_id == Community.id)
             .outerjoin(Staff, Payment.collector_id == Staff.id)
             .outerjoin(original, Payment.refund_of_id == original.id)
             .where(Payment.paid_at >= start, Payment.paid_at < end)
             .order_by(Payment.paid_at, Payment.receipt_no))
    return _where_community(query, Payment, scope_ids, community_id)


def payments_sheet(span, **where) -> Sheet:
    columns = [
        ExportColumn(gettext("Receipt"), "text", lambda r: r.receipt_no),
        ExportColumn(gettext("Paid at"), "datetime", lambda r: r.paid_at),
        *address_columns(),
        ExportColumn(gettext("Kind"), "text", lambda r: _label(r.kind)),
        ExportColumn(pgettext("payment", "Method"), "text", lambda r: _label(r.method)),
        ExportColumn(gettext("Collector"), "text", lambda r: r.collector),
        ExportColumn(gettext("Amount"), "money", lambda r: r.amount),
        ExportColumn(gettext("To advance"), "money", lambda r: r.advance_added),
        ExportColumn(gettext("From advance"), "money", lambda r: r.advance_used),
        ExportColumn(gettext("Refund of"), "text", lambda r: r.refund_of),
    ]
    return Sheet(gettext("Payments"), [gettext("Refunds are negative payments.")], columns,
                 payments_rows(span, **where), gettext("Total"),
                 [Summary(gettext("By method"), lambda r: _label(r.method)),
                  Summary(gettext("By collector"), lambda r: r.collector)])


# -- 欠费台账 ----------------------------------------------------------------------

@dataclass(kw_only=True)
class ArrearsLine(OpenBills):
    community: str
    building: str
    unit: str
    room: str
    owner: str | None
    phone: str | None


def arrears_rows(on: dt.date, *, scope_ids=UNSET, community_id=None):
    """One line per household with open bills: what is open, split by the age of
    each bill (days since it fell due), months in arrears, late fees accrued to ``on``."""
    owner = household_owners()
    query = (select(*open_bill_columns(), Community.name.label("community"), Building.name.label("building"),
                    Household.unit, Household.room, owner.c.name.label("owner"), owner.c.phone)
             .select_from(Bill).join(Household, Bill.household_id == Household.id)
             .join(Building, Household.building_id == Building.id).join(Community, Bill.community_id == Community.id)
             .join(FeeItem, Bill.fee_item_id == FeeItem.id)
             .outerjoin(owner, owner.c.household_id == Household.id)
             .where(Bill.status.in_(OPEN_STATUSES))
             .order_by(Community.name, Building.name, Household.unit, Household.room, Bill.household_id,
                       Bill.period, Bill.id))
    phone_rule = Resident.__table__.c.phone.info
    line, current = None, None
    for row in _stream(_where_community(query, Bill, scope_ids, community_id)):
        if row.household_id != current:
            if line is not None:
                yield line
            current = row.household_id
            line = ArrearsLine(community=row.community, building=row.building, unit=row.unit, room=row.room,
                               owner=row.owner, phone=masking.reveal(phone_rule, row.phone))
        line.add(row, on)
    if line is not None:
        yield line


def arrears_sheet(on: dt.date, **where) -> Sheet:
    labels = {key: str(label) for key, label, *_rest in AGING_BUCKETS}
    columns = [
        *address_columns(),
        ExportColumn(gettext("Owner"), "text", lambda r: r.owner),
        ExportColumn(gettext("Phone"), "text", lambda r: r.phone),
        ExportColumn(gettext("Oldest unpaid period"), "text", lambda r: r.oldest_period),
        ExportColumn(pgettext("arrears", "Months"), "int", lambda r: len(r.periods), total=False),
        ExportColumn(gettext("Days"), "int", lambda r: r.days, total=False),
        ExportColumn(gettext("Age"), "text", lambda r: labels[r.bucket]),
        *[ExportColumn(labels[key], "money", lambda r, key=key: r.by_bucket[key]) for key in labels],
        ExportColumn(gettext("Owed"), "money", lambda r: r.owed),
        ExportColumn(gettext("Late fees"), "money", lambda r: r.late_fees),
    ]
    title = [gettext("Open bills on %(day)s, by age since each bill fell due (not yet due: the youngest); late fees "
                     "accrued to that day and not yet charged.", day=on.isoformat())]
    return Sheet(gettext("Arrears"), title, columns, arrears_rows(on, **where), gettext("Total"),
                 [Summary(gettext("By age of the oldest open bill"), lambda r: labels[r.bucket])])


# -- 收缴率报表 ---------------------------------------------------------------------

@dataclass
class RateLine:
    period: str
    rate: object  # reports.arrears.Rate


def collection_rows(span: LedgerRange, *, scope_ids=UNSET, community_id=None):
    for period in span.periods:
        report = collection_rate(period, scope_ids=scope_ids, community_id=community_id)
        for rate in report["buildings"]:
            yield RateLine(period, rate)


def collection_collectors(span: LedgerRange, *, scope_ids=UNSET, community_id=None):
    for period in span.periods:
        for rate in collection_rate(period, scope_ids=scope_ids, community_id=community_id)["collectors"]:
            yield RateLine(period, rate)


def collection_sheets(span, **where) -> list[Sheet]:
    first = [
        ExportColumn(gettext("Period"), "text", lambda r: r.period),
    ]
    billed = ExportColumn(gettext("Billed"), "money", lambda r: r.rate.billed)
    collected = ExportColumn(gettext("Collected"), "money", lambda r: r.rate.collected)
    households = ExportColumn(gettext("Households billed"), "int", lambda r: r.rate.households_billed, total=True)
    paid = ExportColumn(gettext("Fully paid"), "int", lambda r: r.rate.households_paid, total=True)
    prior = ExportColumn(gettext("Prior arrears at start"), "money", lambda r: r.rate.prior_open_at_start)
    recovered = ExportColumn(gettext("Recovered"), "money", lambda r: r.rate.prior_collected)
    columns = first + [
        ExportColumn(gettext("Building"), "text", lambda r: r.rate.label),
        billed, collected,
        ExportColumn(gettext("Collection rate"), "percent", lambda r: r.rate.rate, ratio_of=(collected, billed)),
        households, paid,
        ExportColumn(gettext("Household rate"), "percent", lambda r: r.rate.household_rate,
                     ratio_of=(paid, households)),
        prior, recovered,
        ExportColumn(gettext("Recovery rate"), "percent", lambda r: r.rate.recovery_rate,
                     ratio_of=(recovered, prior)),
    ]
    definitions = [gettext("Collection rate = collected ÷ billed (voided bills excluded); collected counts "
                           "payments to the period's bills whenever made, less refunds.")]
    by_collector = first + [
        ExportColumn(gettext("Collector"), "text", lambda r: r.rate.label),
        ExportColumn(gettext("Collected against this period"), "money", lambda r: r.rate.collected),
        ExportColumn(gettext("Share of billed"), "percent", lambda r: r.rate.rate),
    ]
    summaries = [Summary(gettext("By period"), lambda r: r.period)] if len(span.periods) > 1 else []
    return [Sheet(gettext("Collection rate"), definitions, columns, collection_rows(span, **where), gettext("Total"),
                  summaries),
            Sheet(gettext("By collector"), [], by_collector, collection_collectors(span, **where), gettext("Total"))]


# -- the workbook --------------------------------------------------------------------

def ledger_row_count(ledger: str, span: LedgerRange, *, scope_ids=UNSET, community: Community | None = None,
                     limit: int | None = None) -> int:
    """The rows of the ledger's main sheet, counted no further than ``limit``: whether it
    is too large to wait for, and the progress of a background export."""
    where = {"scope_ids": scope_ids, "community_id": community.id if community else None}
    if ledger == "bills":
        query = _bills_query(span, **where).order_by(None)
    elif ledger == "payments":
        query = _payments_query(span, **where).order_by(None)
    elif ledger == "arrears":  # one line per household with open bills
        query = _where_community(select(Bill.household_id).where(Bill.status.in_(OPEN_STATUSES)).distinct(),
                                 Bill, where["scope_ids"], where["community_id"])
    else:  # one line per building and period: an upper bound
        buildings = _where_community(select(func.count()).select_from(Building), Building,
                                     where["scope_ids"], where["community_id"])
        return db.session.scalar(buildings) * len(span.periods)
    if limit is not None:
        query = query.limit(limit)
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def write_ledger(path: str, ledger: str, span: LedgerRange, *, scope_ids=UNSET, community: Community | None = None,
                 exported_by: str = "", exported_at: str = "", progress=None) -> list[int]:
    """Write ``ledger`` for ``span`` to ``path``; returns the data rows per sheet.
    ``progress`` (pm_admin.background.Progress) hears of the rows as they are written."""
    if ledger not in LEDGERS:
        raise DomainError(_l("There is no ledger called “%(name)s”; choose bills, payments, arrears or collection."),
                          name=ledger)
    where = {"scope_ids": scope_ids, "community_id": community.id if community else None}
    if ledger == "bills":
        sheets = [bills_sheet(span, **where)]
    elif ledger == "payments":
        sheets = [payments_sheet(span, **where)]
    elif ledger == "arrears":
        sheets = [arrears_sheet(clock.today(), **where)]  # what is open now: no history to go back to
    else:
        sheets = collection_sheets(span, **where)
    heading = " · ".join(part for part in (
        str(LEDGERS[ledger]), span.text if ledger != "arrears" else "",
        community.name if community else gettext("All communities"),
        gettext("exported by %(user)s at %(time)s", user=exported_by, time=exported_at) if exported_by else "",
    ) if part)
    for sheet in sheets:
        sheet.title_lines = [heading, *sheet.title_lines]
    sheets[0].rows = counted(sheets[0].rows, progress)
    return write_sheets(path, sheets)

"""Demo bank transfers: last month's statement of 阳光花园's account, about twenty credits
as the bank exported them — most naming the room and paying what is owed, one whose room
is in several buildings, transfers from payers nobody knows, a debit — imported through
the same plan as the panel's upload, waiting for the collector's review."""

import datetime as dt
import random

from pm_admin.importing import SheetRow
from pm_admin.money import format_amount

from models.bank import owed_by, plan_bank_statement
from models.household import Household
from pm_admin import clock

ROOM_WRITINGS = ("{b}栋{u}单元{r}物业费", "{b}-{u}-{r}", "{b}栋{r}室 物业费", "交{b}栋{u}单元{r}管理费")


def load_bank_demo(rng: random.Random, community, households: list[Household], collector) -> dict[str, int]:
    owing = [h for h in households if h.building.community_id == community.id and h.current_residents
             and owed_by(h) > 0]
    rng.shuffle(owing)
    today, rows = clock.today(), []

    def row(household_or_none, amount, payer, memo, days_back):
        number = len(rows) + 4  # below the bank's two title rows and the header
        rows.append(SheetRow(number, {
            "transacted_on": (today - dt.timedelta(days=days_back)).strftime("%Y/%m/%d"),
            "amount": amount, "payer": payer, "payer_account": f"6217{rng.randrange(10**11, 10**12)}",
            "memo": memo, "reference": f"HX{today:%Y%m}{number:05d}"}))

    for household in owing[:15]:
        building = household.building.name.removesuffix("栋")
        memo = rng.choice(ROOM_WRITINGS).format(b=building, u=household.unit, r=household.room)
        row(household, format_amount(owed_by(household)), household.current_residents[0].name, memo,
            rng.randrange(1, 3))
    paid_ahead = owing[15]  # pays a round sum, more than owed: the rest goes to the advance balance
    row(paid_ahead, "2,000.00", paid_ahead.current_residents[0].name, "预交物业费", 2)
    row(None, "356.00", "刘某某", f"{owing[16].room}物业费", 2)  # the room is in every building: ambiguous
    row(None, "1,280.00", "上海某某保洁服务有限公司", "退保证金", 1)
    row(None, "88.00", "张某", "转账", 1)
    rows.append(SheetRow(len(rows) + 4, {"transacted_on": today.strftime("%Y/%m/%d"), "amount": "-15.00",
                                         "payer": "", "payer_account": "", "memo": "手续费",
                                         "reference": f"HX{today:%Y%m}99999"}))
    plan = plan_bank_statement(rows, community=community, bank_account="6222021001000000001",
                               filename="工商银行对账单.xlsx", actor=collector)
    counts = plan.apply()
    return {"bank lines": counts["lines"]}

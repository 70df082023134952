"""Demo cards (卡证), handovers (收楼) and a change of owner (过户), through the desk's services:
access cards for many owners (some with a deposit), parking cards for renters of a space, a few
replaced or cancelled; two handovers of vacant flats with defects (one completed, a defect of it
ordered for repair; one still a draft); one owner who sold, whose cards wait for cancelling."""

import datetime as dt
import random

from pm_admin.extensions import db

from models.card import CardKind, cancel_card, issue_card, replace_card
from models.handover import Handover, HandoverDefect, complete_handover, order_defect_repair, transfer_ownership
from models.household import HouseholdState
from models.repair import RepairCategory
from models.resident import ResidentKind

DEFECTS = [("客厅", "墙面", "墙面有裂缝约30厘米", RepairCategory.walls_ceilings),
           ("主卧", "窗户", "窗框密封条脱落，下雨渗水", RepairCategory.doors_windows),
           ("卫生间", "地漏", "地漏返味，排水慢", RepairCategory.plumbing),
           ("厨房", "插座", "一个五孔插座无电", RepairCategory.electrical)]


def load_card_demo(rng: random.Random, households: list, staff: dict, today: dt.date) -> dict[str, int]:
    desks = {s.communities[0].id: s for s in staff.values() if s.role.name == "receptionist"}
    cards = []
    for household in households:
        owner = next((r for r in household.residents if r.kind is ResidentKind.owner), None)
        if owner is None or household.state is HouseholdState.vacant or rng.random() > 0.35:
            continue
        desk = desks[household.building.community_id]
        number = f"MJ{household.building.community_id}{len(cards) + 1:05d}"
        cards.append(issue_card(household, actor=desk, kind=CardKind.access, number=number, resident=owner,
                                deposit="20" if rng.random() < 0.3 else "0",
                                issued_on=owner.moved_in_on or today))
        for vehicle in household.vehicles:
            if vehicle.parking_space is not None:
                cards.append(issue_card(household, actor=desk, kind=CardKind.parking,
                                        number=f"TC-{vehicle.plate}", resident=owner,
                                        issued_on=owner.moved_in_on or today, valid_until=vehicle.rental_expires_on))
    for card in cards[:6]:
        replace_card(card, actor=desks[card.community_id], new_number=f"{card.number}B",
                     reason=rng.choice(["lost", "damaged"]), fee="20")
    for card in cards[6:9]:
        cancel_card(card, actor=desks[card.community_id], reason="业主退卡")

    vacant = [h for h in households if h.state is HouseholdState.vacant and not h.meter_readings
              and h.building.community_id in desks]
    for number, household in enumerate(vacant[:2]):
        desk = desks[household.building.community_id]
        owner = next((r for r in household.residents if r.kind is ResidentKind.owner), None)
        handover = Handover(household=household, handed_over_on=today - dt.timedelta(days=3 * number), staff=desk,
                            owner=owner, keys_handed_over=4, keys_description="入户门钥匙3把、信箱钥匙1把",
                            water_reading=rng.choice([3, 5, 8]), electricity_reading=rng.choice([12, 20, 31]),
                            new_state=HouseholdState.decorating if number == 0 else HouseholdState.occupied)
        db.session.add(handover)
        defects = [HandoverDefect(handover=handover, room=room, item=item, description=text, category=category)
                   for room, item, text, category in DEFECTS[number:number + 2]]
        db.session.add_all(defects)
        db.session.flush()
        if number == 0:
            complete_handover(handover, actor=desk)
            order_defect_repair(defects[0], actor=desk)

    sold = next(h for h in households if h.state is HouseholdState.occupied and h.cards
                and h.building.community_id in desks)
    transfer_ownership(sold, actor=desks[sold.building.community_id], new_owner_name="钱新业",
                       phone="13800138000", transferred_on=today, carry_over=True, notes="二手房买卖过户")
    db.session.flush()
    return {"cards": len(cards), "handovers": 2, "changes of owner": 1}

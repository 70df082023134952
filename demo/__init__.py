"""Demo data: two communities of realistic households, and staff to log in as."""

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from pm_admin.extensions import db

from models.community import Building, Community
from models.household import Household, HouseholdState
from models.paid_service import ServicePrice
from models.parking import ParkingRental
from models.key import Key, KeyKind, lend_key, return_key
from models.message import MessageKind, MessageTemplate
from models.resident import Resident, ResidentKind, id_check_char
from models.staff import Role, Staff, create_staff
from models.vehicle import ParkingSpace, SpaceKind, Vehicle
from pm_admin import clock

from .bank import load_bank_demo
from .balance import load_balance_demo
from .billing import load_billing_demo
from .patrols import load_patrol_demo
from .cards import load_card_demo
from .notices import load_notice_demo
from .documents import load_documents_demo
from .services import load_service_demo
from .surveys import load_survey_demo

DEMO_PASSWORD = "pm-demo-2026"
COMMUNITIES = [("阳光花园", "深圳市南山区阳光路88号"), ("翠湖苑", "深圳市福田区翠湖街12号")]
# username, role, community (None: all), display name
DEMO_STAFF = [
    ("zhuguan", "supervisor", None, "王主管"),
    ("kefu", "receptionist", "阳光花园", "李小红"),
    ("kefu2", "receptionist", "翠湖苑", "陈晓燕"),
    ("shoufei", "collector", "阳光花园", "张会计"),
    ("shoufei2", "collector", "翠湖苑", "刘收费"),
    ("weixiu", "engineer", None, "赵师傅"),
    ("weixiu2", "engineer", "翠湖苑", "钱师傅"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玉晓东海波宇浩然子轩欣怡佳琪思雨"
REGIONS = ["440305", "440304", "440106", "110101", "310104", "430102", "360102", "420106"]
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
AREAS = [Decimal("68.40"), Decimal("89.50"), Decimal("105.20"), Decimal("128.00"), Decimal("143.60")]


def is_empty() -> bool:
    return db.session.scalar(select(Household.id).limit(1)) is None and \
        db.session.scalar(select(Staff.id).limit(1)) is None


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(9))


def _id_number(rng: random.Random) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 55 * 365))
    first17 = rng.choice(REGIONS) + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def _plate(rng: random.Random, taken: set[str]) -> str:
    while True:
        if rng.random() < 0.2:
            plate = "粤BD" + "".join(rng.choice("0123456789") for _ in range(5))
        else:
            plate = "粤" + rng.choice("BBBBSAE") + "".join(rng.choice(PLATE_CHARS) for _ in range(5))
        if plate not in taken:
            taken.add(plate)
            return plate


def load_demo(seed: int = 2026) -> dict[str, int]:
    rng = random.Random(seed)
    today = clock.today()
    communities = [Community(name=name, address=address) for name, address in COMMUNITIES]
    db.session.add_all(communities)
    db.session.flush()
    by_name = {c.name: c for c in communities}
    staff = {
        username: create_staff(username, role=Role[role], password=DEMO_PASSWORD, display_name=display,
                               communities=[by_name[scope]] if scope else None)
        for username, role, scope, display in DEMO_STAFF
    }
    households, residents, vehicles, spaces, keys = [], [], [], [], []
    plates: set[str] = set()
    for community in communities:
        community_spaces = [
            ParkingSpace(community=community, number=f"B1-{n:03d}", kind=SpaceKind.underground) for n in range(1, 181)
        ] + [ParkingSpace(community=community, number=f"D-{n:02d}", kind=SpaceKind.surface) for n in range(1, 21)]
        spaces += community_spaces
        free_spaces = list(community_spaces)
        rng.shuffle(free_spaces)
        for b in range(1, 6):
            building = Building(community=community, name=f"{b}栋", floors=15)
            for unit in ("1", "2"):
                for floor in range(1, 16):
                    for door in (1, 2):
                        state = rng.choices(list(HouseholdState), weights=(10, 75, 5, 10))[0]
                        household = Household(building=building, unit=unit, room=f"{floor}{door:02d}",
                                              floor_area=rng.choice(AREAS), state=state)
                        households.append(household)
                        owner = Resident(household=household, kind=ResidentKind.owner, name=_name(rng),
                                         phone=_phone(rng), id_number=_id_number(rng),
                                         moved_in_on=today - dt.timedelta(days=rng.randrange(60, 3650)))
                        residents.append(owner)
                        if state is HouseholdState.occupied:
                            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                                residents.append(Resident(household=household, kind=ResidentKind.family,
                                                          name=owner.name[0] + _name(rng)[1:], phone=_phone(rng),
                                                          moved_in_on=owner.moved_in_on))
                        if state is HouseholdState.rented:
                            residents.append(Resident(household=household, kind=ResidentKind.tenant, name=_name(rng),
                                                      phone=_phone(rng), id_number=_id_number(rng),
                                                      moved_in_on=today - dt.timedelta(days=rng.randrange(10, 700))))
                        if state in (HouseholdState.occupied, HouseholdState.rented) and rng.random() < 0.4:
                            space = free_spaces.pop() if free_spaces and rng.random() < 0.7 else None
                            vehicles.append(Vehicle(
                                plate=_plate(rng, plates), household=household, parking_space=space,
                                rental_expires_on=today + dt.timedelta(days=rng.randrange(-20, 200)) if space else None,
                                description=rng.choice(["白色大众", "黑色丰田", "银色本田", "蓝色比亚迪", "红色特斯拉"])))
                        if state is HouseholdState.vacant or rng.random() < 0.03:
                            keys.append(Key(household=household,
                                            kind=KeyKind.vacant_unit if state is HouseholdState.vacant else KeyKind.owner_entrusted,
                                            cabinet_slot=f"{community.id}-{len(keys) + 1:03d}",
                                            label=f"{building.name}{unit}单元{floor}{door:02d}"))
    db.session.add_all(spaces + households + residents + vehicles + keys)
    db.session.flush()
    supervisor = staff["zhuguan"]
    for key in keys[:12]:
        lend_key(key, actor=supervisor, borrower=_name(rng), purpose=rng.choice(["带客户看房", "维修入户", "业主亲属取物"]),
                 due_back=clock.now() + dt.timedelta(hours=rng.randrange(2, 48)))
    for key in keys[:5]:
        return_key(key, actor=supervisor)
    counts = {"communities": len(communities), "households": len(households), "residents": len(residents),
              "vehicles": len(vehicles), "parking spaces": len(spaces), "keys": len(keys), "staff": len(staff)}
    counts.update(_rentals_and_price_lists(rng, communities, households, vehicles, spaces))
    counts.update(load_billing_demo(rng, communities, households, staff))  # first: its bulk receipts start at 1
    counts.update(load_service_demo(rng, staff, clock.now(), id_number=lambda: _id_number(rng)))
    counts.update(load_patrol_demo(rng, staff))
    counts.update(load_notice_demo(staff, clock.now()))
    counts.update(load_bank_demo(rng, communities[0], households, staff["shoufei"]))
    counts.update(load_survey_demo(rng, communities, households, staff))
    counts.update(_message_templates())  # last: the demo's history texts nobody
    counts.update(load_documents_demo(staff))
    counts.update(load_balance_demo(rng, communities, staff))
    counts.update(load_card_demo(rng, households, staff, today))
    return counts


def _message_templates() -> dict[str, int]:
    """The templates a provider would have approved (their ids are made up; the log backend sends nothing)."""
    texts = {
        MessageKind.payment_reminder: ("SMS_460001", "尊敬的业主，您的房屋{address}截至{date}尚欠物业服务等"
                                                     "费用{amount}元，请及时缴纳。如已缴纳请忽略。"),
        MessageKind.repair_registered: ("SMS_460002", "您的报修（单号{serial}，{address}）已受理，"
                                                      "维修人员将尽快与您联系。"),
        MessageKind.repair_completed: ("SMS_460003", "您的报修（单号{serial}，{address}）已完工，"
                                                     "客服将进行回访，感谢您的配合。"),
        MessageKind.notice_posted: ("SMS_460004", "尊敬的业主（{address}），物业服务中心发布了《{title}》，"
                                                  "详见小区公告栏。"),
    }
    db.session.add_all([MessageTemplate(kind=kind, provider_template_id=code, text=text, active=True)
                        for kind, (code, text) in texts.items()])
    db.session.flush()
    return {"message templates": len(texts)}


MONTHLY_FEES = {SpaceKind.underground: Decimal("300.00"), SpaceKind.surface: Decimal("150.00"),
                SpaceKind.mechanical: Decimal("200.00")}
PRICE_LIST = [("室内保洁", "小时", "40.00"), ("桶装水配送", "桶", "18.00"), ("配钥匙", "把", "10.00"),
              ("疏通下水道", "次", "80.00"), ("家电清洗", "台", "120.00")]


def _rentals_and_price_lists(rng: random.Random, communities, households, vehicles, spaces) -> dict[str, int]:
    """A monthly rental for each vehicle with a space (paid through its expiry date, so some
    renters are due for the reminder call), a few spaces sold to owners, a price list each."""
    rentals = [ParkingRental(community_id=v.parking_space.community_id, household=v.household, vehicle=v,
                             parking_space=v.parking_space, monthly_fee=MONTHLY_FEES[v.parking_space.kind],
                             starts_on=v.rental_expires_on - dt.timedelta(days=rng.randrange(60, 720)),
                             paid_through=v.rental_expires_on)
               for v in vehicles if v.parking_space is not None]
    rented = {v.parking_space.id for v in vehicles if v.parking_space is not None}
    for community in communities:
        free = [s for s in spaces if s.community_id == community.id and s.id not in rented]
        owners = [h for h in households if h.building.community_id == community.id]
        for space in rng.sample(free, min(15, len(free))):
            space.owner_household = rng.choice(owners)
    prices = [ServicePrice(community=c, name=name, unit=unit, price=Decimal(price))
              for c in communities for name, unit, price in PRICE_LIST]
    db.session.add_all(rentals + prices)
    db.session.flush()
    return {"parking rentals": len(rentals), "service prices": len(prices)}

"""How the domain appears in the panel: the site declaration."""

from pm_admin.i18n import _l
from pm_admin.site import Site

from models import Building, Community, Household, Key, KeyLoan, ParkingSpace, Resident, Staff, Vehicle
from models import DecorationApplication, DecorationViolation, DecorationWorker, GoodsPass, ReceptionRecord, RepairOrder
from models.permissions import ROLE_PERMISSIONS

from .commands import COMMANDS
from .households import BuildingView, CommunityView, HouseholdView, ResidentView
from .keys import KeyLoanView, KeyView
from .repairs import RepairOrderView
from .services import DecorationView, DecorationViolationView, DecorationWorkerView, GoodsPassView, ReceptionView
from .staff import StaffView
from .vehicles import ParkingSpaceView, VehicleView

FILES = _l("Household files")
KEYS = _l("Keys")
SERVICE = _l("Customer service")
SYSTEM = _l("System")


def register_views(panel) -> None:
    panel.add_view(HouseholdView(Household, name=_l("Households"), endpoint="household", category=FILES))
    panel.add_view(ResidentView(Resident, name=_l("Residents"), endpoint="resident", category=FILES))
    panel.add_view(VehicleView(Vehicle, name=_l("Vehicles"), endpoint="vehicle", category=FILES))
    panel.add_view(ParkingSpaceView(ParkingSpace, name=_l("Parking spaces"), endpoint="parking_space", category=FILES))
    panel.add_view(BuildingView(Building, name=_l("Buildings"), endpoint="building", category=FILES))
    panel.add_view(CommunityView(Community, name=_l("Communities"), endpoint="community", category=FILES))
    panel.add_view(KeyView(Key, name=_l("Key cabinet"), endpoint="key", category=KEYS))
    panel.add_view(KeyLoanView(KeyLoan, name=_l("Key loans"), endpoint="key_loan", category=KEYS))
    panel.add_view(RepairOrderView(RepairOrder, name=_l("Repair orders"), endpoint="repair", category=SERVICE))
    panel.add_view(ReceptionView(ReceptionRecord, name=_l("Reception log"), endpoint="reception", category=SERVICE))
    panel.add_view(DecorationView(DecorationApplication, name=_l("Decoration applications"), endpoint="decoration",
                                  category=SERVICE))
    panel.add_view(DecorationWorkerView(DecorationWorker, name=_l("Decoration workers"), endpoint="decoration_worker",
                                        category=SERVICE))
    panel.add_view(DecorationViolationView(DecorationViolation, name=_l("Decoration violations"),
                                           endpoint="decoration_violation", category=SERVICE))
    panel.add_view(GoodsPassView(GoodsPass, name=_l("Goods-release passes"), endpoint="goods_pass", category=SERVICE))
    panel.add_view(StaffView(Staff, name=_l("Staff accounts"), endpoint="staff", category=SYSTEM))


site = Site(
    name=_l("Property customer service"),
    user_model=Staff,
    role_permissions=ROLE_PERMISSIONS,
    register_views=register_views,
    commands=COMMANDS,
)

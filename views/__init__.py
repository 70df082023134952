"""How the domain appears in the panel: the site declaration."""

from pm_admin.i18n import _l
from pm_admin.importing import ImportView
from pm_admin.site import Site

from models import Building, Community, Household, Key, KeyLoan, ParkingRental, ParkingSpace, Resident, ServicePrice, Staff
from models import Notice, Vehicle
from models import DecorationApplication, DecorationViolation, DecorationWorker, GoodsPass, ReceptionRecord, RepairOrder
from models.permissions import ROLE_PERMISSIONS

from . import billing
from .commands import COMMANDS, TASKS
from .households import BuildingView, CommunityView, HouseholdView, ResidentView
from .keys import KeyLoanView, KeyView
from .analysis import ServiceAnalysisPage
from .ledgers import LedgerPage
from .dashboard import DASHBOARD_PANELS
from .imports import IMPORT_KINDS
from .search import SEARCH_SOURCES
from .repairs import RepairOrderView
from .notices import NoticeView
from .services import DecorationView, DecorationViolationView, DecorationWorkerView, GoodsPassView, ReceptionView
from .staff import StaffView
from .vehicles import ParkingSpaceView, VehicleView
from . import bank, parking

FILES = _l("Household files")
KEYS = _l("Keys")
SERVICE = _l("Customer service")
SYSTEM = _l("System")
MONEY = _l("Billing")
REPORTS = _l("Reports")


def register_views(panel) -> None:
    panel.add_view(HouseholdView(Household, name=_l("Households"), endpoint="household", category=FILES))
    panel.add_view(ResidentView(Resident, name=_l("Residents"), endpoint="resident", category=FILES))
    panel.add_view(VehicleView(Vehicle, name=_l("Vehicles"), endpoint="vehicle", category=FILES))
    panel.add_view(ParkingSpaceView(ParkingSpace, name=_l("Parking spaces"), endpoint="parking_space", category=FILES))
    panel.add_view(parking.ParkingRentalView(ParkingRental, name=_l("Parking rentals"), endpoint="parking_rental",
                                             category=FILES))
    panel.add_view(BuildingView(Building, name=_l("Buildings"), endpoint="building", category=FILES))
    panel.add_view(CommunityView(Community, name=_l("Communities"), endpoint="community", category=FILES))
    panel.add_view(KeyView(Key, name=_l("Key cabinet"), endpoint="key", category=KEYS))
    panel.add_view(KeyLoanView(KeyLoan, name=_l("Key loans"), endpoint="key_loan", category=KEYS))
    panel.add_view(ImportView(IMPORT_KINDS, name=_l("Import from Excel"), endpoint="import", url="/admin/import",
                              category=FILES))
    _register_billing(panel)
    panel.add_view(RepairOrderView(RepairOrder, name=_l("Repair orders"), endpoint="repair", category=SERVICE))
    panel.add_view(ReceptionView(ReceptionRecord, name=_l("Reception log"), endpoint="reception", category=SERVICE))
    panel.add_view(DecorationView(DecorationApplication, name=_l("Decoration applications"), endpoint="decoration",
                                  category=SERVICE))
    panel.add_view(DecorationWorkerView(DecorationWorker, name=_l("Decoration workers"), endpoint="decoration_worker",
                                        category=SERVICE))
    panel.add_view(DecorationViolationView(DecorationViolation, name=_l("Decoration violations"),
                                           endpoint="decoration_violation", category=SERVICE))
    panel.add_view(GoodsPassView(GoodsPass, name=_l("Goods-release passes"), endpoint="goods_pass", category=SERVICE))
    panel.add_view(NoticeView(Notice, name=_l("Notices"), endpoint="notice", category=SERVICE))
    panel.add_view(ServiceAnalysisPage(name=_l("Service analysis"), endpoint="analysis", url="/admin/analysis",
                                       category=REPORTS))
    panel.add_view(StaffView(Staff, name=_l("Staff accounts"), endpoint="staff", category=SYSTEM))


def _register_billing(panel) -> None:
    from models import BankLine, Bill, DunningRecord, FeeItem, MeterReading, Payment, RefundRequest

    panel.app.register_blueprint(billing.templates)
    panel.add_view(billing.CashierPage(name=_l("Cash desk"), endpoint="cashier", url="/admin/cashier", category=MONEY))
    panel.add_view(parking.DeskChargePage(name=_l("Paid service or one-off charge"), endpoint="desk_charge",
                                          url="/admin/desk-charge", category=MONEY))
    panel.add_view(parking.ParkingDeskPage(name=_l("Parking rent"), endpoint="parking_desk", url="/admin/parking-desk",
                                           category=MONEY))
    panel.add_view(billing.ReceiptPage(name=_l("Receipts"), endpoint="receipt", url="/admin/receipt", category=MONEY))
    panel.add_view(bank.BankStatementPage(name=_l("Import a bank statement"), endpoint="bank_statement",
                                          url="/admin/bank-statement", category=MONEY))
    panel.add_view(bank.BankLineView(BankLine, name=_l("Bank transfers"), endpoint="bank_line", category=MONEY))
    panel.add_view(billing.PaymentView(Payment, name=_l("Payments"), endpoint="payment", category=MONEY))
    panel.add_view(billing.BillView(Bill, name=_l("Bills"), endpoint="bill", category=MONEY))
    panel.add_view(billing.AdvanceHoldPage(name=_l("Hold the advance balance"), endpoint="advance_hold",
                                           url="/admin/advance-hold", category=MONEY))
    panel.add_view(billing.RefundRequestView(RefundRequest, name=_l("Refunds"), endpoint="refund", category=MONEY))
    panel.add_view(billing.ReadingBatchPage(name=_l("Enter meter readings"), endpoint="readings",
                                            url="/admin/readings", category=MONEY))
    panel.add_view(billing.MeterReadingView(MeterReading, name=_l("Meter readings"), endpoint="meter_reading",
                                            category=MONEY))
    panel.add_view(billing.DunningRecordView(DunningRecord, name=_l("Dunning"), endpoint="dunning", category=MONEY))
    panel.add_view(billing.BillRunPage(name=_l("Bill run"), endpoint="bill_run", url="/admin/bill-run", category=MONEY))
    panel.add_view(billing.FeeItemView(FeeItem, name=_l("Fee items"), endpoint="fee_item", category=MONEY))
    panel.add_view(parking.ServicePriceView(ServicePrice, name=_l("Paid-service prices"), endpoint="service_price",
                                            category=MONEY))
    panel.add_view(billing.ArrearsPage(name=_l("Arrears ledger"), endpoint="arrears", url="/admin/arrears",
                                       category=REPORTS))
    panel.add_view(billing.CollectionRatePage(name=_l("Collection rate"), endpoint="collection_rate",
                                              url="/admin/collection-rate", category=REPORTS))
    panel.add_view(LedgerPage(name=_l("Ledgers to Excel"), endpoint="ledgers", url="/admin/ledgers", category=REPORTS))
    panel.add_view(parking.ParkingOccupancyPage(name=_l("Parking occupancy"), endpoint="parking_occupancy",
                                                url="/admin/parking-occupancy", category=REPORTS))
    panel.add_view(billing.CashSummaryPage(name=_l("Daily cash summary"), endpoint="cash_summary",
                                           url="/admin/cash-summary", category=REPORTS))


site = Site(
    name=_l("Property customer service"),
    user_model=Staff,
    role_permissions=ROLE_PERMISSIONS,
    register_views=register_views,
    commands=COMMANDS,
    tasks=TASKS,
    search_sources=SEARCH_SOURCES,
    dashboard_panels=DASHBOARD_PANELS,
    unscoped_tables=frozenset({"receipt_counter"}),  # one gapless receipt series for the company
)

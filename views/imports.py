"""What can be imported from spreadsheets, and the columns of each file.

Headers are matched in English or Chinese (the label, in either language, or an alias);
a file's column that fills a column of ours is labelled as that column is.
Opening arrears are the bills of past periods still unpaid on the day the company
starts with the panel.
"""

from pm_admin.i18n import _l
from pm_admin.importing import ImportColumn as Column, ImportKind
from pm_admin.labels import label_of

from models import Bill, Building, Household, ParkingSpace, Resident, Vehicle

from models.onboarding import plan_households, plan_opening_arrears, plan_parking_spaces, plan_vehicles

COMMUNITY = Column("community", label_of(Building.community_id), ("小区", "项目", "小区名称"), example="阳光花园")
BUILDING = Column("building", label_of(Household.building_id), ("楼栋", "楼号", "栋"), required=True, example="3栋")
UNIT = Column("unit", label_of(Household.unit), ("单元",), example="2")
ROOM = Column("room", label_of(Household.room), ("房号", "房间号", "室号"), required=True, example="1201")

IMPORT_KINDS = [
    ImportKind(
        "households", _l("Households and residents"), "household.import", "household",
        description=_l("One row per resident; a household's area and state on its first row. Rooms that exist already are refused."),
        columns=[
            COMMUNITY, BUILDING, UNIT, ROOM,
            Column("floor_area", label_of(Household.floor_area), ("建筑面积", "面积"), example="105.20"),
            Column("state", label_of(Household.state), ("状态", "房屋状态"), example="已入住"),
            Column("resident_name", _l("Resident"), ("姓名", "住户姓名", "业主姓名", "name"), example="王伟"),
            Column("resident_kind", _l("Resident kind"), ("身份", "住户类型", "类型"), example="业主"),
            Column("phone", label_of(Resident.phone), ("电话", "手机", "手机号", "联系电话"), example="13812345678"),
            Column("id_number", label_of(Resident.id_number), ("身份证号", "身份证", "证件号码"), example="11010519491231002X"),
            Column("moved_in_on", label_of(Resident.moved_in_on), ("入住日期", "入住时间"), example="2024-03-01"),
            Column("notes", label_of(Resident.notes), ("备注",), example=""),
        ],
        plan=plan_households,
        count_labels={"households": _l("households"), "residents": _l("residents")},
    ),
    ImportKind(
        "parking_spaces", _l("Parking spaces"), "parking_space.import", "parking_space",
        description=_l("New numbers are created; known numbers get the kind and notes of the file."),
        columns=[
            COMMUNITY,
            Column("number", label_of(ParkingSpace.number), ("车位号", "车位编号", "编号"), required=True, example="B1-001"),
            Column("kind", label_of(ParkingSpace.kind), ("类型", "车位类型"), example="地下"),
            Column("notes", label_of(ParkingSpace.notes), ("备注",), example=""),
        ],
        plan=plan_parking_spaces,
        count_labels={"created": _l("created"), "updated": _l("updated")},
    ),
    ImportKind(
        "vehicles", _l("Vehicles"), "vehicle.import", "vehicle",
        description=_l("Vehicles of households already in the files; a parking space not yet known is created."),
        columns=[
            COMMUNITY, BUILDING, UNIT, ROOM,
            Column("plate", label_of(Vehicle.plate), ("车牌", "车牌号", "车牌号码"), required=True, example="粤B12345"),
            Column("parking_space", label_of(Vehicle.parking_space_id), ("车位", "车位号"), example="B1-001"),
            Column("rental_expires_on", label_of(Vehicle.rental_expires_on), ("月租到期", "到期日期", "租期至"),
                   example="2026-12-31"),
            Column("description", label_of(Vehicle.description), ("车型", "车辆描述", "品牌颜色"), example="白色大众"),
        ],
        plan=plan_vehicles,
        count_labels={"created": _l("created"), "updated": _l("updated"), "spaces_created": _l("parking spaces created")},
    ),
    ImportKind(
        "opening_arrears", _l("Opening arrears"), "bill.import", "bill",
        description=_l("Bills of past periods still unpaid when you start with the panel: one row per household, "
                       "fee item and period. They count as that period's bill; a later bill run adds nothing twice."),
        columns=[
            COMMUNITY, BUILDING, UNIT, ROOM,
            Column("fee_item", label_of(Bill.fee_item_id), ("收费项目", "项目"), required=True, example="物业费"),
            Column("period", label_of(Bill.period), ("期间", "账期", "月份"), required=True, example="2025-06"),
            Column("amount", _l("Amount owed"), ("欠费金额", "金额", "应收"), required=True, example="245.80"),
            Column("due_on", _l("Due on"), ("应缴日期", "到期日"), example="2025-06-30"),
            Column("notes", _l("Notes"), ("备注",), example="期初欠费"),
        ],
        plan=plan_opening_arrears,
        count_labels={"bills": _l("bills")},
    ),
]

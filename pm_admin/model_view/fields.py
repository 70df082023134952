"""How columns become form fields and list filters: enums as selects of their labels,
money as amount fields, moments as date-times, each field checking that what was typed
is plausible for its column, each filter refusing a value its column cannot hold."""

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import Select2Field
from flask_admin.model.form import converts
from flask_babel import gettext as _
from sqlalchemy import Integer
from wtforms import TextAreaField

from .. import plausible
from ..filters import accept_local_range_separators
from ..forms import AdminForm, AdminMomentField, AmountField

LONGER_THAN_A_LINE = 500  # characters: a String column this long is typed in a text area


class LabeledConverter(AdminModelConverter):
    """Enum columns become selects showing their labels; every column's field checks
    that what was typed is plausible for the column (pm_admin.plausible)."""

    def convert(self, model, mapper, name, prop, field_args, hidden_pk):
        columns = getattr(prop, "columns", None)
        if columns and len(columns) == 1:
            field_args = dict(field_args or {})
            field_args["validators"] = [*field_args.get("validators", ()), plausible.field_validator(columns[0])]
        return super().convert(model, mapper, name, prop, field_args, hidden_pk)

    @converts("String")
    def conv_String(self, column, field_args, **extra):
        """Text longer than a line (a notice's body) in a text area, its length checked as a line's."""
        if (column.type.length or 0) <= LONGER_THAN_A_LINE:
            return super().conv_String(column=column, field_args=field_args, **extra)
        self._string_common(column=column, field_args=field_args, **extra)
        return TextAreaField(**field_args)

    @converts("pm_admin.money._RefusesFloat")
    def convert_amount(self, column, field_args, **extra):
        """Money, unit prices, quantities and percents (without this, Flask-Admin finds no
        converter for the column type and leaves the field out of the form silently)."""
        self._nullable_common(column, field_args)
        return AmountField(places=column.type.impl.scale, **field_args)

    @converts("Moment")
    def convert_moment(self, field_args, **extra):
        return AdminMomentField(**field_args)

    @converts("sqlalchemy.sql.sqltypes.Enum")
    def convert_enum(self, column, field_args, **extra):
        enum_class = column.type.enum_class
        if enum_class is None:
            return super().convert_enum(column=column, field_args=field_args, **extra)
        self._nullable_common(column, field_args)
        # Labels stay lazy: the form class is built once, the page in each user's language.
        field_args["choices"] = [(m.name, getattr(m, "label", m.name)) for m in enum_class]
        if column.nullable:
            field_args["allow_blank"] = True
        field_args["coerce"] = _member_of(enum_class)
        return Select2Field(**field_args)


def _member_of(enum_class):
    """Form values become enum members (a plain name would look like a change)."""

    def coerce(value):
        if value is None or isinstance(value, enum_class):
            return value
        try:
            return enum_class[value]
        except KeyError:
            raise ValueError(_("Not a valid choice.")) from None

    return coerce


class LabeledFilters(sqla_filters.FilterConverter):
    """Enum filters offer the members' labels, in the user's language; moments filter as datetimes."""

    @sqla_filters.filters.convert("moment")
    def conv_moment(self, column, name, **kwargs):
        return self.conv_datetime(column, name, **kwargs)

    @sqla_filters.filters.convert("enum")
    def conv_enum(self, column, name, options=None, **kwargs):
        enum_class = column.type.enum_class
        if not options and enum_class is not None:
            # lazy labels: the filter list is built once, shown in each user's language
            options = [(m.name, getattr(m, "label", m.name)) for m in enum_class]
        return super().conv_enum(column, name, options, **kwargs)


class Fields:
    """Forms on ``AdminForm`` through ``LabeledConverter``; filters through ``LabeledFilters``."""

    form_base_class = AdminForm
    model_form_converter = LabeledConverter
    filter_converter = LabeledFilters()

    def get_filters(self):
        """Flask-Admin's filters, each refusing (with its "invalid filter value" message)
        a value its column cannot hold: an enum name that is no member, an id beyond the
        integers a table can have; date ranges also with the user's language's separator."""
        filters = super().get_filters()
        for flt in filters or ():
            accept_local_range_separators(flt)
            flt.validate = _plausible_filter_value(flt, flt.validate)
        return filters

def _plausible_filter_value(flt, validate):
    column = getattr(flt, "column", None)
    sql_type = getattr(column, "type", None)
    enum_class = getattr(sql_type, "enum_class", None)
    listed = isinstance(flt, (sqla_filters.FilterInList, sqla_filters.FilterNotInList))

    def holds(value) -> bool:
        parts = [p.strip() for p in value.split(",")] if listed else [value]
        if enum_class is not None and not all(p in enum_class.__members__ for p in parts):
            return False
        if isinstance(sql_type, Integer) and not all(
                plausible.record_id(p) is not None for p in parts):
            return False
        return validate(value)

    return holds

"""Masking of personal data for roles that do not need it in full."""

from collections.abc import Callable

from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause

from . import auth


def mask_middle(value: str | None, keep_start: int, keep_end: int) -> str:
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[len(value) - keep_end :]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    return mask_middle(value, 3, 4)


def mask_id_number(value: str | None) -> str:
    """``110101199001011234`` → ``110***********1234``."""
    return mask_middle(value, 3, 4)


MASKS: dict[str, Callable[[str | None], str]] = {"phone": mask_phone, "id_number": mask_id_number}


def personal(permission: str, kind: str) -> dict:
    """Column ``info`` for personal data: shown in full only to holders of ``permission``.

    ``mapped_column(String(18), info=personal("personal.id_number", "id_number"))``
    masks the column wherever it is shown (lists, details, household-file sections, history,
    search, exports: ``SecureModelView._get_list_value`` is the one value getter of the first
    four) and keeps it out of searches of those who may not see it in full."""
    return {"personal": (permission, kind)}


def rule_of(column) -> tuple[str, str] | None:
    """The masking rule of ``column`` (or of the table column an alias or annotation stands for)."""
    for base in getattr(column, "proxy_set", (column,)):
        rule = (getattr(base, "info", None) or {}).get("personal")
        if rule is not None:
            return rule
    return None


def seen_in_full(rule: tuple[str, str] | None) -> bool:
    return rule is None or auth.can(rule[0])


def reveal(info: dict, value):
    """The value as the current user may see it, given the column's ``info``."""
    rule = info.get("personal")
    if value is None or seen_in_full(rule):
        return value
    return MASKS[rule[1]](str(value))


def shown(row, column: str):
    """``row.column`` as the current user may see it (masked by the column's rule)."""
    table = type(row).__table__
    return reveal(table.c[column].info if column in table.c else {}, getattr(row, column))


def searches_hidden(clause) -> bool:
    """Whether ``clause`` compares a personal column the current user sees only masked.
    Such a search must not run for them: a match would tell whose number they typed."""
    return any(isinstance(element, ColumnClause) and not seen_in_full(rule_of(element))
               for element in visitors.iterate(clause))

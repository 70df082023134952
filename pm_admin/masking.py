"""Masking of personal data for roles that do not need it in full."""

from collections.abc import Callable

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
    masks the column in lists, details, history and exports alike."""
    return {"personal": (permission, kind)}


def reveal(info: dict, value):
    """The value as the current user may see it, given the column's ``info``."""
    rule = info.get("personal")
    if rule is None or value is None:
        return value
    permission, kind = rule
    return value if auth.can(permission) else MASKS[kind](str(value))


def column_formatter(info: dict):
    """A list/details formatter applying the column's masking rule."""

    def formatter(view, context, model, name):
        return reveal(info, getattr(model, name))

    return formatter

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


def shown_unless_lacking(permission: str, mask: Callable[[str | None], str]):
    """A column formatter: the full value for holders of ``permission``, else masked."""

    def formatter(view, context, model, name):
        value = getattr(model, name)
        return value if auth.can(permission) else mask(value)

    formatter.masking_permission = permission
    return formatter


def reveal(permission: str, mask: Callable[[str | None], str], value: str | None) -> str:
    """The value as the current user may see it."""
    return (value or "") if auth.can(permission) else mask(value)

"""Enums whose members carry a display label in the user's language."""

import enum

from flask_babel import LazyString


class LabeledEnum(enum.Enum):
    """``Member = "value", _l("Label")``: the value is stored, the label shown."""

    label: LazyString

    def __new__(cls, value: str, label: LazyString):
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        return member

    def __str__(self) -> str:
        return str(self.label)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.name, str(member.label)) for member in cls]

"""Labels live with the column: ``mapped_column(..., info={"label": _l("Room")})``.

A model view's lists, forms, filters, exports, details sections and the history all
read a column's label from where the column is declared; a view declares a label
only where it deliberately shows something else. A relation is labelled by its
foreign key's label (``community`` by ``community_id``'s). A dotted name follows
the relations: ``household.room`` is the room's label, but a path ending at the
column a record goes by (declared with ``"names_record": True``, e.g. a
community's name) is labelled as the relation leading to it (``community.name``:
"Community").

Where one English word means two things, the label says which with a context
(``lazy_pgettext("person", "Name")``), so each meaning gets its own translation.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty


def label_of(attribute) -> Any | None:
    """The label declared on a mapped attribute (``Household.room``), a relation's by its
    foreign key; None when it declares none."""
    return _property_label(attribute.property)


def _property_label(prop) -> Any | None:
    if isinstance(prop, ColumnProperty):
        return prop.columns[0].info.get("label")
    if isinstance(prop, RelationshipProperty):
        if "label" in prop.info:
            return prop.info["label"]
        local = list(prop.local_columns)
        if len(local) == 1 and local[0].foreign_keys:
            return local[0].info.get("label")
    return None


def path_label(model, path: str) -> Any | None:
    """The label of a view's column name on ``model``: an attribute, or a dotted path
    through its relations; None when nothing on the way declares one."""
    mapper, relation = inspect(model), None
    for part in path.split("."):
        prop = mapper.attrs.get(part) if mapper is not None else None
        if prop is None:
            return None
        if isinstance(prop, RelationshipProperty):
            relation, mapper = prop, prop.mapper
            continue
        if relation is not None and prop.columns[0].info.get("names_record"):
            return _property_label(relation)
        return _property_label(prop)
    return _property_label(relation) if relation is not None else None


class ColumnLabels(Mapping):
    """A view's ``column_labels``: what the view declares, else what the model declares.

    Flask-Admin and our framework ask it with ``in``, ``[]`` and ``get``; it answers for
    every column name, dotted ones too, without listing them all."""

    def __init__(self, model, declared: Mapping | None):
        self.model = model
        self.declared = dict(declared or {})

    def __getitem__(self, name):
        if name in self.declared:
            return self.declared[name]
        label = path_label(self.model, name) if isinstance(name, str) else None
        if label is None:
            raise KeyError(name)
        return label

    def __iter__(self):
        return iter(self.declared)

    def __len__(self):
        return len(self.declared)

    def __bool__(self):  # Flask-Admin reads the labels only when ``column_labels`` is truthy
        return True

"""Attachments and the document register (档案 / 附件): photos, scans and PDFs kept with a
record. A record type takes attachments by one declaration on its model::

    @takes_attachments(_l("Household"))
    class Household(db.Model): ...

which gives it ``attachments`` (those on file, oldest first). An attachment belongs to its
owner's community (set when filed) and carries a category and a confidentiality level: an
ID-card copy is seen in full only by those who may see ID numbers; others see that it is
there. A document is a record: it is removed with a reason, never deleted.
"""

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Integer, String, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from pm_admin import audit, clock, storage
from pm_admin.auth import require
from pm_admin.clock import Moment
from pm_admin.enums import LabeledEnum
from pm_admin.errors import DomainError
from pm_admin.extensions import db
from pm_admin.scope import scope_id_of
from pm_admin.uploads import check_upload
from pm_admin.workflow import Versioned, Workflow

from .permissions import PERSONAL_ID_NUMBER

CONFIDENTIAL = "attachment.confidential"  # contracts and drawings marked confidential


class AttachmentCategory(LabeledEnum):
    id_card = "id_card", _l("ID card copy")
    property_certificate = "property_certificate", _l("Property certificate")
    contract = "contract", _l("Contract")
    before_photo = "before_photo", _l("Photo before repair")
    after_photo = "after_photo", _l("Photo after repair")
    photo = "photo", _l("Photo")
    drawing = "drawing", _l("Drawing")
    other = "other", _l("Other")


class Confidentiality(LabeledEnum):
    normal = "normal", _l("Normal")
    personal = "personal", _l("Personal data")
    confidential = "confidential", _l("Confidential")


# Who may open a file of each level (the others see that it is there, not what it shows).
OPENED_WITH = {Confidentiality.normal: "attachment.view", Confidentiality.personal: PERSONAL_ID_NUMBER,
               Confidentiality.confidential: CONFIDENTIAL}
_LEVELS = list(Confidentiality)
# Papers that carry an ID number are personal data at least, whatever the uploader chose.
LEAST_LEVEL = {AttachmentCategory.id_card: Confidentiality.personal,
               AttachmentCategory.property_certificate: Confidentiality.personal}


class AttachmentStatus(LabeledEnum):
    filed = "filed", _l("On file")
    removed = "removed", _l("Removed")


class Attachment(Versioned, db.Model):
    __tablename__ = "attachment"
    __scope__ = "community_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(40), info={
        "label": _l("Attached to"), "shown_as": lambda value: owner_kind_label(value)})
    owner_id: Mapped[int] = mapped_column(Integer, info={"label": _l("Record")})
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True, info={"label": _l("Community")})
    category: Mapped[AttachmentCategory] = mapped_column(
        Enum(AttachmentCategory, name="attachment_category", native_enum=False, length=30), index=True,
        info={"label": _l("Category")})
    confidentiality: Mapped[Confidentiality] = mapped_column(
        Enum(Confidentiality, name="attachment_confidentiality", native_enum=False, length=20),
        info={"label": _l("Confidentiality")})
    note: Mapped[str | None] = mapped_column(String(200), info={"label": _l("Note")})
    # The name it was sent under: shown and offered on download, never a path.
    file_name: Mapped[str] = mapped_column(String(200), info={"label": _l("File name")})
    content_type: Mapped[str] = mapped_column(String(60), info={"label": _l("Type")})
    size: Mapped[int] = mapped_column(Integer, info={"label": _l("Size (bytes)")})
    file_key: Mapped[str] = mapped_column(String(64), info={"internal": True, "hidden": True})
    thumbnail_key: Mapped[str | None] = mapped_column(String(64), info={"internal": True, "hidden": True})
    uploaded_at: Mapped[dt.datetime] = mapped_column(Moment(), index=True, info={"label": _l("Uploaded at")})
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Uploaded by")})
    status: Mapped[AttachmentStatus] = mapped_column(
        Enum(AttachmentStatus, name="attachment_status", native_enum=False, length=10),
        default=AttachmentStatus.filed, index=True, info={"label": _l("Status")})
    removed_at: Mapped[dt.datetime | None] = mapped_column(Moment(), info={"label": _l("Removed at")})
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), info={"label": _l("Removed by")})
    removal_reason: Mapped[str | None] = mapped_column(String(500), info={"label": _l("Reason for removal")})

    community = relationship("Community")
    uploaded_by = relationship("Staff", foreign_keys=[uploaded_by_id], lazy="joined")  # shown with every file
    removed_by = relationship("Staff", foreign_keys=[removed_by_id])

    __table_args__ = (db.Index("ix_attachment_owner", "owner_type", "owner_id"),)

    def __str__(self) -> str:
        return f"{self.category.label} · {self.file_name}"

    @property
    def owner_kind(self) -> "OwnerKind | None":
        return ATTACHMENT_OWNERS.get(self.owner_type)

    @property
    def owner(self):
        kind = self.owner_kind
        return None if kind is None else db.session.get(kind.model, self.owner_id)

    @property
    def is_image(self) -> bool:
        return self.thumbnail_key is not None

    def may_be_opened_by(self, actor) -> bool:
        """Whether ``actor`` may see what the file shows (not only that it exists)."""
        return actor.can("attachment.view") and actor.can(OPENED_WITH[self.confidentiality])


class OwnerKind:
    def __init__(self, model: type, label):
        self.model = model
        self.label = label

    @property
    def name(self) -> str:
        return self.model.__tablename__


ATTACHMENT_OWNERS: dict[str, OwnerKind] = {}


def takes_attachments(label):
    """Declare that a model's records take attachments (``label``: what one of them is called)."""

    def declare(model: type) -> type:
        kind = OwnerKind(model, label)
        ATTACHMENT_OWNERS[kind.name] = kind
        model.attachments = relationship(
            Attachment, viewonly=True, order_by=Attachment.id,
            primaryjoin=lambda: and_(foreign(Attachment.owner_id) == model.id, Attachment.owner_type == kind.name,
                                     Attachment.status == AttachmentStatus.filed))
        return model

    return declare


def owner_kind_label(name: str) -> str:
    """A kind of record that takes attachments, in words (its table's name when unknown)."""
    kind = ATTACHMENT_OWNERS.get(name)
    return str(kind.label) if kind is not None else name


def owner_kind_of(owner) -> OwnerKind:
    kind = ATTACHMENT_OWNERS.get(getattr(owner, "__tablename__", None))
    if kind is None or not isinstance(owner, kind.model):
        raise DomainError(_l("This kind of record takes no attachments."))
    return kind


def attach_file(owner, *, actor, data: bytes, file_name: str, category: AttachmentCategory,
                confidentiality: Confidentiality = Confidentiality.normal, note: str | None = None) -> Attachment:
    """File ``data`` with ``owner``: checked by its content (uploads.check_upload), an image
    re-encoded without its metadata and given a thumbnail, stored under a random key, the
    upload in the audit log. The level is never below what the category needs."""
    kind = owner_kind_of(owner)
    require(actor, "attachment.create", owner)
    checked = check_upload(data)
    least = LEAST_LEVEL.get(category, Confidentiality.normal)
    level = max(confidentiality, least, key=_LEVELS.index)
    keys = [storage.put_bytes("attachments", checked.data)] + (
        [storage.put_bytes("attachments", checked.thumbnail)] if checked.thumbnail is not None else [])
    attachment = Attachment(
        owner_type=kind.name, owner_id=owner.id, community_id=scope_id_of(owner), category=category,
        confidentiality=level, note=(note or "").strip()[:200] or None, file_name=_shown_name(file_name, checked.kind),
        content_type=checked.kind.content_type, size=len(checked.data), file_key=keys[0],
        thumbnail_key=keys[1] if len(keys) > 1 else None, uploaded_at=clock.now(), uploaded_by_id=actor.id)
    db.session.add(attachment)
    try:
        db.session.flush()
    except Exception:  # no record, no file left behind
        for key in keys:
            storage.delete(key)
        raise
    return attachment


def _shown_name(sent: str, kind) -> str:
    """The name to show and offer on download: the sent one's last part, with the extension
    of what the file really is."""
    stem = (sent or "").replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0].strip()
    stem = "".join(c for c in stem if c.isprintable())[:150] or "file"
    return stem + kind.extension


def opened(attachment: Attachment, *, actor) -> None:
    """Note that ``actor`` opened the file: a personal or confidential one in the audit log."""
    if not attachment.may_be_opened_by(actor):
        raise DomainError(_l("Your role may not open this file."))
    if attachment.confidentiality is not Confidentiality.normal:
        audit.record_event("opened", Attachment.__tablename__, attachment.id, str(attachment),
                           {"confidentiality": attachment.confidentiality.name}, scope_id=attachment.community_id)


ATTACHMENT_WORKFLOW = Workflow(Attachment.status)


@ATTACHMENT_WORKFLOW.transition("remove", _l("Remove"), [AttachmentStatus.filed], AttachmentStatus.removed,
                                "attachment.delete")
def remove_attachment(attachment: Attachment, *, actor, reason: str) -> None:
    """Take a document off its record; it stays in the register with who, when and why."""
    if not (reason or "").strip():
        raise DomainError(_l("Give the reason for removing it."))
    attachment.removed_at = clock.now()
    attachment.removed_by_id = actor.id
    attachment.removal_reason = reason.strip()[:500]

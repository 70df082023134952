"""Attachments and the document register (档案): the register as a list, the upload page,
the file itself, and the section a record's details page shows (``attachments_section``)."""

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _, pgettext
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from sqlalchemy import false, inspect, or_
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from pm_admin import security, storage, uploads
from pm_admin.admin import FileAction, ReadOnlyView, Section
from pm_admin.errors import committed
from pm_admin.forms import Form
from pm_admin.i18n import _l
from pm_admin.steps import StepForm

from models.attachment import (ATTACHMENT_OWNERS, CONFIDENTIAL, Attachment, AttachmentCategory, AttachmentStatus,
                               Confidentiality, attach_file, opened)

SECTION = "attachments"
# A file opened in the browser runs nothing: no scripts, forms or plugins, whatever it holds.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def attach_action(label, *, camera: bool = False, category: AttachmentCategory | None = None) -> FileAction:
    """The upload page for the record, coming back to its Attachments tab (``camera``: a phone
    opens its camera for a photo; ``category``: the one offered first)."""
    defaults = {"camera": 1} if camera else {}
    if category is not None:
        defaults["category"] = category.name
    return FileAction(label, "attachment.upload", "attachment.create",
                      lambda record: {"owner_type": record.__tablename__, "owner_id": record.id, **defaults},
                      style="outline-primary", section=SECTION)


def attachments_section(*, camera: bool = False, category: AttachmentCategory | None = None) -> Section:
    """The record's documents as a tab of its details page, with "Attach a file" (``attach_action``)."""
    return Section(_l("Attachments"), SECTION, ["preview", "category", "confidentiality", "file_name", "uploaded_at",
                                                "uploaded_by"], "attachment",
                   add=attach_action(_l("Attach a file"), camera=camera, category=category))


def preview(view, context, attachment, name):
    """A thumbnail of a normal picture; a link for a file this user may open (personal and
    confidential ones are logged when opened); else only that it is there."""
    if not attachment.may_be_opened_by(current_user):
        return Markup('<span class="badge badge-secondary pm-restricted">{}</span>').format(_("Restricted"))
    if attachment.status is AttachmentStatus.removed:
        return ""
    url = url_for("attachment.file", id=attachment.id)
    if attachment.is_image and attachment.confidentiality is Confidentiality.normal:
        return Markup('<a href="{}" target="_blank" rel="noopener"><img class="pm-thumbnail" src="{}" alt="{}" '
                      'loading="lazy"></a>').format(url, url_for("attachment.file", id=attachment.id, size="thumbnail"),
                                                    attachment.file_name)
    shown = pgettext("action", "Open") if attachment.confidentiality is Confidentiality.normal else _("Open (recorded)")
    return Markup('<a href="{}" class="pm-open-file" target="_blank" rel="noopener">{}</a>').format(url, shown)


def owner_link(view, context, attachment, name):
    owner, kind = attachment.owner, attachment.owner_kind
    if owner is None:
        return ""
    owner_view = view.admin.view_for_table(kind.name)
    if owner_view is None or not owner_view.is_accessible():
        return str(owner)
    return Markup('<a href="{}">{}</a>').format(url_for(f"{owner_view.endpoint}.details_view", id=owner.id), owner)


def owner_kind_label(view, context, attachment, name):
    kind = attachment.owner_kind
    return str(kind.label) if kind is not None else attachment.owner_type


class UploadForm(Form):
    category = SelectField(_l("Category"), [DataRequired()], choices=AttachmentCategory.choices)
    confidentiality = SelectField(_l("Confidentiality"), [DataRequired()], choices=Confidentiality.choices,
                                  description=_l("ID-card copies and property certificates are personal data "
                                                 "at least: only those who may see ID numbers open them."))
    file = FileField(_l("File"), [FileRequired(_l("Choose a file."))])
    note = StringField(_l("Note"), [Optional(), Length(max=200)])


class AttachmentView(ReadOnlyView):
    """The document register: every file on the records this user may open, without their contents."""

    permission = "attachment"
    extra_endpoints = {"upload": "create", "file": "view"}
    permissions = (CONFIDENTIAL,)  # opens a confidential file
    column_list = ["preview", "category", "confidentiality", "owner_type", "owner", "community", "file_name",
                   "uploaded_at", "uploaded_by", "status"]
    column_details_list = ["preview", "category", "confidentiality", "owner_type", "owner", "community", "file_name",
                           "content_type", "size", "note", "uploaded_at", "uploaded_by", "status", "removed_at",
                           "removed_by", "removal_reason"]
    column_export_list = ["category", "confidentiality", "owner_type", "owner", "community", "file_name",
                          "content_type", "size", "note", "uploaded_at", "uploaded_by", "status", "removed_at",
                          "removed_by", "removal_reason"]
    column_filters = [
        "category", "confidentiality",
        FilterEqual(Attachment.owner_type, _l("Attached to"),
                    options=lambda: [(kind.name, str(kind.label)) for kind in ATTACHMENT_OWNERS.values()]),
        "community.name", "uploaded_at", "status",
    ]
    column_searchable_list = ["file_name", "note"]
    search_hint = _l("File name or note")
    column_default_sort = ("id", True)
    column_sortable_list = ["category", "uploaded_at", "file_name"]
    column_labels = {"preview": _l("File"), "owner": _l("Record")}
    column_formatters = {"preview": preview, "owner": owner_link, "owner_type": owner_kind_label}
    column_formatters_export = {"owner": lambda v, c, a, n: str(a.owner or ""),
                                "owner_type": owner_kind_label}
    step_forms = {"remove": StepForm(inputs={"reason": TextAreaField(_l("Reason"), [DataRequired(), Length(max=500)])},
                                     style="danger")}

    def _visible(self, query):
        """Inside the communities, and only the files of records this user may open through
        their own views (an engineer: the repair orders dispatched to them)."""
        return super()._visible(query).filter(or_(false(), *self._owners_visible()))

    def _owners_visible(self):
        for kind in ATTACHMENT_OWNERS.values():
            owner_view = self.admin.view_for_table(kind.name)
            if owner_view is None or not owner_view.is_accessible():
                continue
            of_kind = Attachment.owner_type == kind.name
            if owner_view.row_filter is None:  # the community scope says it all
                yield of_kind
            else:
                ids = owner_view.get_query().with_entities(inspect(kind.model).primary_key[0]).scalar_subquery()
                yield of_kind & Attachment.owner_id.in_(ids)

    def _owner_or_404(self, owner_type: str, owner_id):
        kind = ATTACHMENT_OWNERS.get(owner_type)
        owner_view = self.admin.view_for_table(kind.name) if kind is not None else None
        if owner_view is None or not owner_view.is_accessible():
            abort(404)
        owner = owner_view.get_one(owner_id)
        if owner is None:
            abort(404)
        return owner, owner_view

    @expose("/upload/", methods=("GET", "POST"))
    def upload(self):
        owner, owner_view = self._owner_or_404(request.args.get("owner_type", ""), request.args.get("owner_id"))
        back = security.return_target() or url_for(f"{owner_view.endpoint}.details_view", id=owner.id, tab=SECTION)
        form = UploadForm()
        limits = uploads.limits()
        camera = request.args.get("camera") == "1"
        if request.method == "GET" and request.args.get("category") in AttachmentCategory.__members__:
            form.category.data = request.args["category"]
        if form.validate_on_submit():
            with committed(flashed=None) as outcome:
                attach_file(owner, actor=current_user, data=form.file.data.read(limits.max_bytes + 1),
                            file_name=form.file.data.filename or "", category=AttachmentCategory[form.category.data],
                            confidentiality=Confidentiality[form.confidentiality.data], note=form.note.data)
            if outcome:
                flash(_("The file was attached."), "success")
                return redirect(back)
            form.file.errors = [str(outcome.error)]
        return self.render("attachments/upload.html", form=form, owner=owner, limits=limits, camera=camera,
                           return_url=back)

    @expose("/file/")
    def file(self):
        attachment = self.get_one(request.args.get("id"))
        if attachment is None or attachment.status is AttachmentStatus.removed:
            abort(404)
        if not attachment.may_be_opened_by(current_user):
            abort(403)
        thumbnail = request.args.get("size") == "thumbnail"
        key = attachment.thumbnail_key if thumbnail else attachment.file_key
        if key is None:
            abort(404)
        with committed(flashed=None):
            opened(attachment, actor=current_user)
        try:
            stream = storage.open(key)
        except FileNotFoundError:
            abort(404)
        inline = attachment.is_image and not request.args.get("download")
        response = send_file(stream, mimetype=uploads.THUMBNAIL.content_type if thumbnail else attachment.content_type,
                             as_attachment=not inline, download_name=attachment.file_name, max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = FILE_POLICY
        response.headers["Cache-Control"] = "private, no-store"
        return response

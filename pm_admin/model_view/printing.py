"""Printed forms: the paper a record's workflow runs on (a work order, a pass for the
guard), declared on the record's view, offered on its details page and wherever its
rows are listed, opened read-only with the view's own permission, scope and masking."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, request
from flask_admin import expose
from flask_admin.model.helpers import get_mdict_item_or_list

from .. import clock, security


@dataclass(frozen=True)
class PrintedForm:
    """A paper form of one record: ``template`` extends ``pm_admin/print.html`` and is printed
    on ``paper`` (a CSS page size: "A5", "A4", "A5 landscape")."""

    label: str  # the button, e.g. "Print the work order"
    template: str
    paper: str = "A5"
    when: Callable[[Any], bool] | None = None  # printable only for records where this holds
    refusal: str = ""  # said when it does not
    number: str | None = None  # the column holding the document's number; else the record's, as 000042


class Printing:
    """``printed_forms`` as print pages (``/print/<form>/?id=``) and their links."""

    printed_forms: dict[str, PrintedForm] = {}

    def printable(self, model) -> list[tuple[PrintedForm, str]]:
        """(form, url) of each form ``model`` can be printed on now; the view's ``view``
        permission is all a print needs, as the details page."""
        if not self.printed_forms or not self.may("view"):
            return []
        pk = self.get_pk_value(model)
        return [(printed, self.get_url(f"{self.endpoint}.print_view", form=name, id=pk, url=request.full_path))
                for name, printed in self.printed_forms.items() if printed.when is None or printed.when(model)]

    @expose("/print/<form>/")
    def print_view(self, form):
        printed = self.printed_forms.get(form)
        model = self.get_one(get_mdict_item_or_list(request.args, "id"))
        if printed is None or model is None:  # outside the user's communities reads as not there
            abort(404)
        back = security.return_target() or self.get_url(".details_view", id=self.get_pk_value(model))
        if printed.when is not None and not printed.when(model):
            flash(str(printed.refusal), "error")
            return redirect(back)
        number = getattr(model, printed.number) if printed.number else f"{int(self.get_pk_value(model)):06d}"
        return self.render(printed.template, model=model, number=number, paper=printed.paper, back=back,
                           company=current_app.config["COMPANY_NAME"], printed_at=clock.now(), view_of=self.view_of)

    def view_of(self, row):
        """The view that shows ``row``'s table: its labels and masking name and show the row's fields."""
        return self.admin.view_for_table(type(row).__tablename__)

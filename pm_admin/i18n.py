"""Languages: which one a request speaks, the navbar switch, and the catalogs.

The ``.po`` sources live in ``pm_admin/translations``; they are compiled to
``.mo`` into the instance folder when the app starts, so there is no manual
``pybabel compile`` step. Flask-Admin's own catalog is compiled there too (the
``.mo`` it ships is older than its ``.po`` and lacks e.g. "Failed to save
record."), and form fields ask WTForms', Flask-Admin's and then our catalog, so
no built-in message reaches a Chinese page in English.
"""

import tempfile
from pathlib import Path

import flask_admin.translations
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, current_app, has_request_context, redirect, request, url_for
from flask_babel import Domain, get_locale, get_translations, gettext, lazy_gettext, lazy_pgettext, pgettext
from wtforms.i18n import messages_path

from . import security
from .extensions import babel

SOURCE_DIR = Path(__file__).parent / "translations"
FLASK_ADMIN_DIR = Path(flask_admin.translations.__path__[0])
LANGUAGE_COOKIE = "pm_lang"
ONE_YEAR = 365 * 24 * 3600

bp = Blueprint("language", __name__)
wtforms_messages = Domain(messages_path(), domain="wtforms")
flask_admin_messages = Domain(domain="admin")  # reads the compiled catalogs (init_app)


class BuiltInMessages:
    """The translations a form's fields speak: WTForms' own catalog, then Flask-Admin's
    (its fields' messages), then ours (what neither translates)."""

    @staticmethod
    def _catalogs():
        return (wtforms_messages.get_translations(), flask_admin_messages.get_translations(), get_translations())

    def gettext(self, string):
        for catalog in self._catalogs():
            translated = catalog.ugettext(string)
            if translated != string:
                return translated
        return string

    def ngettext(self, singular, plural, n):
        for catalog in self._catalogs():
            translated = catalog.ungettext(singular, plural, n)
            if translated not in (singular, plural):
                return translated
        return singular if n == 1 else plural


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(
        languages, default=current_app.config["BABEL_DEFAULT_LOCALE"]
    )


@bp.route("/language/<code>")
def switch(code: str):
    target = request.referrer or ""
    if target.startswith(request.host_url):
        target = "/" + target.removeprefix(request.host_url)
    response = redirect(security.on_site(target) or url_for("admin.index"))  # back, never off the site
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE, code, max_age=ONE_YEAR, samesite="Lax", httponly=True
        )
    return response


# Flask-Admin's own words that its Chinese catalog renders badly ("not between" as 不是之间): our
# catalog translates each under this context, and that replaces Flask-Admin's when its catalog is
# compiled. Listed here so that the extractor keeps them in our catalog.
REWORDED_CONTEXT = "flask-admin"
REWORDED = (
    lazy_pgettext("flask-admin", "between"), lazy_pgettext("flask-admin", "not between"),
    lazy_pgettext("flask-admin", "empty"), lazy_pgettext("flask-admin", "in list"),
    lazy_pgettext("flask-admin", "not in list"), lazy_pgettext("flask-admin", "greater than"),
    lazy_pgettext("flask-admin", "smaller than"), lazy_pgettext("flask-admin", "Add Filter"),
    lazy_pgettext("flask-admin", "Reset Filters"), lazy_pgettext("flask-admin", "Apply"),
    lazy_pgettext("flask-admin", "There are no items in the table."),
    lazy_pgettext("flask-admin", "Select all records"), lazy_pgettext("flask-admin", "Please select model"),
)


def _reworded(catalog, ours: Path) -> None:
    """Replace the translations of ``catalog`` (Flask-Admin's) that ours rewords."""
    with ours.open("rb") as po_file:
        for message in read_po(po_file):
            if message.context == REWORDED_CONTEXT and message.string and message.id in catalog:
                catalog[message.id].string = message.string


def compile_catalogs(target_dir: Path) -> None:
    """Compile every ``.po`` under SOURCE_DIR, and Flask-Admin's for the same locales
    (a few milliseconds; always, so a checked-out older source can never leave a
    stale catalog behind)."""
    ours = list(SOURCE_DIR.glob("*/LC_MESSAGES/*.po"))
    flask_admins = [FLASK_ADMIN_DIR / po.parts[-3] / "LC_MESSAGES" / "admin.po" for po in ours]
    for po_path in ours + [po for po in flask_admins if po.exists()]:
        mo_path = target_dir / po_path.parts[-3] / "LC_MESSAGES" / po_path.with_suffix(".mo").name
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        if po_path.is_relative_to(FLASK_ADMIN_DIR):
            _reworded(catalog, SOURCE_DIR / po_path.parts[-3] / "LC_MESSAGES" / "messages.po")
        # Several workers may start at once: each writes its own file, then swaps it in.
        with tempfile.NamedTemporaryFile("wb", dir=mo_path.parent, suffix=".part", delete=False) as mo_file:
            write_mo(mo_file, catalog)
        Path(mo_file.name).replace(mo_path)


def picker_locale() -> dict:
    """What the forms' pickers (Select2 look-ups, the date pickers) say and how their calendar
    reads, in the request's language (names of days and months from the locale's data)."""
    locale = get_locale()
    days = locale.days["format"]["short"]  # 0 is Monday
    months = locale.months["stand-alone"]["abbreviated"]
    return {
        "noMatches": gettext("No matches found"),
        "searching": gettext("Searching…"),
        "loadMore": gettext("Loading more results…"),
        "inputTooShort": gettext("Type at least one character"),
        "failed": gettext("The search failed; try again."),
        "apply": gettext("OK"),
        "cancel": gettext("Cancel"),
        "from": gettext("From"),
        "to": gettext("To"),
        "separator": " " + pgettext("between two dates", "to") + " ",  # the server reads it too (filters.py)
        "daysOfWeek": [days[(day + 6) % 7] for day in range(7)],  # Sunday first, as moment.js counts
        "monthNames": [months[month] for month in range(1, 13)],
        "firstDay": (locale.first_week_day + 1) % 7,
    }


def init_app(app) -> None:
    compiled = Path(app.instance_path) / "translations"
    compile_catalogs(compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    @app.context_processor
    def languages():
        return {"pm_languages": app.config["LANGUAGES"], "pm_locale": str(get_locale()), "pm_picker_locale": picker_locale}


_l = lazy_gettext

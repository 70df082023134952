"""Extract the messages of the code and templates into every catalog.

    .venv/bin/python -m pm_admin.translations.update

Reads ``babel.cfg`` at the project root, then for each locale merges the
messages into ``<locale>/LC_MESSAGES/messages.po``: translations of messages
still in use are kept, new messages arrive untranslated (or ``fuzzy`` with a
guess from a similar old message, which a translator must check), and messages
no longer in the code are dropped. Running it twice changes nothing. Then fill
in the empty ``msgstr`` of the Chinese catalog; ``tests/test_i18n.py`` fails
while any message is untranslated or fuzzy.
"""

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
LOCALES = ["zh_Hans_CN", "en"]
# gettext as _, ngettext, and the lazy forms: lazy_gettext, imported as _l
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
COMMENT_TAGS = ["TRANSLATORS:"]
HEADER = "# Messages of pm-admin. Update with: python -m pm_admin.translations.update\n#"


def extract() -> Catalog:
    """A template catalog of every message in the sources babel.cfg names."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    template = Catalog(project="pm-admin", charset="utf-8", fuzzy=False)
    found = extract_from_dir(ROOT, method_map, options_map, keywords=KEYWORDS,
                             comment_tags=COMMENT_TAGS, strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def update(template: Catalog, locale: str) -> Path:
    """Merge ``template`` into the locale's catalog; write it only when it changed."""
    path = HERE / locale / "LC_MESSAGES" / "messages.po"
    if path.exists():
        with path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        # English needs no guesses: its empty msgstr falls back to the msgid.
        catalog.update(template, no_fuzzy_matching=locale == "en", update_creation_date=False)
        catalog.obsolete.clear()
    else:
        catalog = Catalog(locale=locale, project="pm-admin", fuzzy=False, header_comment=HEADER)
        catalog.update(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_bytes() if path.exists() else b""
    new = _po_bytes(catalog)
    if new != old:
        path.write_bytes(new)
    return path


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # No line numbers: they would change the file whenever code moves.
    write_po(buffer, catalog, width=100, include_lineno=False, ignore_obsolete=True)
    return buffer.getvalue()


def needs_work(message) -> bool:
    """Whether a message is untranslated (any plural form empty) or fuzzy."""
    forms = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return message.fuzzy or not all(forms)


def main() -> None:
    template = extract()
    for locale in LOCALES:
        path = update(template, locale)
        with path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        todo = [m for m in catalog if m.id and needs_work(m)]
        print(f"{path.relative_to(ROOT)}: {len(template)} messages, "
              f"{len(todo)} untranslated or fuzzy" + ("" if locale != "en" else " (fine for English)"))
        if locale != "en":
            for message in todo:
                print(f"    {'fuzzy ' if message.fuzzy else ''}{message.id!r}")


if __name__ == "__main__":
    main()

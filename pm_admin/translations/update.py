"""Extract the messages of the code and templates into every catalog.

    .venv/bin/python -m pm_admin.translations.update

Reads ``babel.cfg`` at the project root, then for each locale merges the
messages into ``<locale>/LC_MESSAGES/messages.po``: translations of messages
still in use are kept, new messages arrive untranslated (never guessed from a
similar old message: a guess reads as done and is often wrong), and messages no
longer in the code are dropped. Entries are sorted by msgid and context, not by
where the code uses them, so a change adds and removes lines without reordering
the file. Running it twice changes nothing. Then fill in what it lists; ``tests/test_i18n.py`` fails while
any Chinese message is untranslated or fuzzy. English needs no translations:
the msgids are English and an empty msgstr falls back to them.
"""

import io
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SOURCE_LOCALE = "en"
LOCALES = ["zh_Hans_CN", SOURCE_LOCALE]
# gettext as _, ngettext, pgettext (a word with several meanings: its context first), and
# the lazy forms: lazy_gettext, imported as _l, and lazy_pgettext
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2)}
COMMENT_TAGS = ["TRANSLATORS:"]  # `# TRANSLATORS: ...` above a message reaches the .po
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


def update(template: Catalog, locale: str) -> tuple[Path, Catalog]:
    """Merge ``template`` into the locale's catalog; write it only when it changed."""
    path = HERE / locale / "LC_MESSAGES" / "messages.po"
    old = path.read_bytes() if path.exists() else b""
    if old:
        catalog = read_po(io.BytesIO(old), locale=locale)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
    else:
        catalog = Catalog(locale=locale, project="pm-admin", fuzzy=False, header_comment=HEADER)
        catalog.update(template, no_fuzzy_matching=True)
    buffer = io.BytesIO()
    # No line numbers: they would change the file whenever code moves.
    write_po(buffer, catalog, width=100, include_lineno=False, ignore_obsolete=True, sort_output=True)
    if buffer.getvalue() != old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getvalue())
    return path, catalog


def needs_work(message: Message) -> bool:
    """Whether a message is untranslated (any plural form empty) or fuzzy."""
    forms = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return message.fuzzy or not all(forms)


def main() -> None:
    template = extract()
    for locale in LOCALES:
        path, catalog = update(template, locale)
        print(f"{path.relative_to(ROOT)}: {len(template)} messages")
        if locale == SOURCE_LOCALE:
            continue
        todo = [m for m in catalog if m.id and needs_work(m)]
        print(f"  {len(todo)} to translate" + (":" if todo else "."))
        for message in todo:
            print(f"    {'(fuzzy) ' if message.fuzzy else ''}{message.id!r}")


if __name__ == "__main__":
    main()

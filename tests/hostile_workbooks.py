"""Hostile .xlsx files for the import, made in code (tests and bench/import_bombs.py).

Each is a workbook that Excel would open: the parts a minimal .xlsx needs, a
households header and one good row (room 1301), with one thing made hostile.
"""

import io
import zipfile

HEADER = ["Community", "Building", "Unit", "Room", "Floor area (m²)", "Resident"]
ROW = ["阳光花园", "1栋", "1", "1301", "88", "王芳"]

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    "</Relationships>"
)
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _letter(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _strings(texts, doctype: str = "") -> str:
    items = "".join(f"<si><t>{text}</t></si>" for text in texts)
    return f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<sst {MAIN}>{items}</sst>'


def _sheet(rows_xml: str, dimension: str = "A1:F2", padding: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {MAIN}><dimension ref="{dimension}"/>'
            f"<sheetData>{rows_xml}</sheetData>{padding}</worksheet>")


def _rows(*extra_cells: str, good_row: int = 2) -> str:
    """The header (row 1) and the good row, shared strings 0-11; ``extra_cells`` go into the good row."""
    rows = []
    for number, offset in ((1, 0), (good_row, len(HEADER))):
        cells = "".join(f'<c r="{_letter(i)}{number}" t="s"><v>{offset + i}</v></c>' for i in range(len(HEADER)))
        rows.append(f'<row r="{number}">{cells}{"".join(extra_cells) if number == good_row else ""}</row>')
    return "".join(rows)


def workbook(sheet: str | None = None, shared_strings: str | None = None) -> bytes:
    """A zip of the parts; ``sheet`` and ``shared_strings`` replace the plain ones."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet or _sheet(_rows()))
        archive.writestr("xl/sharedStrings.xml", shared_strings or _strings(HEADER + ROW))
    return output.getvalue()


def claimed_dimension(rows: int = 16_000) -> bytes:
    """1.9 KB claiming ``rows`` rows × 16,384 columns (A1:XFD16000), with the good row as its
    last: a reader that trusts the claim makes every row in between 16,384 cells wide."""
    return workbook(sheet=_sheet(_rows(good_row=rows), dimension=f"A1:XFD{rows}"))


def full_sheet_claim() -> bytes:
    """The same over Excel's whole sheet: 17 billion cells."""
    return claimed_dimension(1_048_576)


def far_cell() -> bytes:
    """An empty cell in the last column (XFD) of the good row: 16,384 cells wide."""
    return workbook(sheet=_sheet(_rows('<c r="XFD2"/>')))


def shared_strings_flood(count: int = 1_500_000) -> bytes:
    """``count`` distinct shared strings no cell uses: each becomes a Python string at load.
    1.5 million: 35 MB unpacked, compressed about 5 times."""
    return workbook(shared_strings=_strings(HEADER + ROW + [f"住户{n}" for n in range(count)]))


def repeated_strings(count: int = 3_000_000) -> bytes:
    """The same text ``count`` times: 111 MB of shared strings in a 0.2 MB file."""
    return workbook(shared_strings=_strings(HEADER + ROW + ["阳光花园1栋1单元"] * count))


def deflate_bomb(megabytes: int = 200) -> bytes:
    """Whitespace after the sheet's data: ``megabytes`` unpacked, packed about 1,000 times."""
    return workbook(sheet=_sheet(_rows(), padding=" " * (megabytes * 2**20)))


def billion_laughs() -> bytes:
    """Ten levels of entities, each ten of the one below: 10^10 "lol"s from 1 KB."""
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    return workbook(shared_strings=_strings(HEADER + ROW[:-1] + ["&l9;"], doctype=f"<!DOCTYPE sst [{entities}]>"))


def external_entity(target: str = "file:///etc/passwd") -> bytes:
    """The resident's name read from a file of the server."""
    doctype = f'<!DOCTYPE sst [<!ENTITY secret SYSTEM "{target}">]>'
    return workbook(shared_strings=_strings(HEADER + ROW[:-1] + ["&secret;"], doctype=doctype))


def nul_reference() -> bytes:
    """A character reference to NUL, which XML 1.0 forbids."""
    return workbook(shared_strings=_strings(HEADER + ROW[:-1] + ["王&#0;芳"]))


HOSTILE = {  # name -> maker, for the bench
    "claimed_dimension": claimed_dimension,
    "full_sheet_claim": full_sheet_claim,
    "far_cell": far_cell,
    "shared_strings_flood": shared_strings_flood,
    "repeated_strings": repeated_strings,
    "deflate_bomb": deflate_bomb,
    "billion_laughs": billion_laughs,
    "external_entity": external_entity,
    "nul_reference": nul_reference,
}

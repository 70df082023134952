"""Demo documents: a few small pictures drawn with Pillow and a tiny PDF, attached through the
same service as the upload page (so they are checked, re-encoded and thumbnailed alike)."""

import io

from PIL import Image, ImageDraw

from models.attachment import AttachmentCategory, Confidentiality, attach_file
from models.household import Household
from models.repair import RepairOrder
from pm_admin.extensions import db


def sample_picture(colour: str = "steelblue", size: tuple[int, int] = (480, 360), kind: str = "JPEG",
                   exif: bytes | None = None) -> bytes:
    """A picture with a few shapes on it (a "photo" of a wall or a pipe)."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((width // 8, height // 6, width * 5 // 8, height * 2 // 3), outline="white", width=4)
    draw.ellipse((width // 2, height // 2, width * 7 // 8, height * 7 // 8), fill="orange")
    out = io.BytesIO()
    image.save(out, format=kind, **({"exif": exif} if exif else {}))
    return out.getvalue()


def sample_pdf(text: str = "Contract") -> bytes:
    """A one-page PDF with a line of text, byte offsets and all."""
    content = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>"),
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def load_documents_demo(staff: dict) -> dict[str, int]:
    """An ID-card copy and a contract on the first households of each community, before and
    after photos on the first completed repair orders."""
    supervisor = staff["zhuguan"]
    count = 0
    firsts = {}
    for household in db.session.query(Household).order_by(Household.id):
        firsts.setdefault(household.building.community_id, household)
    for household in firsts.values():
        attach_file(household, actor=supervisor, data=sample_picture("lightgrey", (400, 250)),
                    file_name="身份证复印件.jpg", category=AttachmentCategory.id_card)
        attach_file(household, actor=supervisor, data=sample_pdf(), file_name="物业服务合同.pdf",
                    category=AttachmentCategory.contract, confidentiality=Confidentiality.confidential)
        count += 2
    repaired = db.session.query(RepairOrder).filter(RepairOrder.completed_at.isnot(None)).order_by(RepairOrder.id)
    for order in repaired.limit(3):
        attach_file(order, actor=supervisor, data=sample_picture("sienna"), file_name="维修前.jpg",
                    category=AttachmentCategory.before_photo)
        attach_file(order, actor=supervisor, data=sample_picture("seagreen", kind="PNG"), file_name="维修后.png",
                    category=AttachmentCategory.after_photo)
        count += 2
    return {"attachments": count}

"""Uploaded files checked by their content, never by their name or the browser's word.

``check_upload(data)`` knows the kinds the configuration accepts (``ATTACHMENT_TYPES``)
by their first bytes, refuses what is too large, empty or not what it claims, and
re-encodes images with Pillow: the pixels only (no EXIF: no GPS position, no camera
serial), turned upright, with a small JPEG thumbnail. A file with more pixels than
``ATTACHMENT_MAX_PIXELS`` is refused before it is decoded (a decompression bomb: a few
kilobytes of PNG that unpack to gigabytes). The form and the service read the same limits.
"""

import io
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import DomainError
from .i18n import _l


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str
    extension: str
    image_format: str | None  # Pillow's name for it; None: kept as sent (PDF)

    def matches(self, data: bytes) -> bool:
        if self.name == "webp":
            return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        return data.startswith(MAGIC[self.name])


MAGIC = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}
KINDS = {kind.name: kind for kind in (
    FileKind("jpeg", "image/jpeg", ".jpg", "JPEG"),
    FileKind("png", "image/png", ".png", "PNG"),
    FileKind("webp", "image/webp", ".webp", "WEBP"),
    FileKind("pdf", "application/pdf", ".pdf", None),
)}
THUMBNAIL = KINDS["jpeg"]
# Names in a PDF that run something when opened: refused (the file is also served sandboxed).
PDF_ACTIVE = (b"/JavaScript", b"/Launch")


class UploadRefused(DomainError):
    pass


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    kinds: tuple[FileKind, ...]
    max_pixels: int
    thumbnail_side: int

    @property
    def described(self) -> str:
        """What may be sent, for the form: "JPEG, PNG, WEBP, PDF; at most 10 MB"."""
        return _("%(kinds)s; at most %(size)d MB", kinds=", ".join(k.name.upper() for k in self.kinds),
                 size=self.max_bytes // (1024 * 1024))

    @property
    def accept(self) -> str:
        """The file input's ``accept``: the browser's first filter (the server checks again)."""
        return ",".join(k.content_type for k in self.kinds)


def limits() -> UploadLimits:
    config = current_app.config
    return UploadLimits(config["ATTACHMENT_MAX_MB"] * 1024 * 1024,
                        tuple(KINDS[name] for name in config["ATTACHMENT_TYPES"]),
                        config["ATTACHMENT_MAX_PIXELS"], config["ATTACHMENT_THUMBNAIL_SIDE"])


@dataclass(frozen=True)
class CheckedUpload:
    kind: FileKind
    data: bytes  # what is kept: re-encoded for an image
    thumbnail: bytes | None


def check_upload(data: bytes) -> CheckedUpload:
    """The file as it will be kept, or ``UploadRefused`` saying why not."""
    allowed = limits()
    if not data:
        raise UploadRefused(_l("The file is empty."))
    if len(data) > allowed.max_bytes:
        raise UploadRefused(_l("The file is larger than %(size)d MB."), size=allowed.max_bytes // (1024 * 1024))
    kind = next((k for k in allowed.kinds if k.matches(data)), None)
    if kind is None:
        raise UploadRefused(_l("This kind of file is not accepted (by its content, whatever its name): "
                               "send %(kinds)s."), kinds=", ".join(k.name.upper() for k in allowed.kinds))
    if kind.image_format is None:
        return CheckedUpload(kind, _checked_pdf(data), None)
    image = _decoded(data, kind, allowed.max_pixels)
    return CheckedUpload(kind, _encoded(image, kind), _encoded(_thumbnail(image, allowed.thumbnail_side), THUMBNAIL))


def _checked_pdf(data: bytes) -> bytes:
    if b"%%EOF" not in data[-2048:]:
        raise UploadRefused(_l("The PDF file is incomplete or damaged."))
    if any(name in data for name in PDF_ACTIVE):
        raise UploadRefused(_l("The PDF file contains scripts or actions; print it to PDF again and send that."))
    return data


def _decoded(data: bytes, kind: FileKind, max_pixels: int) -> Image.Image:
    bomb = UploadRefused(_l("The picture has too many pixels (at most %(pixels)d million): take it at a lower "
                            "resolution."), pixels=max_pixels // 1_000_000)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind.image_format])
            if image.width * image.height > max_pixels:  # read from the header, before decoding
                raise bomb
            image.load()
            return ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bomb from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise UploadRefused(_l("The picture cannot be read: the file is damaged or not a %(kind)s."),
                            kind=kind.name.upper()) from error


def _thumbnail(image: Image.Image, side: int) -> Image.Image:
    small = image.copy()
    small.thumbnail((side, side))
    return small


def _encoded(image: Image.Image, kind: FileKind) -> bytes:
    """The pixels alone in ``kind``'s format: nothing of the original's metadata is passed on."""
    if kind.name == "jpeg" and image.mode != "RGB":
        image = _on_white(image) if "A" in image.getbands() or image.mode == "P" else image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    image.save(out, format=kind.image_format, **({"quality": 85} if kind.name in ("jpeg", "webp") else {}))
    return out.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    white = Image.new("RGB", rgba.size, "white")
    white.paste(rgba, mask=rgba.getchannel("A"))
    return white

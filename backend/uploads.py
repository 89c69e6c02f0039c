"""Checks every uploaded file goes through before it is stored: the type by magic bytes, the size, a malware scan,
then per type a content check. Images are decoded and re-encoded (which drops appended payloads, polyglot tails,
EXIF and text chunks); PDFs are parsed and refused when encrypted, unparsable or carrying active content.

`inspect_upload(data)` returns `(content_type, clean_bytes, extension)` or raises `Rejected` with a Chinese message
for the user; it knows nothing of registrations. Nothing here writes to storage.
"""

import io
import re
import struct

from PIL import Image, ImageFile, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from backend import scanning

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Pillow's own decompression-bomb guard as a backstop; the explicit header check below runs first.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
TYPES = {  # content type: (magic bytes, extension, Pillow format or None)
    "image/jpeg": (b"\xff\xd8\xff", ".jpg", "JPEG"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png", "PNG"),
    "application/pdf": (b"%PDF-", ".pdf", None),
}

LIMITS_TEXT = "仅支持 JPG、PNG 图片或 PDF 文件，单个不超过5MB，每份登记最多10个"
TOO_MANY_PIXELS = "图片像素过大（不超过4000万像素），请缩小后重新上传"
BROKEN_IMAGE = "图片文件已损坏或无法识别，请重新拍摄或导出后上传"
PDF_ACTIVE = "PDF 文件含有脚本、自动操作、内嵌文件或外部启动项，出于安全原因不予接收，请另存为普通 PDF 或图片后上传"
PDF_ENCRYPTED = "PDF 文件已加密，请去除密码后重新上传"
BROKEN_PDF = "PDF 文件已损坏或无法识别，请重新导出后上传"
INFECTED = "文件未通过安全检查，请更换文件后上传"

# Names that make a PDF act on its own or carry other files (after #xx escapes are decoded).
PDF_FORBIDDEN = frozenset(
    {
        "JS",
        "JavaScript",
        "OpenAction",
        "AA",
        "Launch",
        "EmbeddedFiles",
        "EmbeddedFile",
        "FileAttachment",
        "RichMedia",
        "RichMediaExecute",
        "XFA",
        "SubmitForm",
        "ImportData",
        "GoToE",
        "GoToR",
        "Rendition",
        "Sound",
        "Movie",
    }
)
PDF_MAX_OBJECTS = 200_000
_PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]*)")
_HEX_ESCAPE = re.compile(r"#([0-9A-Fa-f]{2})")
_STREAM_BODY = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)


class Rejected(Exception):
    """The file is refused; `message` is shown to the user."""

    def __init__(self, message=LIMITS_TEXT):
        self.message = message
        super().__init__(message)


def sniff(data):
    """The content type the bytes really are (by magic bytes, never by name), or None."""
    for content_type, (magic, _, _) in TYPES.items():
        if data.startswith(magic):
            return content_type
    return None


def extension(content_type):
    return TYPES[content_type][1]


def inspect_upload(data, scanner=None):
    """Check an upload and return (content_type, bytes to store). `scanner` defaults to the app's configured one.

    :raises Rejected, scanning.ScanUnavailable:
    """
    content_type = sniff(data or b"")
    if not data or len(data) > MAX_BYTES or content_type is None:
        raise Rejected(LIMITS_TEXT)
    if (scanner or scanning.scanner()).scan(data) is not None:  # the raw upload, before our parsers see it
        raise Rejected(INFECTED)
    if content_type == "application/pdf":
        check_pdf(data)
        return content_type, data
    return content_type, reencode_image(data, TYPES[content_type][2])


# Images -------------------------------------------------------------------------------------------------------------


def header_pixels(data, image_format):
    """Width × height as declared in the header (largest frame for JPEG), without decoding; None when absent."""
    if image_format == "PNG":
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return width * height
    best, pos = None, 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return best
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header after this
            return best
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            best = max(best or 0, width * height)
        pos += 2 + length
    return best


def reencode_image(data, image_format):
    """Decode and re-encode in the same format, honouring EXIF orientation, then dropping all metadata."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # a library imported later (WeasyPrint) may have switched it on
    pixels = header_pixels(data, image_format)
    if pixels is None:
        raise Rejected(BROKEN_IMAGE)
    if pixels > MAX_PIXELS:
        raise Rejected(TOO_MANY_PIXELS)
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            if image.width * image.height > MAX_PIXELS:  # explicit, whatever the header parse above concluded
                raise Rejected(TOO_MANY_PIXELS)
            image.load()
            image = ImageOps.exif_transpose(image)
            # Pillow carries comments, EXIF, ICC and text chunks over from `info` on save: keep only transparency.
            image.info = {k: v for k, v in image.info.items() if k == "transparency"}
            out = io.BytesIO()
            if image_format == "JPEG":
                if image.mode not in ("L", "RGB"):
                    image = image.convert("RGB")
                image.save(out, format="JPEG", quality=90)
            else:
                if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                    image = image.convert("RGBA")
                image.save(out, format="PNG")
    except Rejected:
        raise
    except Image.DecompressionBombError:
        raise Rejected(TOO_MANY_PIXELS) from None
    except Exception:  # Pillow raises many types for hostile input (OSError, SyntaxError, ValueError, ...)
        raise Rejected(BROKEN_IMAGE) from None
    return out.getvalue()


# PDFs ---------------------------------------------------------------------------------------------------------------


def _names_in_raw(data):
    """Every PDF name token outside stream data in the raw bytes, #xx escapes decoded: catches objects no
    cross-reference points at. Stream bodies (compressed images, fonts) are skipped: random bytes there would
    otherwise spell a short name like /JS now and then; objects inside object streams are found by _walk."""
    for match in _PDF_NAME.finditer(_STREAM_BODY.sub(b" ", data)):
        raw = match.group(1).decode("latin-1")
        yield _HEX_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)


def _walk(reader):
    """Every dictionary reachable from the trailer (object streams included), each indirect object once."""
    seen, todo, count = set(), [reader.trailer], 0
    while todo:
        node = todo.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        count += 1
        if count > PDF_MAX_OBJECTS:
            raise Rejected(BROKEN_PDF)
        if isinstance(node, DictionaryObject):  # stream dictionaries too; stream data is not decoded
            yield node
            todo.extend(node.values())
        elif isinstance(node, ArrayObject):
            todo.extend(node)


def check_pdf(data):
    """Refuse encrypted, unparsable or active PDFs. :raises Rejected:"""
    if PDF_FORBIDDEN.intersection(_names_in_raw(data)):
        raise Rejected(PDF_ACTIVE)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Rejected(PDF_ENCRYPTED)
        if len(reader.pages) < 1:
            raise Rejected(BROKEN_PDF)
        for node in _walk(reader):
            keys = {str(k).lstrip("/") for k in node}
            values = {str(v).lstrip("/") for v in node.values() if isinstance(v, NameObject)}
            if PDF_FORBIDDEN & (keys | values):
                raise Rejected(PDF_ACTIVE)
    except Rejected:
        raise
    except Exception:  # pypdf raises PdfReadError, ValueError, KeyError, RecursionError ... on hostile input
        raise Rejected(BROKEN_PDF) from None

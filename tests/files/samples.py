"""Files for upload tests, made here (real images and PDFs built with Pillow and pypdf, hostile variants patched)."""

import io
import struct
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

# The standard antivirus test string (harmless by design); split so this file itself is not flagged.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class EicarScanner:
    """The fake scanner tests plug in: flags the EICAR string, records what it saw."""

    def __init__(self):
        self.seen = []

    def scan(self, data):
        self.seen.append(len(data))
        return "Eicar-Test-Signature" if EICAR in data else None


def png(width=16, height=16, color=(200, 30, 30), **save):
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG", **save)
    return out.getvalue()


def jpeg(width=16, height=16, **save):
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 30, 200)).save(out, format="JPEG", **save)
    return out.getvalue()


def png_header(width, height):
    """A PNG that declares a size in IHDR (a tiny IDAT): what a pixel bomb looks like before decoding."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x00" * 3 for _ in range(1))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg_claiming(width, height):
    """A real small JPEG whose frame header (SOF0) is patched to claim another size."""
    data = bytearray(jpeg())
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _writer():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    return writer


def _bytes(writer):
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf(padding=0, comment=b""):
    """A plain one-page PDF; `padding` bytes of page content make it as large as needed, `comment` is carried in
    the page content as a PDF comment."""
    writer = _writer()
    if padding or comment:
        stream = StreamObject()
        stream.set_data(b"%" + comment + b" " * padding + b"\n")
        writer.pages[0][NameObject("/Contents")] = writer._add_object(stream)
    return _bytes(writer)


def _action(kind, **extra):
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in extra.items():
        action[NameObject(f"/{key}")] = value
    return action


def pdf_with_js():
    """Document-level JavaScript in the /Names tree, as Acrobat writes it."""
    writer = _writer()
    script = _action("/JavaScript", JS=TextStringObject("app.alert('x');"))
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("x"), writer._add_object(script)])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
    return _bytes(writer)


def pdf_with_open_action():
    writer = _writer()
    dest = ArrayObject([writer.pages[0].indirect_reference, NameObject("/Fit")])
    writer._root_object[NameObject("/OpenAction")] = _action("/GoTo", D=dest)
    return _bytes(writer)


def pdf_with_page_aa():
    writer = _writer()
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _action("/Named", N=NameObject("/Print"))})
    return _bytes(writer)


def pdf_with_embedded_file():
    writer = _writer()
    writer.add_attachment("payload.exe", b"MZ\x90\x00 not really")
    return _bytes(writer)


def pdf_with_launch():
    writer = _writer()
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(50), NumberObject(50)]),
            NameObject("/A"): _action("/Launch", F=TextStringObject("cmd.exe")),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    return _bytes(writer)


def pdf_with_xfa():
    writer = _writer()
    form = DictionaryObject({NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): TextStringObject("<xdp/>")})
    writer._root_object[NameObject("/AcroForm")] = writer._add_object(form)
    return _bytes(writer)


def pdf_with_rich_media():
    writer = _writer()
    annot = DictionaryObject(
        {NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/RichMedia")}
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annot)])
    return _bytes(writer)


def pdf_encrypted():
    writer = _writer()
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    return _bytes(writer)


def pdf_hex_escaped_open_action():
    """/OpenAction spelled with #xx escapes, which viewers decode: a classic filter bypass."""
    return pdf_with_open_action().replace(b"/OpenAction", b"/Open#41ction")


def pdf_with_eicar():
    """A valid PDF that carries the EICAR string in a comment: only the scanner can refuse it."""
    return pdf(comment=EICAR)

"""Watermarks stamped on a digital archive file each time it is viewed: the viewer and the time (CST).

Images (Pillow): tiled, diagonal, semi-transparent text over the whole picture, plus one upright line at the foot;
in a CJK font when the machine has one (Noto Sans CJK, WenQuanYi), else Pillow's built-in font with ASCII text.
PDFs (pypdf): every page gets an overlay content stream in the standard Helvetica font. Limitation: the standard
fonts carry no Chinese glyphs, so the PDF stamp is ASCII only (login name, staff id, time) — the viewer's Chinese
name is not drawn on PDFs. The stored file is never changed; a new copy is made per view.
"""

import io
import math
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, FloatObject, NameObject, StreamObject

from backend.registration.windows import CST

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


@lru_cache(maxsize=1)
def cjk_font_path():
    """The first CJK font found on the machine, or None."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


def ascii_label(viewer, now):
    login = re.sub(r"[^A-Za-z0-9_.@-]", "?", viewer.username or "")[:64]
    return f"{login} #{viewer.id} {now.astimezone(CST):%Y-%m-%d %H:%M:%S} CST"


def label(viewer, now):
    """The stamped text: name, login, id and time when a CJK font exists; else the ASCII label."""
    if cjk_font_path() is None:
        return ascii_label(viewer, now)
    return f"{viewer.full_name} {ascii_label(viewer, now)} 仅供查阅"


def _font(size):
    path = cjk_font_path()
    if path is not None:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def stamp_image(data, content_type, viewer, now):
    """The picture with the viewer's watermark, in the stored format (JPEG or PNG)."""
    with Image.open(io.BytesIO(data)) as source:
        base = source.convert("RGBA")
    width, height = base.size
    text = label(viewer, now)
    size = max(12, min(width, height) // 28)
    font = _font(size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    tile = Image.new("RGBA", (right - left + size * 2, bottom - top + size), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((size - left, size // 2 - top), text, font=font, fill=(80, 80, 80, 110))
    tile = tile.rotate(30, expand=True, resample=Image.Resampling.BICUBIC)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    step_x, step_y = max(tile.width, 1), max(tile.height // 2 + size * 2, size * 3)
    for row, y in enumerate(range(-tile.height, height + tile.height, step_y)):
        offset = (row % 2) * step_x // 2
        for x in range(-tile.width + offset, width + tile.width, step_x):
            overlay.paste(tile, (x, y), tile)
    foot = ImageDraw.Draw(overlay)
    foot.text((size // 2, max(0, height - size * 2)), text, font=font, fill=(40, 40, 40, 180))
    stamped = Image.alpha_composite(base, overlay)
    out = io.BytesIO()
    if content_type == "image/png":
        stamped.save(out, format="PNG")
    else:
        stamped.convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def _pdf_string(text):
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _overlay_ops(width, height, x0, y0, text):
    cos, sin = math.cos(math.radians(30)), math.sin(math.radians(30))
    ops = ["q /WmGS gs 0.8 0 0 rg BT /WmF 11 Tf"]
    for y in range(int(y0) - 200, int(y0 + height) + 200, 110):
        for x in range(int(x0) - 200, int(x0 + width), 330):
            ops.append(f"{cos:.4f} {sin:.4f} {-sin:.4f} {cos:.4f} {x} {y} Tm {_pdf_string(text)} Tj")
    ops.append("ET Q")
    ops.append(
        f"q 0.8 0 0 rg BT /WmF 8 Tf 1 0 0 1 {x0 + 18:.1f} {y0 + 12:.1f} Tm {_pdf_string('Viewed by ' + text)} Tj ET Q"
    )
    return "\n".join(ops).encode("latin-1")


def _overlay_page(writer, width, height, x0, y0, text):
    page = PageObject.create_blank_page(width=float(x0 + width), height=float(y0 + height))
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    state = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/ExtGState"),
            NameObject("/ca"): FloatObject(0.22),
            NameObject("/CA"): FloatObject(0.22),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {
            NameObject("/Font"): DictionaryObject({NameObject("/WmF"): writer._add_object(font)}),
            NameObject("/ExtGState"): DictionaryObject({NameObject("/WmGS"): writer._add_object(state)}),
        }
    )
    stream = StreamObject()
    stream.set_data(_overlay_ops(width, height, x0, y0, text))
    page[NameObject("/Contents")] = writer._add_object(stream)
    return page


def stamp_pdf(data, viewer, now):
    """The PDF with every page stamped (ASCII: login, staff id, time in CST)."""
    text = ascii_label(viewer, now)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages:
        box = page.mediabox
        overlay = _overlay_page(writer, float(box.width), float(box.height), float(box.left), float(box.bottom), text)
        page.merge_page(overlay)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def stamp(data, content_type, viewer, now):
    if content_type == "application/pdf":
        return stamp_pdf(data, viewer, now)
    return stamp_image(data, content_type, viewer, now)

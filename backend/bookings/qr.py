"""The check-in QR code of a booking, as an SVG data URI the phone shows in an <image> (segno, no image files)."""

import segno


def svg_data_uri(text, *, scale=4):
    """An SVG data URI of a QR code holding `text` (error correction M, a quiet zone of 4 modules).

    The counter's USB scanner types the text into the check-in field, so `text` is the booking's short code only.
    """
    return segno.make(text, error="m", boost_error=False).svg_data_uri(scale=scale, border=4)

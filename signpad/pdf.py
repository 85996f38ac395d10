"""The signed form as an A4 PDF (fpdf2): the data, the terms and their version, each signature
drawn from its strokes as vector lines, when, where and with whom it was signed. Pure: bytes
in memory, nothing written to disk."""

import math
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from edge_common.protocol.forms import Form, Signature
from signpad.i18n import Texts

FONTS = Path("/usr/share/fonts/truetype")
TEXT_FONT = FONTS / "dejavu" / "DejaVuSans.ttf"
BOLD_FONT = FONTS / "dejavu" / "DejaVuSans-Bold.ttf"
CJK_FONT = FONTS / "wqy" / "wqy-microhei.ttc"
MARGIN = 18  # mm
SIGN_W, SIGN_H = 82, 32  # mm of a signature's box (two fit side by side)
INK = 0.45  # mm of a signature line
STEP = 0.3  # mm: points of a stroke closer than this to the last one drawn are left out


def thinned(points: list[tuple[float, float]], step: float = STEP) -> list[tuple[float, float]]:
    """The points of a line without those closer than `step` to the last kept one (the first
    and last always stay): the drawing looks the same and the PDF stays small."""
    kept = points[:1]
    for x, y in points[1:-1]:
        if math.hypot(x - kept[-1][0], y - kept[-1][1]) >= step:
            kept.append((x, y))
    return kept + points[-1:] if len(points) > 1 else kept


def _fonts(pdf: FPDF) -> None:
    """DejaVu for Latin scripts, WenQuanYi Micro Hei for what DejaVu lacks (Chinese); fpdf2
    embeds only the glyphs used (subset)."""
    pdf.add_font("Text", "", TEXT_FONT)
    pdf.add_font("Text", "B", BOLD_FONT)
    pdf.add_font("Cjk", "", CJK_FONT, collection_font_number=0)
    pdf.set_fallback_fonts(["Cjk"], exact_match=False)


def _signature(pdf: FPDF, signature: Signature, x0: float, y0: float, caption: str) -> None:
    """One signature's box at (x0, y0): the strokes scaled into it as polylines, its caption
    below."""
    scale = min(SIGN_W / signature.width, SIGN_H / signature.height)
    pdf.set_draw_color(160)
    pdf.set_line_width(0.2)
    pdf.rect(x0, y0, SIGN_W, SIGN_H)
    pdf.set_draw_color(0, 0, 90)
    pdf.set_line_width(INK)
    for stroke in signature.strokes:
        # the pad's y grows upwards (Kivy), the page's downwards
        points = thinned([(x0 + x * scale, y0 + SIGN_H - y * scale) for x, y, _ in stroke])
        if len(points) == 1:
            points.append((points[0][0] + INK / 2, points[0][1]))
        pdf.polyline(points)
    pdf.set_xy(x0, y0 + SIGN_H + 1)
    pdf.set_font("Text", "", 9)
    pdf.cell(SIGN_W, 5, caption)


def _signatures(pdf: FPDF, signatures: list[Signature], tr: Texts) -> None:
    """The signatures side by side, on a new page when the row does not fit."""
    if pdf.get_y() + SIGN_H + 10 > pdf.h - MARGIN:
        pdf.add_page()
    y0 = pdf.get_y()
    gap = pdf.epw - 2 * SIGN_W
    for i, signature in enumerate(signatures):
        _signature(pdf, signature, pdf.l_margin + i * (SIGN_W + gap), y0,
                   tr.label(f"pdf_{signature.signer}"))
    pdf.set_xy(pdf.l_margin, y0 + SIGN_H + 9)


def render(form: Form, signatures: list[Signature], signed_at: datetime, pad: str) -> bytes:
    """The signed form's PDF in the form's language."""
    tr = Texts(form.lang)
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN)
    pdf.set_title(tr.label(form.kind))
    pdf.set_creator("libedge signpad")
    pdf.set_creation_date(signed_at)
    _fonts(pdf)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("Text", "B", 17)
    pdf.multi_cell(width, 9, tr.label(form.kind), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Text", "", 9)
    pdf.multi_cell(width, 5, tr.label("pdf_form", form=form.form, revision=form.revision),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Text", "B", 12)
    pdf.cell(width, 7, tr.label("pdf_details"), new_x="LMARGIN", new_y="NEXT")
    for field in form.fields:
        pdf.set_font("Text", "", 10)
        pdf.multi_cell(width * 0.35, 6, field.label, new_x="RIGHT", new_y="TOP")
        pdf.set_font("Text", "B", 10)
        pdf.multi_cell(width * 0.65, 6, field.value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Text", "B", 12)
    pdf.multi_cell(width, 7, tr.label("pdf_terms", version=form.terms_version),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Text", "", 9)
    pdf.multi_cell(width, 4.6, form.terms, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    _signatures(pdf, signatures, tr)
    pdf.set_font("Text", "", 9)
    stamp = signed_at.isoformat(timespec="seconds")
    pdf.multi_cell(width, 5, tr.label("pdf_signed", at=stamp), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 5, tr.label("pdf_where", pad=pad, staff=form.staff),
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())

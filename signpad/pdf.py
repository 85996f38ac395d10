"""The signed form as an A4 PDF (fpdf2): the data, the terms and their version, each signature
drawn from its strokes as vector lines, when, where and with whom it was signed. Pure: bytes
in memory, nothing written to disk.

`render` makes it in this process; `render_apart` in a short-lived child (`python -m
signpad.pdf`, the form in on stdin, the PDF out on stdout), so the pad never holds fpdf2 and
the fonts it parses (40 MB) beside its screen.
"""

import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from edge_common.errors import EdgeError
from edge_common.protocol.forms import Form, Signature
from signpad.i18n import Texts

if TYPE_CHECKING:
    from fpdf import FPDF

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


def needs_cjk(texts: list[str]) -> bool:
    """Whether any text has characters from the CJK blocks on (U+2E80), which DejaVu lacks."""
    return any(ord(c) >= 0x2E80 for text in texts for c in text)


def _fonts(pdf: "FPDF", cjk: bool) -> None:
    """DejaVu for Latin scripts and, only when the form needs it (parsing it costs 35 MB for a
    moment), WenQuanYi Micro Hei for Chinese; fpdf2 embeds only the glyphs used (subset)."""
    pdf.add_font("Text", "", TEXT_FONT)
    pdf.add_font("Text", "B", BOLD_FONT)
    if cjk:
        pdf.add_font("Cjk", "", CJK_FONT, collection_font_number=0)
        pdf.set_fallback_fonts(["Cjk"], exact_match=False)


def _signature(pdf: "FPDF", signature: Signature, x0: float, y0: float, caption: str) -> None:
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


def _signatures(pdf: "FPDF", signatures: list[Signature], tr: Texts) -> None:
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
    from fpdf import FPDF  # 30 MB of modules: imported when a form is first signed

    tr = Texts(form.lang)
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN)
    pdf.set_title(tr.label(form.kind))
    pdf.set_creator("libedge signpad")
    pdf.set_creation_date(signed_at)
    words = [tr.label(form.kind), form.terms, form.staff, pad,
             *(text for f in form.fields for text in (f.label, f.value))]
    _fonts(pdf, needs_cjk(words))
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


class Job(msgspec.Struct, frozen=True):
    """What the child process renders."""

    form: Form
    signatures: list[Signature]
    signed_at: datetime
    pad: str


class PdfFailed(EdgeError, RuntimeError):
    """The child could not make the PDF (the form stays on the pad to be signed again)."""

    code = "pdf_failed"


def render_apart(form: Form, signatures: list[Signature], signed_at: datetime, pad: str,
                 timeout: float = 60.0) -> bytes:
    """`render` in a child process, through pipes only (nothing of the form on disk)."""
    job = msgspec.json.encode(Job(form, signatures, signed_at, pad))
    try:
        done = subprocess.run([sys.executable, "-m", "signpad.pdf"], input=job,
                              capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PdfFailed(f"PDF child: {exc}") from exc
    if done.returncode or not done.stdout.startswith(b"%PDF"):
        raise PdfFailed(f"PDF child exited {done.returncode}: {done.stderr[-500:]!r}")
    return done.stdout


def main() -> None:
    """The child: a Job as JSON on stdin, the PDF on stdout."""
    job = msgspec.json.decode(sys.stdin.buffer.read(), type=Job)
    sys.stdout.buffer.write(render(job.form, job.signatures, job.signed_at, job.pad))


if __name__ == "__main__":
    main()

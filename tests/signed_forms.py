"""What a signing pad sends when a form is signed, made as the pad makes it: an A4 PDF with
fpdf2 from the `Form` it fetched and the strokes, hashed with the shared `form_hash`.

Each PDF is made once per process for the same form, signatures and pad (embedding the font is
most of a form test's time; `make mutate` forks its runs from a process that made them all)."""

import base64
import importlib.util
import math
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from fpdf import FPDF

from edge_common.forms_hash import form_hash
from edge_common.protocol.forms import Form, Signature, Signed

CANVAS = (800, 300)
# a Unicode font as a pad embeds one (Kivy ships DejaVu Sans); fpdf2 embeds only its subset
FONT = Path(importlib.util.find_spec("kivy").origin).parent / "data" / "fonts" / "DejaVuSans.ttf"


def signature(signer: str = "patron", strokes: int = 3, points: int = 40) -> Signature:
    """A plausible hand signature: a few wavy strokes with their timing."""
    lines = []
    for n in range(strokes):
        lines.append([(40 + n * 220 + p * 5, int(150 + 60 * math.sin(p / 4 + n)), n * 900 + p * 12)
                      for p in range(points)])
    return Signature(signer=signer, width=CANVAS[0], height=CANVAS[1], strokes=lines)


MADE: dict[bytes, bytes] = {}


def form_pdf(form: Form, signatures: list[Signature], pad: str = "pad-1") -> bytes:
    """The form's PDF, made once for the same form, signatures and pad."""
    key = msgspec.json.encode([form, signatures, pad])
    if key not in MADE:
        MADE[key] = _render(form, signatures, pad)
    return MADE[key]


def _render(form: Form, signatures: list[Signature], pad: str) -> bytes:
    """The form's PDF: its data, terms version and text, each signature drawn, time, pad, staff."""
    pdf = FPDF(format="A4")
    pdf.set_compression(True)
    pdf.add_page()
    pdf.add_font("dejavu", fname=str(FONT))
    pdf.set_font("dejavu", size=16)
    pdf.cell(0, 10, f"Form {form.form} ({form.kind}), revision {form.revision}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", size=11)
    for f in form.fields:
        pdf.cell(0, 7, f"{f.label}: {f.value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 7, f"Terms version {form.terms_version}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, form.terms)
    for sig in signatures:
        pdf.ln(4)
        pdf.cell(0, 7, f"Signed by the {sig.signer}", new_x="LMARGIN", new_y="NEXT")
        x0, y0, scale = pdf.get_x(), pdf.get_y(), 80 / sig.width
        for stroke in sig.strokes:
            for (ax, ay, _), (bx, by, _) in zip(stroke, stroke[1:], strict=False):
                pdf.line(x0 + ax * scale, y0 + ay * scale, x0 + bx * scale, y0 + by * scale)
        pdf.set_y(y0 + sig.height * scale + 2)
    pdf.cell(0, 7, f"Signed {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {pad},"
             f" staff {form.staff}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def signed(form: Form, signers: list[str] | None = None, pdf: bytes | None = None,
           sha256: str | None = None) -> Signed:
    """The `form.signed` body for a form, signed by its signers (or those named)."""
    sigs = [signature(s, strokes=2 + i) for i, s in enumerate(signers or form.signers)]
    pdf = pdf if pdf is not None else form_pdf(form, sigs)
    return Signed(form=form.form, revision=form.revision, signed_at=datetime.now(UTC),
                  pdf=base64.b64encode(pdf).decode(), signatures=sigs,
                  sha256=sha256 or form_hash(pdf, sigs))

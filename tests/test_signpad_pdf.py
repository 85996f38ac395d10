"""The signed form's PDF: parsed back it holds the data, the terms and their version, the
signatures as drawings; it stays small; the hash covers the PDF and the strokes."""

import io
import re
from datetime import UTC, datetime

import msgspec
from pypdf import PdfReader

from edge_common.forms_hash import form_hash
from signpad.pdf import render, thinned
from tests.signpad_forms import BORN, form, signature

SIGNED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def pdf_of(**kw) -> bytes:
    return render(form(**kw), [signature("patron"), signature("guardian", strokes=2)],
                  SIGNED_AT, "pad-1")


def test_the_pdf_holds_the_data_terms_version_signing_facts_in_the_forms_language():
    reader = PdfReader(io.BytesIO(pdf_of()))
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    for expected in ("Žiga Čečović-Kővári", "张伟", BORN, "Trubarjeva 12, Ljubljana",
                     "Pogoji članstva, različica 2026-1", "159. Člen pogojev članstva",
                     "Vpisnica", "pad-1", "desk-ana", "Obrazec 7, različica 1",
                     "Podpis člana", "Podpis starša ali skrbnika", "2026-12-01T09:30:00"):
        assert expected in flat, expected
    assert reader.pages[0].mediabox.width == 595.28  # A4 in points
    assert len(reader.pages) >= 2  # the long terms flow onto more pages


def test_each_signature_is_drawn_as_one_vector_line_per_stroke():
    reader = PdfReader(io.BytesIO(pdf_of()))
    last = reader.pages[-1].get_contents().get_data().decode("latin-1")
    # a polyline is a move (m), a line to each further point (l), and a stroke (S)
    strokes = re.findall(r"m\n(?:[-\d. ]+ l\n)+ ?S\n", last)
    assert len(strokes) == 4 + 2
    # points closer than 0.3 mm on paper to the last one drawn are left out, the rest stay
    assert all(150 <= s.count(" l\n") < 299 for s in strokes)


def test_a_scribbled_signature_and_long_terms_stay_under_300_kb():
    # 2 × 60 strokes of 400 points: far more than any signature; the fonts are subset
    pdf = render(form(), [signature("patron", strokes=60, points=400),
                          signature("guardian", strokes=60, points=400)], SIGNED_AT, "pad-1")
    assert len(pdf) <= 300_000


def test_thinning_keeps_the_ends_and_drops_only_points_closer_than_the_step():
    line = [(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (0.35, 0.0), (0.4, 0.0), (1.0, 0.0)]
    assert thinned(line) == [(0.0, 0.0), (0.35, 0.0), (1.0, 0.0)]
    assert thinned(line[:1]) == line[:1]
    assert thinned([]) == []


def test_the_hash_covers_the_pdf_and_every_stroke():
    pdf = pdf_of()
    sigs = [signature("patron")]
    digest = form_hash(pdf, sigs)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert form_hash(pdf, sigs) == digest
    moved = msgspec.structs.replace(sigs[0], strokes=[[(1, 1, 0)], *sigs[0].strokes[1:]])
    assert form_hash(pdf, [moved]) != digest
    assert form_hash(pdf + b" ", sigs) != digest

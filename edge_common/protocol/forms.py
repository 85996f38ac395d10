"""Signed forms between the desk, central and a signing pad, and the `events` dataset the
pad shows when idle (issue 15).

Central renders a form (the patron's data and the current terms in their language); the pad
fetches it, sends corrections back, and submits the signed, hashed PDF and raw strokes as
an event through its outbox; central checks the hash, seals the PDF and archives it once.
"""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from edge_common.protocol.fields import Code, Count, Id, Lang, Name, Text
from edge_common.protocol.spec import Answer, Body, event, request

EVENTS = "events"
FormKind = Literal["registration", "renewal", "change", "guardian_consent"]
Signer = Literal["patron", "guardian"]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
# x, y in the pad's canvas pixels, t in milliseconds since the stroke's signer began
Point = tuple[Annotated[int, msgspec.Meta(ge=0, le=100_000)],
              Annotated[int, msgspec.Meta(ge=0, le=100_000)],
              Annotated[int, msgspec.Meta(ge=0, le=3_600_000)]]
Stroke = Annotated[list[Point], msgspec.Meta(max_length=5_000)]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """An `events` row, keyed by event id: a library event the pad shows when idle."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    starts: datetime
    place: Text = ""
    lang: Lang | None = None


class FormField(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a form as the patron checks it: its key, translated label and value."""

    key: Name
    label: Text
    value: Text


class FormRef(Body):
    """`form.get` / `form.pending`: a form of this pad (`form` absent: the one waiting)."""

    form: Id | None = None


class Form(Answer):
    """A form as the pad shows it; `revision` grows with each fix the desk makes."""

    form: Id
    revision: Count
    kind: FormKind
    lang: Lang
    fields: list[FormField]
    terms_version: str
    terms: str
    signers: list[Signer]
    staff: str


class NoForm(Answer):
    """`form.pending`: the form waiting for this pad, if any."""

    form: Form | None = None


class Correction(Body):
    """`form.correction`: the patron says a field is wrong."""

    form: Id
    revision: Count
    field: Name


class Signature(msgspec.Struct, frozen=True, kw_only=True):
    """One signer's strokes as captured (canvas size in pixels)."""

    signer: Signer
    width: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    height: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    strokes: Annotated[list[Stroke], msgspec.Meta(max_length=500)]


class Signed(Body):
    """`form.signed`: the signed form's PDF (base64) and strokes, and a SHA-256 over both."""

    form: Id
    revision: Count
    signed_at: datetime
    pdf: Annotated[str, msgspec.Meta(max_length=420_000)]
    signatures: Annotated[list[Signature], msgspec.Meta(min_length=1, max_length=2)]
    sha256: Sha256


class Archived(Answer):
    """`form.signed`: the archive entry that now holds the sealed form."""

    archive: Id
    sealed: bool
    refusal: Code | None = None


FORM_PENDING = request("form.pending", FormRef, NoForm, senders={"signpad"})
FORM_GET = request("form.get", FormRef, Form, senders={"signpad"})
FORM_CORRECTION = event("form.correction", Correction, senders={"signpad"})
FORM_SIGNED = event("form.signed", Signed, Archived, senders={"signpad"})

"""What a signing pad asks of central about forms, applied exactly once by the ingest: the
form waiting for it, a form by id, the patron's corrections, and the signed form to archive.

A refusal (`form_unknown`, `form_closed`, `hash_mismatch`, `form_revision_stale`, …) stores
nothing; for an event the pad is told the code in the ack and drops the event.
"""

from central.circulation import form_archive, forms
from central.circulation.device_api import store
from central.circulation.errors import NotFound
from central.handlers import Context, handler
from edge_common.protocol import forms as wire


@handler(wire.FORM_PENDING, read_only=True)
def pending(ctx: Context, body: wire.FormRef) -> wire.NoForm:
    """The open form waiting on this pad (asked at start and on every reconnect)."""
    s = store(ctx)
    row = forms.pending(s, ctx.device.id)
    return wire.NoForm(form=forms.as_wire(s, row) if row else None)


@handler(wire.FORM_GET, read_only=True)
def get(ctx: Context, body: wire.FormRef) -> wire.Form:
    """One open form of this pad (none named: the one waiting)."""
    s = store(ctx)
    if body.form is None:
        row = forms.pending(s, ctx.device.id)
        if row is None:
            raise NotFound("no form is waiting for this pad", code="form_unknown")
    else:
        row = forms.open_form(s, body.form)
        if row["pad"] != ctx.device.id:
            raise NotFound(f"form {body.form} is not on this pad", code="form_unknown")
    return forms.as_wire(s, row)


@handler(wire.FORM_CORRECTION)
def correction(ctx: Context, body: wire.Correction) -> None:
    """The patron flagged a field as wrong: the desk sees it with the form."""
    forms.ask_correction(store(ctx), body.form, body.revision, body.field, ctx.device.id)


@handler(wire.FORM_SIGNED)
def signed(ctx: Context, body: wire.Signed) -> wire.Archived:
    """Archive a signed form, sealed, once (a retried event gets this same answer)."""
    archive = form_archive.archive(store(ctx), body, ctx.device.id)
    return wire.Archived(archive=archive, sealed=True)

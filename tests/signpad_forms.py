"""Forms and signatures for the signing-pad tests: long terms, Chinese and Central European
names, strokes with timing."""

import math

from edge_common.protocol.forms import Form, FormField, Signature

NAME = "Žiga Čečović-Kővári 张伟"
BORN = "2013-05-17"
TERMS = "".join(f"{i}. Člen pogojev članstva: izposoja, podaljšanje, zamudnine in varstvo "
                f"osebnih podatkov so urejeni s tem pravilnikom. " for i in range(1, 160))


def form(revision: int = 1, signers: tuple[str, ...] = ("patron", "guardian"),
         lang: str = "sl", name: str = NAME) -> Form:
    """A minor's registration form in Slovenian with long terms."""
    return Form(form=7, revision=revision, kind="registration", lang=lang,
                fields=[FormField(key="name", label="Ime in priimek", value=name),
                        FormField(key="born", label="Datum rojstva", value=BORN),
                        FormField(key="address", label="Naslov", value="Trubarjeva 12, Ljubljana")],
                terms_version="2026-1", terms=TERMS, signers=list(signers),  # type: ignore[arg-type]
                staff="desk-ana")


def signature(signer: str = "patron", strokes: int = 4, points: int = 300) -> Signature:
    """A wavy signature: `strokes` strokes of `points` timed points on a 1200×400 box."""
    return Signature(signer=signer, width=1200, height=400,  # type: ignore[arg-type]
                     strokes=[[(40 + i * 3 + s * 20, 200 + round(120 * math.sin(i / 9 + s)),
                                s * 2000 + i * 8) for i in range(points)]
                              for s in range(strokes)])

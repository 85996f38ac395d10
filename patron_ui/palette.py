"""The colours of the patron screens, normal and high contrast, and their WCAG contrast ratios.

Pure data: the Kivy layer reads these; a test computes every pair's ratio (WCAG 2.x) from them.
"""

from dataclasses import dataclass, fields

Colour = tuple[float, float, float, float]
TEXT = 4.5  # WCAG AA for normal text
GRAPHIC = 3.0  # WCAG AA for large text and for the parts of controls (check boxes, pictograms)


@dataclass(frozen=True)
class Palette:
    """Named colours: each `on_x` is the text drawn on `x`."""

    page: Colour
    surface: Colour
    ink: Colour
    muted: Colour
    accent: Colour
    on_accent: Colour
    ok: Colour
    on_ok: Colour
    warn: Colour
    on_warn: Colour
    bad: Colour
    on_bad: Colour
    line: Colour

    def as_dict(self) -> dict[str, Colour]:
        """Name → colour, for the Kivy rules."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


NORMAL = Palette(
    page=(0.95, 0.94, 0.91, 1), surface=(1, 1, 1, 1),
    ink=(0.10, 0.11, 0.14, 1), muted=(0.30, 0.32, 0.37, 1),
    accent=(0.04, 0.31, 0.50, 1), on_accent=(1, 1, 1, 1),
    ok=(0.07, 0.40, 0.19, 1), on_ok=(1, 1, 1, 1),
    warn=(0.55, 0.29, 0.0, 1), on_warn=(1, 1, 1, 1),
    bad=(0.66, 0.10, 0.10, 1), on_bad=(1, 1, 1, 1),
    line=(0.45, 0.46, 0.50, 1),
)
HIGH_CONTRAST = Palette(
    page=(0, 0, 0, 1), surface=(0.07, 0.07, 0.07, 1),
    ink=(1, 1, 0.3, 1), muted=(1, 1, 1, 1),
    accent=(1, 1, 0.3, 1), on_accent=(0, 0, 0, 1),
    ok=(0.35, 1, 0.45, 1), on_ok=(0, 0, 0, 1),
    warn=(1, 0.65, 0.1, 1), on_warn=(0, 0, 0, 1),
    bad=(1, 0.45, 0.45, 1), on_bad=(0, 0, 0, 1),
    line=(1, 1, 1, 1),
)
# Every foreground drawn on every background the screens use, and the ratio it needs.
PAIRS: tuple[tuple[str, str, float], ...] = (
    ("ink", "page", TEXT), ("ink", "surface", TEXT),
    ("muted", "page", TEXT), ("muted", "surface", TEXT),
    ("on_accent", "accent", TEXT), ("on_ok", "ok", TEXT),
    ("on_warn", "warn", TEXT), ("on_bad", "bad", TEXT),
    ("bad", "page", TEXT), ("bad", "surface", TEXT), ("warn", "page", TEXT),
    ("accent", "surface", GRAPHIC), ("accent", "page", GRAPHIC),
    ("ok", "surface", TEXT), ("line", "surface", GRAPHIC), ("line", "page", GRAPHIC),
)


def luminance(colour: Colour) -> float:
    """WCAG relative luminance of an sRGB colour (alpha ignored)."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Colour, b: Colour) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def shortfalls(palette: Palette) -> list[str]:
    """The pairs of `palette` below their required ratio, described."""
    colours = palette.as_dict()
    return [f"{fg} on {bg}: {ratio:.2f} < {need}" for fg, bg, need in PAIRS
            if (ratio := contrast(colours[fg], colours[bg])) < need]

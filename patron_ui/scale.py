"""Type sizes and spacing for a touch screen read standing at arm's length, normal and large.

Sizes are Kivy `sp` (type) and `dp` (boxes); on a 10-15" 1280×800 panel 1 sp is about a pixel,
so body text is 24 px tall (about 4.5 mm), above the 3 mm a 60 cm reading distance needs.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Scale:
    """One size set: type in sp, boxes in dp."""

    caption: int  # secondary lines of a row, footers
    body: int  # row titles, texts
    title: int  # section headings
    display: int  # one big line a screen is about
    button: int  # button labels
    icon: int  # pictograms in buttons and rows
    row: int  # a list row's height
    bar: int  # a button bar's height
    gap: int  # spacing between boxes
    pad: int  # padding inside boxes

    def as_dict(self) -> dict[str, int]:
        """Name → size, for the Kivy rules."""
        return asdict(self)


NORMAL = Scale(caption=20, body=24, title=30, display=44, button=24, icon=40,
               row=100, bar=96, gap=12, pad=16)
LARGE = Scale(caption=24, body=30, title=36, display=54, button=28, icon=48,
              row=124, bar=112, gap=12, pad=16)
# A 7" 800×480 panel (the return box's): the same reading distance on a third of the room, so
# body text of 20 px (3.8 mm at its 0.19 mm pixel) and rows and buttons cut to fit.
COMPACT = Scale(caption=16, body=20, title=24, display=32, button=20, icon=32,
                row=60, bar=64, gap=8, pad=10)
COMPACT_LARGE = Scale(caption=20, body=24, title=28, display=36, button=24, icon=36,
                      row=76, bar=72, gap=8, pad=10)

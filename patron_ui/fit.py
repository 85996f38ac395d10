"""Find labels whose text does not fit their box (cut off, shortened or off the window)."""

from kivy.core.text import Label as CoreLabel
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from patron_ui.widgets import DataLabel

SLACK = 1.5  # pixels of rounding a fitting label may show


def natural_size(label: Label) -> tuple[float, float]:
    """The size the label's whole text needs at its width, as if it were never shortened."""
    width = label.text_size[0]
    core = CoreLabel(text=label.text, font_size=label.font_size, font_name=label.font_name,
                     bold=label.bold, italic=label.italic, halign=label.halign,
                     line_height=label.line_height, max_lines=label.max_lines,
                     padding=label.padding, text_size=(width, None))
    core.refresh()
    return core.content_width, core.content_height


def shown(widget: Widget) -> bool:
    """Whether the widget and every parent up to the window is visible and has a size."""
    w: Widget | None = widget
    while isinstance(w, Widget):
        if w.opacity == 0 or w.width <= 0 or w.height <= 0:
            return False
        w = w.parent
    return True


def overflows(root: Widget, window: tuple[float, float]) -> list[str]:
    """Every shown label under `root` that its box, or the window, cuts short, described."""
    found = []
    for label in root.walk():
        if not isinstance(label, Label) or isinstance(label, DataLabel) or (
                not label.text.strip()) or not shown(label):
            continue
        need_w, need_h = natural_size(label)
        x, y = label.to_window(label.x, label.y)
        box_w = label.width if label.text_size[0] is None else min(label.width,
                                                                    label.text_size[0])
        problems = []
        if need_w > box_w + SLACK:
            problems.append(f"needs {need_w:.0f} px wide, has {box_w:.0f}")
        if need_h > label.height + SLACK:
            problems.append(f"needs {need_h:.0f} px high, has {label.height:.0f}")
        if x < -SLACK or y < -SLACK or x + label.width > window[0] + SLACK or (
                y + label.height > window[1] + SLACK):
            problems.append("reaches past the window")
        if problems:
            found.append(f"{label.text[:60]!r}: {'; '.join(problems)}")
    return found

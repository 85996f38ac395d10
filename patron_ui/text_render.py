"""Kivy's SDL2 text renderer, made to let go of each label's pixels once they are on the GPU."""

from typing import Any

from kivy.core.text import Label as CoreLabel


def _render_end(label: Any) -> Any:
    """The rendered pixels, the SDL surface they were drawn on released at once."""
    data = label._surface.get_data()  # a copy: the surface is no longer needed
    del label._surface
    return data


def release_surfaces() -> None:
    """Kivy's `LabelSDL2` keeps the SDL surface of a label's last rendering until the label is
    rendered again: a second copy of every label's texture in the C heap (3.2 MB after one
    kiosk session). Drop it once its pixels are copied out (no-op with another text provider)."""
    if CoreLabel.__name__ == "LabelSDL2":
        CoreLabel._render_end = _render_end

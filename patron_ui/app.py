"""The Kivy app every patron screen runs on: the current colours, sizes, texts and fonts."""

import ctypes
import gc
import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.core.text import LabelBase
from kivy.graphics.opengl import glFlush
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty

from patron_ui import icons, palette, scale, text_render
from patron_ui import widgets as _widgets  # noqa: F401 - the classes theme.kv names
from patron_ui.texts import texts
from patron_ui.view import ChromeView

log = logging.getLogger(__name__)
CJK_FONTS = ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]
THEME = Path(__file__).with_name("theme.kv")


def register_fonts() -> str:
    """Register the pictogram font as "Icons" and a font with Chinese glyphs as "Patron";
    return the text font's name (Roboto when no CJK font is installed)."""
    if icons.available():
        LabelBase.register("Icons", str(icons.FONT))
    else:
        LabelBase.register("Icons", "Roboto")
        log.warning("no icon font found; buttons show text only "
                    "(install fonts-materialdesignicons-webfont)")
    for path in CJK_FONTS:
        if Path(path).exists():
            LabelBase.register("Patron", path)
            return "Patron"
    log.warning("no CJK font found; Chinese will not render (install fonts-wqy-microhei)")
    return "Roboto"


def give_back_memory() -> None:
    """Between patrons: collect what the last session left and return the C heap's free pages
    to the system (glibc keeps them otherwise), so a device does not grow session by session."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def flush_frame(*_: object) -> None:
    """End each frame with a GL flush. A swap on a screen flushes by itself, but SDL's offscreen
    window swaps an EGL pbuffer, which does nothing: Mesa's llvmpipe then kept binning the draws
    of every frame into one scene, 20-35 MB of C heap held until something else flushed it."""
    glFlush()


class PatronApp(App):
    """An app on the shared theme: `c` colours, `s` sizes and `ui` texts follow the modes; the
    chrome (theme.kv) shows `notice` at its `level`, the `offline` banner and the `countdown`."""

    contrast = BooleanProperty(False)
    large = BooleanProperty(False)
    c = DictProperty(palette.NORMAL.as_dict())
    s = DictProperty(scale.NORMAL.as_dict())
    scales = (scale.NORMAL, scale.LARGE)  # normal and large text; a small screen has its own
    ui = DictProperty(texts("en"))
    t = DictProperty()  # the device's own texts in the patron's language
    lang = StringProperty("")  # the patron's language
    font = StringProperty("Roboto")
    notice = StringProperty("")
    level = StringProperty("warning")  # the notice's: info, warning or error
    offline = BooleanProperty(False)
    countdown = NumericProperty(-1)  # seconds left before the session ends, or -1
    countdown_total = NumericProperty(15)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        text_render.release_surfaces()
        self.font = register_fonts()
        self.s = self.scales[self.large].as_dict()
        if THEME.as_posix() not in Builder.files:
            Builder.load_file(str(THEME))

    def on_start(self) -> None:
        """Paint the page colour as the window's background (a clear costs less than a fill);
        flush the GL commands at the end of each frame."""
        from kivy.core.window import Window

        self.bind(c=lambda *_: self._clear())
        self._clear()
        Window.bind(on_flip=flush_frame)

    def _clear(self) -> None:
        from kivy.core.window import Window

        Window.clearcolor = self.c["page"]

    def on_contrast(self, _: object, on: bool) -> None:
        """Switch the colours."""
        self.c = (palette.HIGH_CONTRAST if on else palette.NORMAL).as_dict()

    def on_large(self, _: object, on: bool) -> None:
        """Switch the sizes."""
        self.s = self.scales[on].as_dict()

    def draw_chrome(self, view: ChromeView) -> None:
        """Draw what the chrome shows of a View (on Kivy's thread)."""
        self.t = view.texts  # one assignment, dispatched only when a text changed
        self.use_language(view.lang)
        self.lang = view.lang
        self.notice, self.level = view.notice, view.level
        self.countdown, self.countdown_total = view.countdown, view.countdown_total
        self.offline = view.offline

    def use_language(self, lang: str) -> None:
        """Show the shared texts in `lang` (called on the main thread)."""
        shown = texts(lang)
        if shown != self.ui:
            self.ui = shown

    @staticmethod
    def glyph(name: str) -> str:
        """The pictogram character of an icon name (empty without the icon font)."""
        return icons.glyph(name)

    def on_touch_anywhere(self) -> None:
        """A touch on any control (a device's app keeps its session alive here)."""

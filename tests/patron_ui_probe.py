"""Run offscreen by test_patron_ui: a PatronApp with labels that fit and do not, and a long
paged list; prints what the fit check found and what the list showed, as JSON."""

import gc
import json
import os
import weakref

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.lang import Builder  # noqa: E402
from kivy.uix.label import Label  # noqa: E402

from patron_ui.app import PatronApp  # noqa: E402
from patron_ui.fit import overflows  # noqa: E402
from patron_ui.widgets import CheckRow, PagedList  # noqa: E402

ROOT = """
BoxLayout:
    orientation: 'vertical'
    BoxLayout:
        size_hint_y: None
        height: dp(40)
        Label:
            text: 'A sentence far too long for the narrow box it was given here'
            size_hint_x: None
            width: dp(120)
            text_size: self.width, None
        DataLabel:
            text: 'A title from the catalogue, far too long, shortened on purpose'
            size_hint_x: None
            width: dp(120)
            text_size: self.size
            shorten: True
        Label:
            text: 'Fits'
        Label:
            text: 'Hidden and too long for its box, so it is not checked at all'
            size_hint_x: None
            width: dp(50)
            text_size: self.width, None
            opacity: 0
    PagedList:
        id: paged
        choosing: True
"""


class Probe(PatronApp):
    """Build, wait for layout, measure, turn a page, measure, stop."""

    def build(self):
        return Builder.load_string(ROOT)

    def on_start(self):
        paged: PagedList = self.root.ids.paged
        paged.rows = [{"id": f"r{i}", "title": f"Row {i}", "detail": "detail",
                       "selectable": i % 2 == 0} for i in range(20)]
        report = {}

        def shown():
            return [w.item_id for w in reversed(paged.ids.slots.children)
                    if isinstance(w, CheckRow)]

        def first(dt):
            report["overflows"] = overflows(self.root, Window.size)
            report["pages"], report["page1"] = paged.pages, shown()
            drawn = [w for w in self.root.walk() if isinstance(w, Label) and w.texture]
            report["drawn_labels"] = len(drawn)
            report["kept_surfaces"] = sum(hasattr(w._label, "_surface") for w in drawn)
            paged.toggle_all()
            paged.turn(1)
            Clock.schedule_once(second, 0.2)

        def second(dt):
            report["page2"], report["chosen"] = shown(), sorted(paged.chosen)
            report["ticked"] = sorted(w.item_id for w in paged.walk()
                                      if isinstance(w, CheckRow) and w.chosen)
            paged.rows = paged.rows[:3]
            Clock.schedule_once(third, 0.2)

        def third(dt):
            report["after_shrink"] = {"pages": paged.pages, "page": paged.page,
                                      "chosen": sorted(paged.chosen), "shown": shown()}
            gone = self.list_taken_out()
            Clock.schedule_once(lambda dt: last(gone), 0.3)  # its refill has run by then

        def last(gone):
            gc.collect()
            report["list_freed"] = gone() is None
            print(json.dumps(report))
            self.stop()

        Clock.schedule_once(first, 0.5)

    def list_taken_out(self):
        """A list shown with rows, then taken out of the window: a weak reference to it."""
        taken = PagedList(rows=[{"id": "x", "title": "X", "detail": "", "selectable": True}],
                          choosing=True)
        self.root.add_widget(taken)
        taken.refill()
        self.root.remove_widget(taken)
        return weakref.ref(taken)


if __name__ == "__main__":
    Probe().run()

"""A PatronApp showing one themed screen (a paged list of 15 rows with check boxes and five
pictogram buttons), or with --bare a Kivy app with one label, for bench_kiosk's references:
prints "ready" once the first frame with the rows (or the label) is drawn."""

import os
import sys

SCREEN = """
BoxLayout:
    orientation: 'vertical'
    padding: dp(16)
    spacing: dp(12)
    PagedList:
        id: rows
        choosing: True
    BoxLayout:
        size_hint_y: None
        height: dp(110)
        spacing: dp(12)
        PictoButton:
            text: 'My account'
            icon: 'account-card-details'
            vertical: True
        PictoButton:
            text: 'Borrow'
            icon: 'barcode-scan'
            vertical: True
        PictoButton:
            text: 'Renew'
            icon: 'autorenew'
            vertical: True
        PictoButton:
            text: 'Pay'
            icon: 'cash-multiple'
            vertical: True
        PictoButton:
            text: 'Log out'
            icon: 'logout'
            tone: 'bad'
            vertical: True
"""


def main(bare: bool) -> None:
    """Show the themed screen (or, bare, one Kivy label); print "ready" once it is drawn."""
    os.environ["KIVY_NO_ARGS"] = "1"
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    Config.set("graphics", "multisamples", "0")
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.lang import Builder
    from kivy.uix.label import Label

    def ready(drawn):
        def shown(*_):
            if drawn():
                Window.unbind(on_flip=shown)
                print("ready", flush=True)
        Window.bind(on_flip=shown)

    if bare:
        class Bare(App):
            """Kivy's least: one label."""

            def build(self):
                return Label(text="idle")

            def on_start(self):
                ready(lambda: True)

        Bare().run()
        return
    from patron_ui.app import PatronApp
    from patron_ui.widgets import CheckRow

    class Themed(PatronApp):
        """The themed screen."""

        def build(self):
            root = Builder.load_string(SCREEN)
            root.ids.rows.rows = [{"id": f"l{n}", "title": f"Title {n}",
                                   "detail": "due 7 Dec 2026", "selectable": True}
                                  for n in range(15)]
            return root

        def on_start(self):
            ready(lambda: any(isinstance(w, CheckRow) for w in self.root.walk()))

    Themed().run()


if __name__ == "__main__":
    main("--bare" in sys.argv)

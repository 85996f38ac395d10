"""Run by the signing-pad tests as a process of its own: the pad daemon without its screen.

`python -m tests.signpad_proc CONFIG sign` prints READY when central serves, SHOWN when a
form shows, and once the file CONFIG.go exists signs it (each signer one stroke) and prints
SIGNED when the form is in its outbox; `... CONFIG wait` prints READY and then only runs (its
outbox delivers what it holds).
"""

import sys
import time
from pathlib import Path

from edge_common.config import load
from signpad.config import SignpadConfig
from signpad.daemon import Signpad
from signpad.flow import Screen

STROKE = [(40 + i * 6, 120 + (i % 9) * 7, i * 15) for i in range(60)]


def main(config: str, mode: str) -> None:
    """Run the pad; in `sign` mode take a shown form through to its signature."""
    pad = Signpad(load(config, SignpadConfig))
    flow = pad.pad
    pad.start()
    try:
        while not flow.backend.online:
            time.sleep(0.05)
        print("READY", flush=True)
        said: set[str] = set()
        go = Path(config + ".go")

        def say(word: str) -> None:
            if word not in said:
                print(word, flush=True)
                said.add(word)
        while True:
            if flow.screen == Screen.FORM:
                say("SHOWN")
            if mode == "sign" and go.exists():
                step = {Screen.FORM: flow.data_ok, Screen.TERMS: flow.terms_read,
                        Screen.SIGN: lambda: flow.sign([list(STROKE)], 800, 300)}.get(
                            flow.screen)
                if step is not None:
                    pad.worker.act(step)
                elif flow.screen == Screen.THANKS:
                    say("SIGNED")
            time.sleep(0.1)
    finally:
        pad.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""A stand-in for `aplay` in the speaker tests: keeps a copy of each file it is asked to play
(named by arrival), notes its pid, then "plays" for SOUND_SECONDS (default 0)."""

import os
import shutil
import sys
import time
from pathlib import Path

folder, played = Path(sys.argv[1]), Path(sys.argv[-1])
n = len(list(folder.glob("*.wav")))
shutil.copy(played, folder / f"{n:03d}.part")
os.replace(folder / f"{n:03d}.part", folder / f"{n:03d}.wav")
(folder / f"{n:03d}.pid").write_text(str(os.getpid()))
time.sleep(float(os.environ.get("SOUND_SECONDS", "0")))

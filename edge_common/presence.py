"""Whether central serves: the central workers whose retained status says online, and since
when central has been reachable or not (a device acts on it; its status reports it)."""

import time


class Presence:
    """The workers heard online; `up` needs the link too."""

    def __init__(self) -> None:
        self.workers: set[str] = set()
        self.since = time.time()
        self._was = False

    def up(self, link_up: bool) -> bool:
        """Whether the broker is reachable and at least one central worker serves."""
        return link_up and bool(self.workers)

    def heard(self, worker: str, online: bool, link_up: bool) -> bool:
        """A worker's retained status; whether central just came back."""
        was = bool(self.workers)
        (self.workers.add if online else self.workers.discard)(worker)
        self.note(link_up)
        return bool(self.workers) and not was

    def link_down(self) -> None:
        """The link went: the workers are learnt again from the retained statuses."""
        self.workers.clear()
        self.note(False)

    def note(self, link_up: bool) -> None:
        """Remember when central last became reachable or unreachable."""
        up = self.up(link_up)
        if up != self._was:
            self._was = up
            self.since = time.time()

"""What a transaction changed that devices see, recorded as it goes and projected at commit."""

from dataclasses import dataclass, field


@dataclass
class Changes:
    """The patrons, withdrawn cards, titles and branch calendars one transaction changed."""

    patrons: set[int] = field(default_factory=set)
    withdrawn: set[str] = field(default_factory=set)   # card UIDs leaving every list
    titles: dict[int, set[str]] = field(default_factory=dict)  # title → branches a copy left
    calendars: set[str] = field(default_factory=set)
    every_calendar: bool = False

    def __bool__(self) -> bool:
        return bool(self.patrons or self.withdrawn or self.titles or self.calendars
                    or self.every_calendar)

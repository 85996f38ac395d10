"""The one error either store gives for a row its constraints refuse."""

from collections.abc import Sequence


class Conflict(ValueError):
    """A row that a unique key or another constraint of the store refuses: a rule the
    domain did not check first."""

    def __init__(self, message: str, columns: Sequence[str] = (), unique: bool = True):
        super().__init__(message)
        self.columns = list(columns)
        self.unique = unique

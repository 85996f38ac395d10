"""The terms' text cut into pieces a screen draws one by one: each line a paragraph, and a
paragraph longer than a screen cut into chunks at sentence ends, so no piece's texture is
much taller than the screen at the largest zoom."""

import re
from typing import NamedTuple

LIMIT = 240  # characters in a chunk: about a screen of text at the largest zoom
SENTENCE = re.compile(r"(?<=\D[.!?;:])(?=\s)|(?<=[。！？；])")  # keeps the spaces; "3." is a number
WORD = re.compile(r"(?<=\s)")


class Piece(NamedTuple):
    """A chunk of the terms, and whether it begins a paragraph (it gets space above)."""

    text: str
    opens: bool


def _fill(parts: list[str], limit: int) -> list[str]:
    """Join consecutive parts into chunks of at most `limit` characters (a longer part alone)."""
    chunks: list[str] = []
    for part in parts:
        if chunks and len(chunks[-1]) + len(part) <= limit:
            chunks[-1] += part
        else:
            chunks.append(part)
    return chunks


def _cut(sentence: str, limit: int) -> list[str]:
    """A sentence longer than `limit` cut at spaces, or anywhere where it has none."""
    words = [w for w in WORD.split(sentence) if w]
    hard = [w[i:i + limit] for w in words for i in range(0, len(w), limit)]
    return _fill(hard, limit)


def pieces(text: str, limit: int = LIMIT) -> list[Piece]:
    """The text's paragraphs (its non-empty lines), long ones cut at sentence ends."""
    out: list[Piece] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        sentences = [c for s in SENTENCE.split(line) if s for c in _cut(s, limit)]
        chunks = [c.strip() for c in _fill(sentences, limit)]
        out += [Piece(c, i == 0) for i, c in enumerate(chunks) if c]
    return out

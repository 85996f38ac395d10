"""The `messages` dataset: each branch's message of the day on its patron screens, by language.

A message for "*" shows in every language that has none of its own.
"""

import msgspec

from central import datasets
from central.circulation.errors import Refused
from central.circulation.store import Store
from edge_common.catalogues import LANGUAGES
from edge_common.protocol.datasets import ANY_LANGUAGE, MESSAGES, Message

LONGEST = 300  # characters: two lines of a patron screen at arm's length


def of_branch(s: Store, branch: str) -> dict[str, str]:
    """The branch's messages now, by language ("*" for every language)."""
    s.branch(branch)
    decode = msgspec.json.Decoder(Message).decode
    return {lang: decode(raw).text
            for lang, raw in sorted(datasets.current(s.db, branch, MESSAGES).items())}


def set_message(s: Store, branch: str, lang: str, text: str | None) -> dict[str, str]:
    """Show `text` (one paragraph) on the branch's patron screens in `lang`, or take the
    message away (None); return the branch's messages after the change."""
    if lang != ANY_LANGUAGE and lang not in LANGUAGES:
        raise Refused(f"unknown language {lang!r}: use * or one of {', '.join(LANGUAGES)}",
                      code="bad_language")
    shown = of_branch(s, branch)
    if text is None:
        shown.pop(lang, None)
    else:
        text = " ".join(text.split())
        if not text:
            raise Refused("the message is empty", code="bad_value")
        if len(text) > LONGEST:
            raise Refused(f"the message has {len(text)} characters; at most {LONGEST} fit the "
                          "screen", code="too_long")
        shown[lang] = text
    with s.atomic():
        datasets.replace(s.db, branch, MESSAGES, {k: Message(text=v) for k, v in shown.items()})
    return shown

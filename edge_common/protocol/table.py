"""The README's table of message types, made from the declarations: `python -m
edge_common.protocol.table` prints it, and a test keeps the README equal to it."""

from typing import Any

from edge_common.protocol import MESSAGES, Message

HEADER = ("| type | channel | sent by | body | answer |\n"
          "|---|---|---|---|---|")
CHANNELS = {"evt": "event (outbox, acked)", "req": "request (answered on `res`)"}


def _row(m: Message[Any, Any]) -> str:
    senders = ", ".join(sorted(m.senders)) if m.senders else "any device"
    answer = "—" if not m.answer.__struct_fields__ else f"`{m.answer.__name__}`"
    return (f"| `{m.type}` | {CHANNELS[m.channel]} | {senders} | `{m.body.__name__}` |"
            f" {answer} |")


def markdown() -> str:
    """The table, one row per declared message type, in declaration order."""
    return "\n".join([HEADER, *(_row(m) for m in MESSAGES.values())])


if __name__ == "__main__":
    print(markdown())

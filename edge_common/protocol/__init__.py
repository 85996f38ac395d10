"""The libedge wire protocol, declared once: every message type with its body and answer, every
dataset and its rows, the commands, and the refusal codes (DESIGN §2).

Senders build these Structs and receivers decode into them, so a device and central that
disagree about a body fail a test, not a patron.
"""

from edge_common.protocol import (
    backbone,
    circulation,
    commands,
    datasets,
    doors,
    forms,
    lockers,
    refusals,
    returns,
)
from edge_common.protocol.spec import DEVICE_KINDS, MESSAGES, Answer, Body, Message, Nothing

__all__ = ["DEVICE_KINDS", "MESSAGES", "Answer", "Body", "Message", "Nothing", "backbone",
           "circulation", "commands", "datasets", "doors", "forms", "lockers", "refusals",
           "returns"]

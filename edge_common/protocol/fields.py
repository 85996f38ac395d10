"""The field types message bodies are built from: card hashes, names, codes, ids, money."""

from typing import Annotated, Any

import msgspec

CardHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Count = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Money = Annotated[int, msgspec.Meta(ge=-(2**53), le=2**53)]
MAX_AMOUNT = 10_000_000  # one payment or charge, in minor units: sums of them never overflow
Amount = Annotated[int, msgspec.Meta(gt=0, le=MAX_AMOUNT)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Lang = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
Text = Annotated[str, msgspec.Meta(max_length=500)]
Short = Annotated[str, msgspec.Meta(max_length=64)]  # a key of a free-form mapping, a label
DatasetName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Version = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
# A free-form mapping (a command's arguments, a row, a result): a bounded number of short keys
FreeForm = Annotated[dict[Short, Any], msgspec.Meta(max_length=256)]

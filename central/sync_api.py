"""The pull request devices send when they miss a delta or start empty."""

from typing import Annotated

import msgspec

from central import datasets
from central.handlers import Context, handler


class SyncPull(msgspec.Struct, forbid_unknown_fields=True):
    """`sync.pull`: the changes of a dataset after the device's (version, key) cursor."""

    dataset: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    since: Annotated[int, msgspec.Meta(ge=0)]
    after: Annotated[str, msgspec.Meta(max_length=128)] = ""
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 5000


@handler("sync.pull", SyncPull, read_only=True)
def sync_pull(ctx: Context, body: SyncPull) -> dict:
    """A page of the dataset for the device's own site."""
    return datasets.pull(ctx.db, ctx.device.site, body.dataset, body.since, body.after,
                         body.limit)

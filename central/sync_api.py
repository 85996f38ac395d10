"""The pull request devices send when they miss a delta or start empty."""

from central import datasets
from central.handlers import Context, handler
from edge_common.protocol.datasets import SYNC_PULL, SyncPage, SyncPull


@handler(SYNC_PULL, read_only=True)
def sync_pull(ctx: Context, body: SyncPull) -> SyncPage:
    """A page of the dataset for the device's own site."""
    return datasets.pull(ctx.db, ctx.device.site, body.dataset, body.since, body.after,
                         body.limit, body.format)

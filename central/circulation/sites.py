"""What a branch's devices are given when the branch gets its first device: a card key, the
allow-list, the calendar and the return box's held and shelf items."""


from central import fleet
from central.circulation import allowlist, closed_days, return_sets
from central.database import Database


def open_site(db: Database, site: str) -> str:
    """The site's card key (hex); a site seen for the first time gets one, and its devices
    get the whole allow-list, the branch's calendar and its held and shelf items."""
    key = fleet.site_key(db, site)
    if key is None:
        with db.transaction():
            key = fleet.add_site_key(db, site)
            allowlist.publish_site(db, site)
            closed_days.publish(db, site)
            return_sets.publish_site(db, site)
    return key

"""The one projector: at a transaction's commit, bring every device dataset up to date from
what the transaction changed (door and kiosk lists, return sets, calendars), writing their
deltas to the change table central's publisher reads (`central.datasets`)."""


from central.circulation import allowlist, closed_days, return_sets
from central.circulation.changes import Changes
from central.database import Database


def project(db: Database, changes: Changes) -> None:
    """Refresh the datasets `changes` touch, each once, in the caller's transaction."""
    for uid in sorted(changes.withdrawn):
        allowlist.withdraw_card(db, uid)
    if changes.patrons:
        rules = allowlist.DoorRules.now(db)
        for patron_id in sorted(changes.patrons):
            allowlist.refresh_patron(db, patron_id, rules)
    for title_id, left in sorted(changes.titles.items()):
        return_sets.refresh_title(db, title_id, also=tuple(sorted(left)))
    if changes.every_calendar:
        closed_days.publish_all(db)
        return
    for branch in sorted(changes.calendars):
        closed_days.publish(db, branch)

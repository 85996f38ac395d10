"""Every text the return box shows or prints, in English; catalogues in returnbox/locale
translate them."""

from edge_common.catalogues import N_

NOTICES = {
    # why an item was not taken (the "rejected" screen)
    "item_unknown": N_("This item is not in the library's catalogue."),
    "not_on_loan": N_("This item is not on loan: it has already been returned."),
    "already_returned": N_("You have just returned this item."),
    "not_ours": N_("This item does not belong to this library."),
    "in_library_only": N_("This item is for use in the library only. Please put it back on "
                          "its shelf."),
    "item_other_branch": N_("This item belongs to another branch. Please return it there or "
                            "at the desk."),
    "unreadable": N_("The item's label could not be read."),
    "item_ambiguous": N_("This label names several items. Please take the item to the desk."),
    # why the box waits (the "wait" screen)
    "jam": N_("An item is stuck inside the machine."),
    "e_stop": N_("The machine was stopped with the emergency button."),
    # why the box is out of service (the "closed" screen)
    "bins_full": N_("The return bins are full."),
    "bin_full": N_("A return bin is full."),
    "reader_lost": N_("The item reader is not working."),
    "offline": N_("The library system cannot be reached."),
    # what happened to the receipt (the "goodbye" screen)
    "receipt_print": N_("Please take your receipt."),
    "receipt_email": N_("Your receipt will be sent by e-mail."),
    "receipt_none": N_("Thank you for returning your items."),
    "printer_unavailable": N_("The printer is not working. Please ask at the desk for a "
                              "receipt."),
    # a remark on an item that was taken
    "attachments": N_("Please check that all parts are inside."),
}
FALLBACK = N_("Please ask the library staff.")
SAME_AS = {"returned_twice": "already_returned", "no_barcode": "unreadable",
           "item_not_ours": "not_ours", "e-stop": "e_stop", "estop": "e_stop",
           "lent_since": "not_on_loan"}   # a late return of a copy lent again since

LABELS = {
    "return_here": N_("Return your items here"),
    "insert_items": N_("Put the items in one at a time"),
    "card_first": N_("For an e-mail receipt, tap your card first"),
    "reading": N_("Reading the item…"),
    "taken": N_("Thank you! Returned:"),
    "receipt_print": N_("Print receipt"),
    "receipt_email": N_("E-mail receipt"),
    "receipt_none": N_("No receipt"),
    "receipt_subject": N_("Your library return receipt"),
    "route_hold_shelf": N_("Hold shelf"),
    "route_transit": N_("To another branch"),
    "route_reshelve": N_("Back to the shelves"),
    "route_sort_later": N_("Sorted later by staff"),
    "route_reject": N_("Not taken"),
    "in_bin": N_("{route}, bin {bin}"),
    "confirmed_later": N_("will be confirmed later"),
    "fine": N_("late fee {amount}"),
    "pickup_by": N_("reserved: pick up by {date}"),
    "offline_banner": N_("Working offline: returns are recorded and confirmed later."),
    "take_back": N_("Please take the item back."),
    "please_wait": N_("Please wait"),
    "staff_called": N_("The library staff have been called."),
    "out_of_service": N_("Out of service"),
    "return_at_desk": N_("Please return your items at the desk or later."),
    "code": N_("Code: {code}"),
    "goodbye": N_("Goodbye!"),
    "returned": N_("Returned"),
    "maintenance": N_("Maintenance"),
    "bin_count": N_("{count} of {capacity}"),
    "bin_full": N_("full"),
    "bin_emptied": N_("Bin emptied"),
    "alarms": N_("Alarms"),
    "no_alarms": N_("No alarms"),
    "sensors": N_("Sensors"),
    "sensor_on": N_("{name}: on"),
    "sensor_off": N_("{name}: off"),
    "outbox": N_("Events waiting to be sent: {count}"),
    "link_up": N_("Link to central: up"),
    "link_down": N_("Link to central: down"),
    "stuck_item": N_("Stuck item: {barcode}"),
    "restart_belt": N_("Restart belt"),
    "leave": N_("Leave"),
}
# Staff-facing names of alarm codes on the maintenance view; other codes show as they are.
ALARMS = {
    "jam": N_("Item stuck on the belt"),
    "bin_full": N_("Bin full"),
    "e_stop": N_("Emergency stop"),
    "reader_lost": N_("Item reader lost"),
    "offline": N_("Offline too long"),
}

"""Which item statuses take a copy out of stock: nobody borrows, holds or receives it."""

OUT_OF_STOCK = ("lost", "missing", "damaged", "withdrawn")
IN_STOCK_SQL = "status NOT IN ({})".format(", ".join(f"'{s}'" for s in OUT_OF_STOCK))
"""An SQL condition on an `items` row (or `i.` + it) that the copy is in stock."""

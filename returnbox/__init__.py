"""returnbox package."""

RETURNED = "returned: "   # how the box answers a simulated read it took (`libedge tap`)

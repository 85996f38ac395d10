"""The staff pages: access statistics, what is happening now, and the fleet."""

VIEW = ("facilities", "supervisor", "admin")   # who may see the facilities pages
ACT = ("facilities", "admin")                  # who may acknowledge alarms and command doors
NAMES = ("supervisor", "admin")               # who may ask whose one card is (audited)

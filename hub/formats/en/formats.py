"""English for a British and European audience: day first like the French pages (10/12/2026
is 10 December), never Django's default US month first, so one date reads the same in both."""

# The first of each list is how a form shows a value; ISO 8601 is accepted after these.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y"]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M%z",
    "%d/%m/%Y %H:%M %z",
    "%d/%m/%Y %H:%M:%S%z",
]
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 1

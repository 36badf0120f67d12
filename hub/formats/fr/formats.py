"""French: day first (10/12/2026 14:30); a time may carry its UTC offset on clock-change days."""

# The first of each list is how a form shows a value; ISO 8601 is accepted after these (Django
# adds its ISO input formats to every list), so links carrying ``?day=2026-12-10`` keep working.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y"]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    # 30/10/2022 02:30+02:00: the first 02:30 of the night the clocks go back.
    "%d/%m/%Y %H:%M%z",
    "%d/%m/%Y %H:%M %z",
    "%d/%m/%Y %H:%M:%S%z",
]
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"

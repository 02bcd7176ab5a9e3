"""Chilean formats for the Spanish UI: 28-11-2026, 1.234.567,5."""

DATE_FORMAT = "j \\d\\e F \\d\\e Y"
SHORT_DATE_FORMAT = "d-m-Y"
DATETIME_FORMAT = "j \\d\\e F \\d\\e Y, H:i"
SHORT_DATETIME_FORMAT = "d-m-Y H:i"
TIME_FORMAT = "H:i"
DATE_INPUT_FORMATS = ["%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 1

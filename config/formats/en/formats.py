# One English date style everywhere: "10 Dec 2026, 11:35". Django's own English formats print
# "Dec. 10, 2026, 11:35 a.m.", which doubles the full stop before a sentence's end, and its short
# formats ("12/03/2026 11:35 a.m.") read as another style, and as March outside the US.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
YEAR_MONTH_FORMAT = "M Y"
MONTH_DAY_FORMAT = "j M"
TIME_FORMAT = "H:i"

# Italian writes dates with the day unpadded and the month in lower case: "6 novembre 2025".
# Django's Italian formats pad the day and capitalise the month ("06 Novembre 2025"), and its
# date-time format leads with the weekday, which reads oddly after "chiude il". `E` is the
# month's "alt. month" form, which locale/it gives in lower case (Django's own is capitalised).
DATE_FORMAT = "j E Y"
DATETIME_FORMAT = "j E Y, H:i"
YEAR_MONTH_FORMAT = "E Y"
MONTH_DAY_FORMAT = "j E"
# One style everywhere, as in English (config/formats/en): timelines use the short formats.
SHORT_DATE_FORMAT = "j E Y"
SHORT_DATETIME_FORMAT = "j E Y, H:i"

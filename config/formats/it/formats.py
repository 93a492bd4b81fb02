# Django's Italian date-time format leads with the weekday ("Giovedì 03 Dicembre 2026 06:44"),
# which reads oddly after "chiude il": the date and time alone, as Italian sites write them.
DATETIME_FORMAT = "j F Y, H:i"

"""Whether PostgreSQL's COPY may read a stretch of a register file as the Python line reader
(meetings.registers) does, by a scan of its bytes: where it might not, meetings.register_import
gives the whole file to the line reader, which names each bad line."""

from __future__ import annotations

import re

# COPY ... (FORMAT csv) ends its input at a line holding only `\.`, silently dropping the rest.
END_OF_DATA = re.compile(rb"(?:^|[\r\n])\\\.(?:[\r\n]|$)")
# core.validators.CONTROL_CHARACTERS as UTF-8 bytes, but for CR and LF, which end lines. A
# byte scan of each block costs about 0.1 s per million lines, where a regular expression per
# cell in SQL costs 2.6 s: ASCII controls are what `translate` leaves, and the two- and
# three-byte ones are looked for only in blocks that have their lead bytes.
NOT_ASCII_CONTROL = bytes(range(0x20, 0x7F)) + b"\r\n" + bytes(range(0x80, 0x100))
# The Unicode spaces too, which Python's strip() takes off a cell and PostgreSQL's trim() leaves
# (U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000): a file with any goes to the line reader.
# The bidirectional controls too: U+061C (d8 9c), U+200E-U+200F (e2 80 8e-8f), U+202A-U+202E
# (e2 80 aa-ae) and U+2066-U+2069 (e2 81 a6-a9).
UNICODE_CONTROL_BYTES = re.compile(
    rb"\xc2[\x80-\xa0]|\xd8\x9c|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\x8e\x8f\xa8-\xaf]|\xe2\x81[\x9f\xa6-\xa9]"
    rb"|\xe3\x80\x80"
)
UNICODE_LEAD_BYTES = (b"\xc2", b"\xd8\x9c", b"\xe1\x9a", b"\xe2\x80", b"\xe2\x81", b"\xe3\x80")
# A row of blank cells, which the line reader skips and COPY would stage as a line missing every
# cell. A row cut at the end of a block matches there (`$`); so may a line whose first cells are
# empty, which only costs it the line reader's pace. Led by a newline, the search runs at memchr's
# pace: 0.06 s for a 60 MB file, against 1.4 s when it may also start at the block's start.
BLANK_ROW = re.compile(rb'\n[ "]*,[ ,"]*\r?(?:\n|$)')
# A line COPY and Python's csv read alike where it has quotes: every quote opens a cell, closes
# it or doubles inside it. Elsewhere COPY opens a quoted stretch mid-cell, where csv keeps the
# quote as a character.
QUOTED_CELL = rb'(?:"(?:[^"]|"")*"|[^",\r\n]*)'
PLAINLY_QUOTED_LINE = re.compile(QUOTED_CELL + rb"(?:," + QUOTED_CELL + rb")*\r?")


def needs_line_reader(window: bytes) -> bool:
    """An end-of-data marker, a control character, a Unicode space or a blank row in this
    stretch of the file."""
    if b"\\." in window and END_OF_DATA.search(window):
        return True
    if window.translate(None, NOT_ASCII_CONTROL):
        return True
    if BLANK_ROW.search(window):
        return True
    if window.isascii():
        return False
    return any(lead in window for lead in UNICODE_LEAD_BYTES) and UNICODE_CONTROL_BYTES.search(window) is not None


def quoted_apart(chunk: bytes) -> bool:
    """Whether COPY could split or join the cells of a line of these whole lines otherwise than
    the line reader does."""
    return any(b'"' in line and not PLAINLY_QUOTED_LINE.fullmatch(line) for line in chunk.split(b"\n"))

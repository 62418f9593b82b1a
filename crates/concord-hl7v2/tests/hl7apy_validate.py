"""Strict validation of HL7 v2 messages with PyPI hl7apy (v2.5.1 tables).

Reads messages separated by a line holding only '----' on stdin; prints
'OK <structure>' or 'FAIL <error>' per message."""
import sys

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

for text in sys.stdin.read().split("\n----\n"):
    if not text.strip():
        continue
    try:
        m = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
        m.validate()
        print("OK", m.name)
    except Exception as e:  # noqa: BLE001 - report every failure as text
        print("FAIL", type(e).__name__, str(e).replace("\n", " "))

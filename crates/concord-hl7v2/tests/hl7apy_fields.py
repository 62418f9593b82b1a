"""Prints field values of the HL7 v2 corpus as read by PyPI hl7apy, for the
cross-check in tests/hl7v2/corpus.rs (run only when CONCORD_HL7APY_PYTHON
names a Python with hl7apy installed).

Output: one line per value, `file<TAB>path<TAB>raw value` (tabs, CR and LF
in values written as \\t \\r \\n), or `file<TAB>!<TAB>error` when hl7apy
cannot parse the file.
"""
import os
import sys

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

PATHS = [
    ("MSH", 3, 1, 1), ("MSH", 4, 1, 1), ("MSH", 7, 1, 1), ("MSH", 9, 1, 1),
    ("MSH", 9, 1, 2), ("MSH", 10, 1, 1), ("MSH", 11, 1, 1), ("MSH", 12, 1, 1),
    ("PID", 3, 1, 1), ("PID", 3, 1, 4), ("PID", 3, 2, 1), ("PID", 5, 1, 1),
    ("PID", 5, 1, 2), ("PID", 7, 1, 1), ("PID", 8, 1, 1), ("PID", 11, 1, 3),
    ("PV1", 2, 1, 1), ("PV1", 3, 1, 1), ("OBR", 4, 1, 1), ("OBR", 4, 1, 2),
    ("ORC", 2, 1, 1), ("OBX", 2, 1, 1), ("OBX", 3, 1, 1), ("OBX", 5, 1, 1),
    ("OBX", 6, 1, 1), ("RXA", 5, 1, 1), ("SCH", 1, 1, 1), ("TXA", 2, 1, 1),
    ("NK1", 2, 1, 1), ("IN1", 3, 1, 1), ("DG1", 3, 1, 1), ("AL1", 3, 1, 2),
]


def clean(v):
    return v.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")


def value(msg, seg_name, field, rep, comp, comp_sep):
    segs = [c for c in msg.children if c.name == seg_name]
    if not segs:
        return None
    reps = getattr(segs[0], "%s_%d" % (seg_name.lower(), field))
    if len(reps) < rep:
        return None
    f = reps[rep - 1]
    try:
        c = getattr(f, "%s_%d_%d" % (seg_name.lower(), field, comp))
        return c.to_er7()
    except Exception:
        # A primitive field has no components: split its text.
        parts = f.to_er7().split(comp_sep)
        return parts[comp - 1] if len(parts) >= comp else None


def main(folder):
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".hl7"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8-sig") as fh:
            text = fh.read().replace("\r\n", "\r").replace("\n", "\r")
        try:
            msg = parse_message(text, find_groups=False, validation_level=VALIDATION_LEVEL.TOLERANT)
        except Exception as e:  # noqa: BLE001
            print("%s\t!\t%s" % (name, clean(type(e).__name__)))
            continue
        comp_sep = text[4] if len(text) > 4 else "^"
        for seg, field, rep, comp in PATHS:
            try:
                v = value(msg, seg, field, rep, comp, comp_sep)
            except Exception:  # noqa: BLE001
                v = None
            if v is None:
                continue
            path = "%s-%d(%d)-%d" % (seg, field, rep, comp)
            print("%s\t%s\t%s" % (name, path, clean(v)))


if __name__ == "__main__":
    main(sys.argv[1])

#!/usr/bin/env python3
"""Generate crates/concord-fhir/defs/summary.json: per resource type, the
top-level elements marked `isSummary` and those that are mandatory
(`min >= 1`), for `_summary=true` and `_elements`.

Source: HL7 FHIR R4 (4.0.1), npm package `hl7.fhir.r4.examples@4.0.1` (CC0),
read from .cache/npm/node_modules/hl7.fhir.r4.examples/ (fetch it with
scripts/fetch-r4-package.sh). Choice elements are written without `[x]`
(`value`), so `valueQuantity` is found by its stem.

Python 3 standard library only:  python3 scripts/generate-summary.py
"""

import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, ".cache", "npm", "node_modules", "hl7.fhir.r4.examples")
OUT = os.path.join(ROOT, "crates", "concord-fhir", "defs", "summary.json")


def main():
    if not os.path.isdir(PKG):
        sys.exit(f"missing {PKG}; run scripts/fetch-r4-package.sh")
    types = {}
    for path in sorted(glob.glob(os.path.join(PKG, "StructureDefinition-*.json"))):
        with open(path, encoding="utf-8") as f:
            sd = json.load(f)
        if sd.get("kind") != "resource" or sd.get("derivation") != "specialization":
            continue
        name = sd["type"]
        summary, mandatory = [], []
        for el in sd.get("snapshot", {}).get("element", []):
            parts = el["path"].split(".")
            if len(parts) != 2:
                continue
            key = parts[1].replace("[x]", "")
            if el.get("isSummary") and key not in summary:
                summary.append(key)
            if el.get("min", 0) >= 1 and key not in mandatory:
                mandatory.append(key)
        types[name] = {"summary": summary, "mandatory": mandatory}
    out = {
        "header": {
            "source": "HL7 FHIR R4 (4.0.1), npm hl7.fhir.r4.examples@4.0.1, CC0",
            "generator": "scripts/generate-summary.py",
            "content": "resource type -> top-level isSummary elements and mandatory elements",
        },
        "types": dict(sorted(types.items())),
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")
    print(f"wrote {OUT}: {len(types)} resource types")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate crates/concord-fhir/defs/compartments.json from the R4
CompartmentDefinitions (Patient, Encounter, RelatedPerson, Practitioner,
Device).

Source: HL7 FHIR R4 (4.0.1), npm package `hl7.fhir.r4.examples@4.0.1` (CC0),
read from .cache/npm/node_modules/hl7.fhir.r4.examples/ (fetch it with
scripts/fetch-r4-package.sh). Output, compact and sorted:

  {"header": {...},
   "compartments": {"Patient": {"Observation": ["subject", "performer"], ...}, ...}}

Only resource types that are members (have at least one `param`) are listed;
the special value `{def}` (the compartment's own resource) is kept as written.

Python 3 standard library only. Run from anywhere:
    python3 scripts/generate-compartments.py
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, ".cache", "npm", "node_modules", "hl7.fhir.r4.examples")
OUT = os.path.join(ROOT, "crates", "concord-fhir", "defs", "compartments.json")
FILES = ["patient", "encounter", "relatedPerson", "practitioner", "device"]


def main():
    if not os.path.isdir(PKG):
        sys.exit(f"missing {PKG}; run scripts/fetch-r4-package.sh")
    compartments = {}
    for name in FILES:
        path = os.path.join(PKG, f"CompartmentDefinition-{name}.json")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        members = {}
        for entry in doc.get("resource", []):
            params = entry.get("param") or []
            if params:
                members[entry["code"]] = params
        compartments[doc["code"]] = dict(sorted(members.items()))
    out = {
        "header": {
            "source": "HL7 FHIR R4 (4.0.1), npm hl7.fhir.r4.examples@4.0.1, CC0",
            "generator": "scripts/generate-compartments.py",
            "content": "compartment type -> member resource type -> search parameter codes",
        },
        "compartments": dict(sorted(compartments.items())),
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")
    total = sum(len(m) for m in compartments.values())
    print(f"wrote {OUT}: {len(compartments)} compartments, {total} member types")


if __name__ == "__main__":
    main()

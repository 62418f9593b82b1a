#!/usr/bin/env python3
"""Generate Concord's compact FHIR R4 definition artefacts.

Source: HL7 FHIR R4 (4.0.1), npm package `hl7.fhir.r4.examples@4.0.1` (CC0).
Reads the flat package folder at .cache/npm/node_modules/hl7.fhir.r4.examples/
(installing it with npm when missing) and writes, under crates/concord-fhir/defs/:

  types.json        StructureDefinition snapshots (base types and resources)
  valuesets.json    expansions of every ValueSet used by a required binding
  searchparams.json the SearchParameters in a compact form
  extensions.json   core extension definitions: allowed value[x] types, contexts
  profiles.json     required codes of the core vital-signs profiles
  constraints.json  every element's invariants (key, severity, human, expression)

Python 3 standard library only. Run from anywhere:
    python3 scripts/generate-definitions.py
"""

import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, ".cache", "npm", "node_modules", "hl7.fhir.r4.examples")
OUT = os.path.join(ROOT, "crates", "concord-fhir", "defs")
GENERATOR = "scripts/generate-definitions.py"
SOURCE = "HL7 FHIR R4 (4.0.1), npm hl7.fhir.r4.examples@4.0.1, CC0"

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
SYSTEM_TYPES = {
    "http://hl7.org/fhirpath/System.String": "string",
    "http://hl7.org/fhirpath/System.Boolean": "boolean",
    "http://hl7.org/fhirpath/System.Integer": "integer",
    "http://hl7.org/fhirpath/System.Decimal": "decimal",
    "http://hl7.org/fhirpath/System.Date": "date",
    "http://hl7.org/fhirpath/System.DateTime": "dateTime",
    "http://hl7.org/fhirpath/System.Time": "time",
}
# Constraint profiles used as element types in the base spec: validate as their base.
TYPE_ALIASES = {"SimpleQuantity": "Quantity", "MoneyQuantity": "Quantity"}


def ensure_package():
    if os.path.isdir(PKG):
        return
    print("package missing, running npm install ...", file=sys.stderr)
    subprocess.check_call(
        ["npm", "install", "--prefix", os.path.join(ROOT, ".cache", "npm"),
         "hl7.fhir.r4.examples@4.0.1"]
    )


def load(prefix):
    out = []
    for path in sorted(glob.glob(os.path.join(PKG, prefix + "-*.json"))):
        with open(path, encoding="utf-8") as fh:
            out.append(json.load(fh))
    return out


def ext_value(obj, url, key):
    for ext in obj.get("extension", []) or []:
        if ext.get("url") == url:
            return ext.get(key)
    return None


def type_code(t):
    fhir = ext_value(t, FHIR_TYPE_EXT, "valueUrl")
    if fhir:
        return fhir
    code = t.get("code", "")
    code = SYSTEM_TYPES.get(code, code)
    return TYPE_ALIASES.get(code, code)


def strip_version(url):
    return url.split("|", 1)[0] if url else url


def build_types(sds):
    types = {}
    required_vs = set()
    for sd in sds:
        kind = sd.get("kind")
        if kind not in ("primitive-type", "complex-type", "resource"):
            continue
        if sd.get("derivation") == "constraint":
            continue
        name = sd["type"]
        base = sd.get("baseDefinition", "")
        entry = {
            "kind": kind,
            "abstract": bool(sd.get("abstract")),
            "base": base.rsplit("/", 1)[-1] if base else None,
        }
        elements = []
        for el in sd.get("snapshot", {}).get("element", []):
            if el.get("sliceName"):
                continue
            path = el["path"]
            if path == name:
                continue
            rel = path[len(name) + 1:]
            if kind == "primitive-type" and rel == "value":
                regex = None
                for t in el.get("type", []):
                    regex = ext_value(t, REGEX_EXT, "valueString") or regex
                entry["regex"] = regex
                continue
            codes = [type_code(t) for t in el.get("type", []) or []]
            targets = []
            for t in el.get("type", []) or []:
                for p in t.get("targetProfile", []) or []:
                    targets.append(p.rsplit("/", 1)[-1])
            vs = None
            b = el.get("binding")
            if b and b.get("strength") == "required" and b.get("valueSet"):
                vs = strip_version(b["valueSet"])
                required_vs.add(vs)
            cref = el.get("contentReference")
            if cref:
                cref = cref.lstrip("#")
                cref = cref[len(name) + 1:] if cref.startswith(name + ".") else cref
            mx = el.get("max", "*")
            row = [rel, int(el.get("min", 0)), -1 if mx == "*" else int(mx), codes]
            tail = [cref, vs, targets or None]
            while tail and tail[-1] is None:
                tail.pop()
            elements.append(row + tail)
        entry["elements"] = elements
        types[name] = entry
    return types, required_vs


class Expander:
    def __init__(self, codesystems, valuesets):
        self.cs = {c["url"]: c for c in codesystems if c.get("url")}
        self.vs = {v["url"]: v for v in valuesets if v.get("url")}
        self.cache = {}

    def all_codes(self, concepts, out):
        for c in concepts or []:
            out.append(c["code"])
            self.all_codes(c.get("concept"), out)

    def find_subtree(self, concepts, code):
        for c in concepts or []:
            if c["code"] == code:
                return c
            found = self.find_subtree(c.get("concept"), code)
            if found:
                return found
        return None

    def system_codes(self, system, include):
        """Codes of one include/exclude; None when it cannot be expanded locally."""
        if "concept" in include:
            return [c["code"] for c in include["concept"]]
        cs = self.cs.get(system)
        if cs is None or cs.get("content") not in ("complete", None):
            return None
        filters = include.get("filter") or []
        if not filters:
            out = []
            self.all_codes(cs.get("concept"), out)
            return out
        result = None
        for f in filters:
            op = f.get("op")
            if f.get("property") != "concept" or op not in ("is-a", "descendent-of"):
                return None
            node = self.find_subtree(cs.get("concept"), f.get("value"))
            if node is None:
                return None
            codes = []
            if op == "is-a":
                codes.append(node["code"])
            self.all_codes(node.get("concept"), codes)
            result = codes if result is None else [c for c in result if c in codes]
        return result

    def part(self, item):
        """{system: set(codes)} for one include/exclude, or None."""
        acc = None
        system = item.get("system")
        if system:
            codes = self.system_codes(system, item)
            if codes is None:
                return None
            acc = {system: set(codes)}
        for imported in item.get("valueSet", []) or []:
            sub = self.expand(strip_version(imported))
            if sub is None:
                return None
            if acc is None:
                acc = {s: set(c) for s, c in sub.items()}
            else:
                acc = {s: acc[s] & sub.get(s, set()) for s in acc}
        return acc

    def expand(self, url):
        if url in self.cache:
            return self.cache[url]
        self.cache[url] = None  # guards against import cycles
        vs = self.vs.get(url)
        result = None
        if vs is not None and "compose" in vs:
            result = {}
            ok = True
            for inc in vs["compose"].get("include", []):
                p = self.part(inc)
                if p is None:
                    ok = False
                    break
                for s, codes in p.items():
                    result.setdefault(s, set()).update(codes)
            for exc in vs["compose"].get("exclude", []) if ok else []:
                p = self.part(exc)
                if p is None:
                    ok = False
                    break
                for s, codes in p.items():
                    result.get(s, set()).difference_update(codes)
            if not ok:
                result = None
        self.cache[url] = result
        return result


def build_valuesets(urls, codesystems, valuesets):
    ex = Expander(codesystems, valuesets)
    out = {}
    for url in sorted(urls):
        exp = ex.expand(url)
        if exp is None:
            out[url] = None
        else:
            out[url] = [[s, sorted(c)] for s, c in sorted(exp.items())]
    return out


def build_extensions(sds):
    """Core extension definitions (StructureDefinitions constraining Extension):
    url -> [[allowed value[x] type codes] or null when value[x] is prohibited
    (complex extension), [context expressions]]."""
    out = {}
    for sd in sds:
        if sd.get("type") != "Extension" or sd.get("derivation") != "constraint":
            continue
        value = None
        for el in sd.get("snapshot", {}).get("element", []):
            if el.get("path") == "Extension.value[x]" and not el.get("sliceName"):
                if el.get("max") != "0":
                    value = sorted({type_code(t) for t in el.get("type", []) or []})
        contexts = [c.get("expression") for c in sd.get("context", []) or []
                    if c.get("type") == "element" and c.get("expression")]
        out[sd["url"]] = [value, contexts]
    return out


def build_profiles(sds):
    """Required codings of the core vital-signs profiles, from the profiles'
    `Observation.code.coding:<slice>` fixedUri/fixedCode (differential)."""
    out = {}
    for sd in sds:
        if not sd.get("baseDefinition", "").endswith("/vitalsigns"):
            continue
        slices = {}
        for el in sd.get("differential", {}).get("element", []):
            m = el.get("id", "")
            if not m.startswith("Observation.code.coding:"):
                continue
            rest = m[len("Observation.code.coding:"):]
            name, _, field = rest.partition(".")
            entry = slices.setdefault(name, {})
            if field == "system" and el.get("fixedUri"):
                entry["system"] = el["fixedUri"]
            if field == "code" and el.get("fixedCode"):
                entry["code"] = el["fixedCode"]
        codes = [[n, e["system"], e["code"]] for n, e in sorted(slices.items())
                 if "system" in e and "code" in e]
        if codes:
            out[sd["url"]] = codes
    return out


def build_constraints(sds):
    """Per base type: [relative path ("" = root), key, severity, human, expression].
    Each invariant is kept once, on the type that declares it (inherited copies
    such as ele-1 on every element are dropped: `source` names another type)."""
    out = {}
    for sd in sds:
        if sd.get("kind") not in ("primitive-type", "complex-type", "resource"):
            continue
        if sd.get("derivation") == "constraint":
            continue
        name = sd["type"]
        rows = []
        for el in sd.get("snapshot", {}).get("element", []):
            if el.get("sliceName"):
                continue
            path = el["path"]
            rel = "" if path == name else path[len(name) + 1:]
            for c in el.get("constraint", []) or []:
                src = c.get("source", sd["url"]).split("|")[0].rsplit("/", 1)[-1]
                if src != name:
                    continue
                rows.append([rel, c.get("key"), c.get("severity"), c.get("human"),
                             c.get("expression")])
        if rows:
            out[name] = rows
    return out


def build_searchparams(params):
    out = []
    for sp in params:
        comps = [[strip_version(c.get("definition", "")), c.get("expression", "")]
                 for c in sp.get("component", []) or []]
        out.append([
            sp.get("code"),
            sp.get("base", []),
            sp.get("type"),
            sp.get("expression"),
            sp.get("target", []),
            comps,
            sp.get("url"),
        ])
    out.sort(key=lambda r: (r[0] or "", r[6] or ""))
    return out


def header(what):
    return {
        "source": SOURCE,
        "generator": GENERATOR,
        "content": what,
    }


def write(name, doc):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"), ensure_ascii=False)
        fh.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def main():
    ensure_package()
    os.makedirs(OUT, exist_ok=True)
    types, required = build_types(load("StructureDefinition"))
    write("types.json", {
        "header": header("StructureDefinition snapshots; element rows are "
                         "[path, min, max(-1=*), [types], contentReference?, "
                         "requiredValueSet?, [targetTypes]?]"),
        "types": types,
    })
    sds = load("StructureDefinition")
    write("extensions.json", {
        "header": header("core extension definitions: url -> [[allowed value[x] "
                         "types] or null (value prohibited), [context expressions]]"),
        "extensions": build_extensions(sds),
    })
    write("profiles.json", {
        "header": header("core vital-signs profiles: url -> [[slice, system, code]] "
                         "codings Observation.code must carry"),
        "profiles": build_profiles(sds),
    })
    write("constraints.json", {
        "header": header("element invariants per type: [path (\"\" = root), key, "
                         "severity, human, expression], on the declaring type only"),
        "constraints": build_constraints(sds),
    })
    vsets = build_valuesets(required, load("CodeSystem"), load("ValueSet"))
    write("valuesets.json", {
        "header": header("expansions of ValueSets bound as required; "
                         "null = not expandable locally (not checkable)"),
        "valuesets": vsets,
    })
    write("searchparams.json", {
        "header": header("SearchParameters as [code, base, type, expression, "
                         "target, [[componentDefinition, expression]], url]"),
        "params": build_searchparams(load("SearchParameter")),
    })
    checkable = sum(1 for v in vsets.values() if v is not None)
    print(f"{len(types)} types, {checkable}/{len(vsets)} required value sets expanded")


if __name__ == "__main__":
    main()

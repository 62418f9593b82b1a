#!/usr/bin/env sh
# Fetches the official FHIR R4 (4.0.1) package (CC0) into .cache/npm, where
# scripts/generate-definitions.py and the validation tests look for it.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
npm install --no-save --prefix "$root/.cache/npm" hl7.fhir.r4.examples@4.0.1
ls "$root/.cache/npm/node_modules/hl7.fhir.r4.examples" | wc -l

#!/usr/bin/env python3
"""Validate a JSON document against a schema of the OpenAPI description.

usage: schema_check.py OPENAPI.yaml SCHEMA-NAME FILE.json

Exits 0 when FILE.json validates against components/schemas/SCHEMA-NAME
(JSON Schema 2020-12, as OpenAPI 3.1 uses), 1 with the reasons otherwise.
Needs python3-yaml and python3-jsonschema (Debian packages).
"""
import json
import sys

import jsonschema
import yaml


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    spec_path, name, doc_path = sys.argv[1:]
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    schemas = spec.get("components", {}).get("schemas", {})
    if name not in schemas:
        print(f"no schema named {name}", file=sys.stderr)
        return 2
    try:
        with open(doc_path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"not JSON: {exc}")
        return 1
    # The whole components tree rides along so that "#/components/..."
    # references resolve against this root.
    root = {"$ref": f"#/components/schemas/{name}",
            "components": spec["components"]}
    cls = jsonschema.Draft202012Validator
    validator = cls(root, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if not errors:
        return 0
    for err in errors[:10]:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        print(f"{where}: {err.message[:300]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

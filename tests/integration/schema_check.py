#!/usr/bin/env python3
"""Validate JSON documents against schemas of the OpenAPI description.

usage: schema_check.py OPENAPI.yaml SCHEMA-NAME FILE.json
       schema_check.py OPENAPI.yaml --batch LIST

LIST holds one check a line: SCHEMA-NAME <tab> FILE.json <tab> what.
Exits 0 when every document validates against components/schemas/<name>
(JSON Schema 2020-12, as OpenAPI 3.1 uses), 1 with the reasons
otherwise.  Needs python3-yaml and python3-jsonschema (Debian packages).
"""
import json
import sys

import jsonschema
import yaml


def load_spec(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader",
                                           yaml.SafeLoader))


def check(spec, validators, name, doc_path, what):
    """Return a list of problems (empty when doc_path validates)."""
    if name not in spec.get("components", {}).get("schemas", {}):
        return [f"{what}: no schema named {name}"]
    if name not in validators:
        # The whole components tree rides along so that
        # "#/components/..." references resolve against this root.
        root = {"$ref": f"#/components/schemas/{name}",
                "components": spec["components"]}
        cls = jsonschema.Draft202012Validator
        validators[name] = cls(root, format_checker=cls.FORMAT_CHECKER)
    try:
        with open(doc_path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        return [f"{what}: not JSON: {exc}"]
    errors = sorted(validators[name].iter_errors(doc),
                    key=lambda e: list(e.path))
    out = []
    for err in errors[:10]:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        out.append(f"{what} (schema {name}): {where}: {err.message[:300]}")
    return out


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    spec = load_spec(sys.argv[1])
    validators = {}
    if sys.argv[2] == "--batch":
        jobs = []
        with open(sys.argv[3], encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 3:
                    print(f"bad batch line: {line!r}", file=sys.stderr)
                    return 2
                jobs.append(parts)
    else:
        jobs = [(sys.argv[2], sys.argv[3], sys.argv[3])]
    problems = []
    for name, doc_path, what in jobs:
        problems += check(spec, validators, name, doc_path, what)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{len(jobs)} documents match their schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())

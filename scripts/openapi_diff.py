"""Differences between two OpenAPI documents (drf-spectacular's YAML): operations added, removed or
changed (parameters by place and name, bodies, responses, ids, tags) and component schemas.

    python scripts/openapi_diff.py before.yaml after.yaml

Prints nothing under a heading when that part is the same; docs/openapi-changes.md explains each
line it printed for issue 22's refactoring."""

import json
import sys

import yaml

METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


def operations(document: dict) -> dict:
    found = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                operation = dict(operation)
                operation["parameters"] = {
                    f"{p['in']}:{p['name']}": p for p in operation.get("parameters", [])
                }
                found[(path, method)] = operation
    return found


def shown(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)[:300]


def differences(before: dict, after: dict, prefix: str = "") -> list[str]:
    lines = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            lines.append(f"- {prefix}{key}: {shown(before[key])}")
        elif key not in before:
            lines.append(f"+ {prefix}{key}: {shown(after[key])}")
        elif isinstance(before[key], dict) and isinstance(after[key], dict):
            lines += differences(before[key], after[key], f"{prefix}{key}.")
        elif before[key] != after[key]:
            lines.append(f"~ {prefix}{key}: {shown(before[key])} -> {shown(after[key])}")
    return lines


def report(before: dict, after: dict) -> list[str]:
    lines = []
    old, new = operations(before), operations(after)
    lines.append("## operations removed")
    lines += [f"  {m.upper()} {p}" for p, m in sorted(old.keys() - new.keys())]
    lines.append("## operations added")
    lines += [
        f"  {m.upper()} {p} ({new[p, m].get('operationId')})" for p, m in sorted(new.keys() - old.keys())
    ]
    lines.append("## operations changed")
    for path, method in sorted(old.keys() & new.keys()):
        if changed := differences(old[path, method], new[path, method]):
            lines.append(f"  {method.upper()} {path}")
            lines += [f"    {line}" for line in changed]
    old_schemas = before.get("components", {}).get("schemas", {})
    new_schemas = after.get("components", {}).get("schemas", {})
    lines.append("## schemas removed")
    lines += [f"  {name}" for name in sorted(old_schemas.keys() - new_schemas.keys())]
    lines.append("## schemas added")
    lines += [f"  {name}" for name in sorted(new_schemas.keys() - old_schemas.keys())]
    lines.append("## schemas changed")
    for name in sorted(old_schemas.keys() & new_schemas.keys()):
        if changed := differences(old_schemas[name], new_schemas[name]):
            lines.append(f"  {name}")
            lines += [f"    {line}" for line in changed]
    rest = {k: v for k, v in before.items() if k not in ("paths", "components")}
    rest["securitySchemes"] = before.get("components", {}).get("securitySchemes", {})
    rest_after = {k: v for k, v in after.items() if k not in ("paths", "components")}
    rest_after["securitySchemes"] = after.get("components", {}).get("securitySchemes", {})
    lines.append("## document (info, servers, security, tags)")
    lines += [f"  {line}" for line in differences(rest, rest_after)]
    return lines


if __name__ == "__main__":
    with open(sys.argv[1]) as before, open(sys.argv[2]) as after:
        print("\n".join(report(yaml.safe_load(before), yaml.safe_load(after))))

"""A small JSON Schema (2020-12 subset) check for the service's OpenAPI 3.1 schemas.

Covers what /openapi.json uses: type (also lists), enum, const, properties,
required, additionalProperties, items, oneOf, $ref, pattern, format date-time.
``jsonschema`` is not a dependency of the project; this is enough to hold the
description to the real answers.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def errors(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return errors(value, target, root, path)
    out: list[str] = []
    if "oneOf" in schema:
        matches = sum(1 for s in schema["oneOf"] if not errors(value, s, root, path))
        if matches != 1:
            out.append(f"{path}: matches {matches} of oneOf")
        return out
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_TYPES[x](value) for x in types):
            return [f"{path}: {value!r:.60} is not {t}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: {value!r} != {schema['const']!r}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if schema.get("format") == "date-time":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                out.append(f"{path}: {value!r} is not a date-time")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{path}: missing {key!r}")
        extra = schema.get("additionalProperties", True)
        for key, v in value.items():
            if key in props:
                out.extend(errors(v, props[key], root, f"{path}.{key}"))
            elif extra is False:
                out.append(f"{path}: unexpected property {key!r}")
            elif isinstance(extra, dict):
                out.extend(errors(v, extra, root, f"{path}.{key}"))
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            out.extend(errors(v, schema["items"], root, f"{path}[{i}]"))
    return out


def response_schema(spec: dict[str, Any], path: str, method: str, status: int,
                    media: str = "application/json") -> dict[str, Any]:
    op = spec["paths"][path][method]
    resp = op["responses"][str(status)]
    return dict(resp["content"][media]["schema"])


def check(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    problems = errors(body, response_schema(spec, path, method, status), spec)
    assert not problems, "\n".join(problems[:20])

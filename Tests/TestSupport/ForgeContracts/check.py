#!/usr/bin/env python3
"""Checks what a forge double received and answered against the vendor's published contract.

usage: check.py CONTRACT.json EXCHANGES.json

EXCHANGES.json is a list of {"method", "target" (path?query), "requestBody" (text), "status",
"responseBody" (text)}, as TestSupport's ForgeContract writes it. Prints one problem per line
(nothing when every exchange is as documented) and exits 0; exits 2 when it cannot run.

Per exchange: the operation exists (method + path template, after the contract's base path);
every query parameter is declared; a JSON request body validates against the operation's body
schema; the status is documented for the operation; a JSON reply validates against the schema
documented for that status. GitLab's description types most entity fields as strings whatever
the API returns (its README says so), so GitLab replies are checked by field names only.
"""
import json
import re
import sys

try:
    import jsonschema
except ImportError:
    print("check.py needs the Python package jsonschema (pip install jsonschema)", file=sys.stderr)
    sys.exit(2)


def to_json_schema(node):
    """OpenAPI 3.0 / Swagger 2 schema -> JSON Schema (nullable -> type union; x-* and example dropped)."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items()
           if not k.startswith("x-") and k not in ("example", "examples", "discriminator", "readOnly", "writeOnly", "deprecated")}
    if out.pop("nullable", False) or out.pop("x-nullable", False) or node.get("x-nullable"):
        if "type" in out and not any(k in out for k in ("$ref", "allOf", "oneOf", "anyOf")):
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


class Contract:
    def __init__(self, path):
        raw = json.load(open(path))
        self.raw = raw
        self.doc = to_json_schema(raw)
        self.swagger2 = "swagger" in raw
        self.vendor = re.sub(r"\.json$", "", path.split("/")[-1])
        self.gitlab = self.vendor == "gitlab"
        base = raw.get("basePath", "")
        if not base and raw.get("servers"):
            base = re.sub(r"^https?://[^/]+", "", raw["servers"][0]["url"])
        self.base = "" if base == "/" else base.rstrip("/")
        self.operations = []
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
            for method, operation in item.items():
                if method == "parameters":
                    continue
                parameters = list(item.get("parameters", [])) + list(operation.get("parameters", []))
                self.operations.append((method.upper(), template, re.compile(pattern), operation, [self.resolve(p) for p in parameters]))

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            parts = node["$ref"].lstrip("#/").split("/")
            target = self.doc
            for part in parts:
                target = target[part]
            node = target
        return node

    def validator(self, schema):
        root = dict(schema)
        root["components"] = self.doc.get("components", {})
        root["definitions"] = self.doc.get("definitions", {})
        return jsonschema.Draft7Validator(root)

    def error_schema(self):
        """The vendor's error body, for a status it documents for every operation."""
        for name in ("basic-error", "APIError", "error"):
            if name in self.doc.get("components", {}).get("schemas", {}):
                return {"$ref": f"#/components/schemas/{name}"}
            if name in self.doc.get("definitions", {}):
                return {"$ref": f"#/definitions/{name}"}
        return None

    def operation(self, method, path):
        if self.base and path.startswith(self.base + "/"):
            path = path[len(self.base):]
        for candidate, template, pattern, operation, parameters in self.operations:
            if candidate == method and pattern.match(path):
                return template, operation, parameters
        return None

    def request_schema(self, operation, parameters):
        if self.swagger2:
            for parameter in parameters:
                if parameter.get("in") == "body":
                    return parameter.get("schema")
            return None
        body = self.resolve(operation.get("requestBody", {}))
        return body.get("content", {}).get("application/json", {}).get("schema")

    def response_schema(self, operation, status):
        responses = operation.get("responses", {})
        response = responses.get(str(status))
        if response is None:
            return False, None
        response = self.resolve(response)
        if self.swagger2:
            return True, response.get("schema")
        return True, response.get("content", {}).get("application/json", {}).get("schema")


def errors(validator, value, limit=5):
    found = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    return ["/".join(str(p) for p in e.absolute_path) + ": " + e.message[:200] for e in found[:limit]] + (
        [f"... and {len(found) - limit} more"] if len(found) > limit else [])


def gitlab_names(contract, schema, value, where):
    """GitLab: every field of the reply is a documented property of the entity."""
    schema = contract.resolve(schema)
    if schema.get("type") == "array" and isinstance(value, list):
        return [p for item in value for p in gitlab_names(contract, schema.get("items", {}), item, where)]
    properties = schema.get("properties")
    if not properties or not isinstance(value, dict):
        return []
    return [f"{where}: field {key!r} is not in the documented entity" for key in value if key not in properties]


# What a vendor documents for every operation, outside the per-operation descriptions the
# contracts were cut from:
# - GitHub, "Troubleshooting the REST API" and "Rate limits for the REST API": 401 Bad
#   credentials, 403/429 rate limits, 404 for what the token cannot see, 5xx; bodies `basic-error`.
# - Gitea/Forgejo: every route answers 401/403/404 with `APIError` (the Swagger lists them per
#   route only in part); 5xx from the server or a proxy.
# - GitLab, "REST API status codes": 401, 403, 404, 405, 409, 422, 429, 5xx on any route.
# - Bitbucket Cloud, "Filtering and sorting" and "Pagination": `q`, `sort`, `fields`, `page`,
#   `pagelen` on every list; 401/403/404/429/5xx with `error`.
EVERYWHERE_STATUSES = {
    "github": {401, 403, 404, 429, 500, 502, 503},
    "gitea": {401, 403, 404, 500, 502, 503},
    "gitlab": {401, 403, 404, 405, 409, 422, 429, 500, 502, 503},
    "bitbucket": {401, 403, 404, 429, 500, 502, 503},
}
# Operations the contracts were not cut for, documented elsewhere by the vendor:
# GitLab's Version API (`GET /version`: {"version": "17.11.2-ee", "revision": …}).
DOCUMENTED_ELSEWHERE = {"gitlab": {("GET", "/api/v4/version")}}
EVERYWHERE_QUERY = {"bitbucket": {"q", "sort", "fields", "page", "pagelen"}, "gitlab": {"page", "per_page"}, "gitea": {"page", "limit"}}


def check(contract, exchange):
    method = exchange["method"]
    target = exchange["target"]
    path, _, query = target.partition("?")
    where = f"{method} {target} -> {exchange['status']}"
    for covered in contract.raw.get("x-not-covered", {}):
        verb, _, template = covered.partition(" ")
        template = template.split("?")[0]
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        if verb == method and re.match(pattern, path):
            return []  # the contract says it does not describe this operation
    if (method, path) in DOCUMENTED_ELSEWHERE.get(contract.vendor, set()):
        return []
    found = contract.operation(method, path)
    if found is None:
        return [f"{where}: no such operation in the contract"]
    template, operation, parameters = found
    problems = []
    declared = {p.get("name") for p in parameters if p.get("in") == "query"} | EVERYWHERE_QUERY.get(contract.vendor, set())
    for name in [part.split("=", 1)[0] for part in query.split("&") if part]:
        if name not in declared:
            problems.append(f"{where}: query parameter {name!r} is not declared for {method} {template} (declared: {sorted(declared)})")
    body = exchange.get("requestBody") or ""
    schema = contract.request_schema(operation, parameters)
    if body.strip():
        try:
            value = json.loads(body)
        except ValueError:
            problems.append(f"{where}: the request body is not JSON")
            value = None
        if value is not None:
            if schema is None:
                problems.append(f"{where}: a body was sent, but {method} {template} takes none")
            else:
                problems += [f"{where}: request {e}" for e in errors(contract.validator(schema), value)]
    documented, schema = contract.response_schema(operation, exchange["status"])
    if not documented and exchange["status"] in EVERYWHERE_STATUSES.get(contract.vendor, set()):
        documented, schema = True, contract.error_schema()
    if not documented:
        problems.append(f"{where}: status {exchange['status']} is not documented for {method} {template} "
                        f"(documented: {sorted(operation.get('responses', {}))})")
        return problems
    reply = exchange.get("responseBody") or ""
    if schema is not None and reply.strip():
        try:
            value = json.loads(reply)
        except ValueError:
            if exchange["status"] >= 500:
                return problems  # a proxy's or load balancer's page: not the API's to describe
            return problems + [f"{where}: the reply is not JSON"]
        if contract.gitlab:
            problems += gitlab_names(contract, schema, value, where)
        else:
            problems += [f"{where}: reply {e}" for e in errors(contract.validator(schema), value)]
    return problems


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    contract = Contract(sys.argv[1])
    for exchange in json.load(open(sys.argv[2])):
        if exchange["target"].split("?")[0].endswith("/graphql"):
            continue  # checked against the GraphQL SDL by the Swift side
        for problem in check(contract, exchange):
            print(problem)


if __name__ == "__main__":
    main()

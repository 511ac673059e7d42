"""OpenAPI postprocessing: the responses api.md §1 promises for every endpoint, documented once.

Views document their own success and error bodies. The conventions shared by all of them are added here, so that
the served schema describes what clients actually receive (schemathesis checks it, tests/api/):

- §1.2: an operation that requires credentials can answer 401 (none, bad or expired) and 403 (wrong class).
- §1.6: an operation that takes input can answer 400 with a serializer field map or a parse error
  (``{"detail"}``), besides any hand-written ``{"detail", "code"}`` body the view documents.
- §1.6: an operation that takes a body answers 415 to a body of a media type it does not parse.
- §1.7: a paginated list answers 404 ``{"detail": "Invalid page."}`` for a non-numeric or out-of-range page.
"""

ERROR = "ConventionError"
FIELD_ERRORS = "FieldErrors"
COMPONENTS = {
    ERROR: {
        "type": "object",
        "description": "`{detail, code}`; 401 from a bad token adds `messages`.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "messages": {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
        },
        "required": ["detail"],
    },
    FIELD_ERRORS: {
        "type": "object",
        "description": 'Field errors: `{"<field>": ["message"], "non_field_errors": [...]}`; list elements '
        "keyed by index.",
        "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
    },
}
_METHODS = ("get", "put", "post", "patch", "delete")


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"content": {"application/json": {"schema": schema}}, "description": description}


def _takes_input(operation: dict) -> bool:
    params = [p for p in operation.get("parameters", []) if p.get("in") == "query" and p["name"] != "format"]
    return bool(params or operation.get("requestBody"))


def _allow_input_errors(response: dict) -> None:
    """A documented 400 body becomes "that body, a field map, or a parse error" (all three are what §1.6 allows:
    serializer errors, hand-written errors, and ``{"detail"}`` for a body that is not valid JSON or form data)."""
    for media_type, media in response.get("content", {}).items():
        schema = media.get("schema")
        if media_type != "application/json" or not schema or _ref(FIELD_ERRORS) in schema.get("anyOf", ()):
            continue
        options = [schema] if schema not in (_ref(FIELD_ERRORS), _ref(ERROR)) else []
        media["schema"] = {"anyOf": [*options, _ref(FIELD_ERRORS), _ref(ERROR)]}


def add_convention_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    for path_item in result.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            if operation.get("security") and any(operation["security"]):
                responses.setdefault("401", _json(_ref(ERROR), "Not authenticated (§1.2)."))
                responses.setdefault("403", _json(_ref(ERROR), "Not allowed for this caller class (§1.2)."))
            if _takes_input(operation):
                responses.setdefault("400", _json(_ref(FIELD_ERRORS), "Invalid input (§1.6)."))
                _allow_input_errors(responses["400"])
            if operation.get("requestBody"):
                responses.setdefault("415", _json(_ref(ERROR), "Unsupported media type (§1.6)."))
            if any(
                p.get("in") == "query" and p.get("name") == "page" for p in operation.get("parameters", [])
            ):
                responses.setdefault("404", _json(_ref(ERROR), "Invalid page (§1.7)."))
    return result

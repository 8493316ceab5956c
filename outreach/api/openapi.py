"""The OpenAPI 3.1 description of the JSON API (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from ..pseudonyms import MAX_CODE_LENGTH
from ..vocabulary import (
    AGE_BANDS,
    GENDERS,
    HOUSING,
    MAX_MATERIAL_QUANTITY,
    MAX_REFERRALS_PER_CONTACT,
    REFERRAL_STATUSES,
)

CODE = {"type": "string", "pattern": "^[a-z0-9_]{1,40}$", "description": "A taxonomy code"}

CONTACT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "occurred_at", "zone"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "Made on the phone"},
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "Kept to the minute; no more than 60 days old, not in the future",
        },
        "zone": CODE,
        "patrol_id": {"type": ["integer", "null"]},
        "person_code": {
            "type": ["string", "null"],
            "maxLength": 512,
            "description": (
                "Optional code agreed with the person: normalised (3 to "
                f"{MAX_CODE_LENGTH} letters or digits), keyed-hashed, then dropped. "
                "Either as typed, or sealed for the server: `sealed:v1:` and base64url of "
                "an ephemeral P-256 public key (65 bytes), a 12-byte nonce and the AES-256-GCM "
                "ciphertext, under a key from HKDF-SHA-256 (salt 32 zero bytes, info "
                "`maraudes person code v1`) of the ECDH secret with `person_code_key` of "
                "GET /api/v1/form-options"
            ),
        },
        "gender": {"enum": list(GENDERS)},
        "age_band": {"enum": list(AGE_BANDS)},
        "housing": {"enum": list(HOUSING)},
        "first_contact": {"type": "boolean"},
        "needs": {"type": "array", "items": CODE, "uniqueItems": True},
        "materials": {
            "type": "object",
            "additionalProperties": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_MATERIAL_QUANTITY,
            },
        },
        "referrals": {
            "type": "array",
            "maxItems": MAX_REFERRALS_PER_CONTACT,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["destination"],
                "properties": {
                    "destination": CODE,
                    "accompanied": {"type": "boolean"},
                    "status": {"enum": list(REFERRAL_STATUSES)},
                },
            },
        },
    },
}

ERRORS = {
    "type": "object",
    "description": "Messages per field, in the user's language (nested fields as a.b.c)",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

ITEM_RESULT = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": ["string", "null"]},
        "status": {"enum": ["created", "unchanged", "conflict", "invalid"]},
        "code": {"enum": [200, 201, 409, 422]},
        "message": {"type": "string"},
        "errors": ERRORS,
    },
}


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Maraudes — field outreach capture API",
            "version": "1",
            "description": (
                "Idempotent capture of anonymous contacts. Authenticate with the session cookie "
                "and send the CSRF token (from <meta name=csrf-token> or /form-options) as "
                "X-CSRFToken."
            ),
        },
        "components": {
            "schemas": {"Contact": CONTACT, "ItemResult": ITEM_RESULT, "Errors": ERRORS},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
        "security": [{"session": [], "csrf": []}],
        "paths": {
            "/api/v1/contacts": {
                "post": {
                    "summary": "Record one contact, or a list of up to 500",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Contact"},
                                        {
                                            "type": "array",
                                            "minItems": 1,
                                            "maxItems": 500,
                                            "items": {"$ref": "#/components/schemas/Contact"},
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _response(
                            "The same id and body again (single), or per-item results (list)",
                            {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/ItemResult"},
                                    {
                                        "type": "object",
                                        "required": ["results"],
                                        "properties": {
                                            "results": {
                                                "type": "array",
                                                "items": {
                                                    "$ref": "#/components/schemas/ItemResult"
                                                },
                                            }
                                        },
                                    },
                                ]
                            },
                        ),
                        "201": _response("Created", {"$ref": "#/components/schemas/ItemResult"}),
                        "400": _response("CSRF token missing or stale", {"type": "object"}),
                        "401": _response("Not logged in (log in again)", {"type": "object"}),
                        "403": _response("This role may not capture", {"type": "object"}),
                        "409": _response(
                            "The same id with another body",
                            {"$ref": "#/components/schemas/ItemResult"},
                        ),
                        "413": _response("Body too large", {"type": "object"}),
                        "422": _response(
                            "Invalid contact: per-field messages",
                            {"$ref": "#/components/schemas/ItemResult"},
                        ),
                    },
                }
            },
            "/api/v1/form-options": {
                "get": {
                    "summary": "Taxonomies, zones and the current patrol, for the offline form",
                    "responses": {
                        "200": _response("Form options", {"type": "object"}),
                        "401": _response("Not logged in", {"type": "object"}),
                        "403": _response("This role may not capture", {"type": "object"}),
                    },
                }
            },
        },
    }

"""OpenAPI 3.1 description of the service, as it really answers.

Built in code so the limits shown are the running app's; the tests validate
real responses against these schemas.
"""
from __future__ import annotations

from typing import Any

from ground import __version__
from ground.vocab import Indication, SubIndication

_NULL_STR = {"type": ["string", "null"]}
_DATETIME = {"type": "string", "format": "date-time"}
_NULL_DATETIME = {"type": ["string", "null"], "format": "date-time"}
_ROLE = {"enum": ["subject_teacher", "teacher", "principal", "seal", None]}
_INDICATION = {"type": "string", "enum": [i.value for i in Indication]}
_SUBINDICATION = {"enum": [s.value for s in SubIndication] + [None]}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props,
            "required": required if required is not None else list(props),
            "additionalProperties": False}


SCHEMAS: dict[str, Any] = {
    "Signer": _obj({
        "common_name": _NULL_STR, "organization": _NULL_STR, "title": _NULL_STR,
        "subject": {"type": "string"}, "issuer": {"type": "string"},
        "serial": {"type": "string", "pattern": "^[0-9a-fA-F]*$"},
        "not_before": _DATETIME, "not_after": _DATETIME,
        "sha256": {"oneOf": [{"type": "string", "pattern": "^[0-9a-f]{64}$"}, {"type": "null"}],
                   "description": "SHA-256 of the signer's certificate, as a role registry "
                                  "lists it"},
    }),
    "Timestamp": _obj({"time": _DATETIME, "tsa": {"type": "string"},
                       "valid": {"type": "boolean"}}),
    "Revocation": _obj({"status": {"type": "string", "enum": ["good", "revoked", "unknown"]},
                        "source": {"enum": ["ocsp", "crl", "embedded", None]}}),
    "Signature": _obj({
        "id": {"type": "string"},
        "role": _ROLE, "claimed_role": _ROLE,
        "role_source": {"enum": ["certificate", "registry", "seal", None],
                        "description": "where the role came from: the certificate's title "
                                       "(or CN = O for a seal), the role registry, or a "
                                       "declared role confirmed by the school's seal"},
        "signer": {"oneOf": [{"$ref": "#/components/schemas/Signer"}, {"type": "null"}]},
        "signing_time": _NULL_DATETIME,
        "timestamp": {"oneOf": [{"$ref": "#/components/schemas/Timestamp"}, {"type": "null"}]},
        "level": {"enum": ["B-B", "B-T", "B-LT", "B-LTA", None]},
        "indication": _INDICATION, "subindication": _SUBINDICATION,
        "integrity": {"type": ["boolean", "null"]},
        "coverage": {"enum": ["entire_file", "entire_revision", "partial", None]},
        "modifications_after": {"enum": ["none", "signatures_only", "form_filling", "other", None]},
        "chain": {"type": "array", "items": {"type": "string"},
                  "description": "subject of each certificate, signer first"},
        "revocation": {"oneOf": [{"$ref": "#/components/schemas/Revocation"}, {"type": "null"}]},
        "findings": {"type": "array", "items": {"type": "string"},
                     "description": "human-readable notes in the report language"},
        "document_timestamp": {"type": "boolean",
                               "description": "a PDF document timestamp, not a role signature"},
    }),
    "Check": _obj({"name": {"type": "string",
                            "description": "required_roles, signing_order, unsigned_content, "
                                           "format, time_limit, ..."},
                   "passed": {"type": "boolean"}, "detail": {"type": "string"}}),
    "Record": {"oneOf": [
        {"type": "object", "additionalProperties": {"type": "string"},
         "properties": {"student": {"type": "string"}, "school": {"type": "string"},
                        "school_year": {"type": "string"},
                        "school_code": {"type": "string"}}},
        {"type": "null"}]},
    "Report": _obj({
        "file": {"type": "string", "description": "the name as given; for a ZIP entry "
                                                  "'<archive>/<entry path>' (a label only)"},
        "sha256": {"type": "string", "pattern": "^([0-9a-f]{64})?$",
                   "description": "hex SHA-256 of the file; empty for an archive entry "
                                  "refused before it was expanded"},
        "format": {"enum": ["pdf", "xml", None]},
        "indication": _INDICATION, "subindication": _SUBINDICATION,
        "message": {"type": "string"},
        "record": {"$ref": "#/components/schemas/Record"},
        "signatures": {"type": "array", "items": {"$ref": "#/components/schemas/Signature"}},
        "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}},
        "validation_time": _NULL_DATETIME,
    }),
    "Results": _obj({"results": {"type": "array",
                                 "items": {"$ref": "#/components/schemas/Report"}}}),
    "Error": _obj({"error": {"type": "string", "description": "a stable code, e.g. "
                             "payload_too_large, unsupported_media_type, zip_limit_exceeded, "
                             "no_file, bad_request, not_found, method_not_allowed"},
                   "detail": {"type": "string"}}),
    "Health": _obj({"status": {"const": "ok"}, "version": {"type": "string"},
                    "trust_anchors": {"type": "integer"},
                    "revocation_mode": {"type": "string"}}),
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


def spec(max_body: int) -> dict[str, Any]:
    mb = max_body / (1024 * 1024)
    binary = {"type": "string", "format": "binary"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hocba verifier",
            "version": __version__,
            "description": (
                "Xác thực học bạ số (PAdES/XAdES). Verifies signed student record books: "
                "reports follow ETSI EN 319 102-1 indications. Uploads are processed in "
                "memory and never stored."),
        },
        "paths": {
            "/api/v1/verify": {"post": {
                "summary": "Verify one or many files (PDF, XML, or a ZIP batch of them)",
                "parameters": [
                    {"name": "lang", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["vi", "en"], "default": "vi"},
                     "description": "language of messages, findings and check details"},
                    {"name": "validation_time", "in": "query", "required": False,
                     "schema": _DATETIME,
                     "description": "judge the files as of this moment (default: now)"},
                    {"name": "name", "in": "query", "required": False,
                     "schema": {"type": "string"},
                     "description": "label for a raw-body upload (default upload.pdf/.xml/.zip)"},
                ],
                "requestBody": {"required": True, "content": {
                    "multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"],
                        "properties": {"file": {"type": "array", "items": binary}}},
                        "encoding": {"file": {"contentType":
                                              "application/pdf, application/xml, text/xml, "
                                              "application/zip, application/octet-stream"}}},
                    "application/pdf": {"schema": binary},
                    "application/xml": {"schema": binary},
                    "text/xml": {"schema": binary},
                    "application/zip": {"schema": binary},
                }},
                "responses": {
                    "200": {"description": "one report per file (per ZIP entry), in order; "
                                           "malformed files get a FORMAT_FAILURE report",
                            "content": {"application/json": {"schema": {
                                "$ref": "#/components/schemas/Results"}}}},
                    "400": _error("no file, or a bad query parameter"),
                    "413": _error(f"body over {mb:g} MB, or a ZIP over its limits "
                                  "(entries, total uncompressed size)"),
                    "415": _error("not PDF, XML or ZIP"),
                },
            }},
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {
                "description": "the service is up", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Health"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {
                "description": "OpenAPI 3.1", "content": {"application/json": {
                    "schema": {"type": "object"}}}}}}},
            "/": {"get": {"summary": "Web page (Vietnamese, ?lang=en for English)",
                          "responses": {"200": {"description": "HTML",
                                                "content": {"text/html": {}}}}}},
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": {"NotFound": _error("no such path"),
                          "MethodNotAllowed": _error("method not allowed")},
        },
    }

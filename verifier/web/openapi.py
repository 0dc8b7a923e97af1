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
                             "no_file, bad_request, not_found, method_not_allowed, "
                             "jobs_disabled, jobs_unavailable, job_not_found"},
                   "detail": {"type": "string"}}),
    "JobCreated": _obj({
        "job_id": {"type": "string", "pattern": "^[0-9a-f]{32}$",
                   "description": "128 random bits: the only key to the job's reports"},
        "status_url": {"type": "string", "description": "/api/v1/jobs/{job_id}"},
        "total": {"type": "integer", "description": "files in the job (ZIP entries counted "
                                                    "one by one)"},
    }),
    "JobStatus": _obj({
        "job_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "status": {"type": "string", "enum": ["queued", "running", "done"]},
        "total": {"type": "integer"},
        "done": {"type": "integer", "description": "files with a report (in any order)"},
        "counts": _obj({i.value: {"type": "integer"} for i in Indication}),
        "results_url": {"type": "string", "description": "/api/v1/jobs/{job_id}/results"},
    }),
    "Health": _obj({"status": {"const": "ok"}, "version": {"type": "string"},
                    "trust_anchors": {"type": "integer"},
                    "revocation_mode": {"type": "string"}}),
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


_LANG = {"name": "lang", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["vi", "en"], "default": "vi"}}
_JOB_ID = {"name": "job_id", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
           "description": "the job_id of the 202 answer"}
_INT_HEADER = {"schema": {"type": "integer"}}


def _jobs_unavailable() -> dict[str, Any]:
    return {**_error("jobs_disabled: no [jobs] broker in the configuration; or "
                     "jobs_unavailable: the Redis of the jobs cannot be reached (with "
                     "Retry-After: 30)"),
            "headers": {"Retry-After": {"schema": {"type": "integer"},
                                        "description": "with jobs_unavailable: seconds"}}}


def _job_not_found(ttl_hours: float) -> dict[str, Any]:
    return _error(f"job_not_found: no job with this id (wrong id, deleted, or expired: "
                  f"files and reports are kept {ttl_hours:g} hours, [jobs] result_ttl_hours)")


def _upload_body(binary: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {
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
    }}


def _jobs_paths(mb: float, max_entries: int, ttl_hours: float,
                binary: dict[str, Any]) -> dict[str, Any]:
    """CONTRACT 10, as verifier/web/jobs_api.py answers."""
    lang = {**_LANG, "description": "language of the reports (kept with the job) and of "
                                    "error details"}
    lang_errors = {**_LANG, "description": "language of error details"}
    return {
        "/api/v1/jobs": {"post": {
            "summary": "Submit a bulk verification job (verified by hocba worker processes)",
            "description": (
                "The same inputs, parser and limits as POST /api/v1/verify: at most "
                f"{mb:g} MB per request and {max_entries} files (multipart parts or ZIP "
                "entries; [limits] max_file_mb, max_zip_entries). Answers at once; the "
                "files wait in Redis, never on the web host's disk."),
            "parameters": [
                lang,
                {"name": "validation_time", "in": "query", "required": False,
                 "schema": _DATETIME,
                 "description": "judge every file as of this moment (default: when a worker "
                                "takes the file up)"},
                {"name": "name", "in": "query", "required": False,
                 "schema": {"type": "string"},
                 "description": "label for a raw-body upload (default upload.pdf/.xml/.zip)"},
            ],
            "requestBody": _upload_body(binary),
            "responses": {
                "202": {"description": "the job is queued",
                        "headers": {"Location": {"schema": {"type": "string"},
                                                 "description": "the status_url"}},
                        "content": {"application/json": {"schema": {
                            "$ref": "#/components/schemas/JobCreated"}}}},
                "400": _error("no file, or a bad query parameter"),
                "413": _error(f"body over {mb:g} MB, or more than {max_entries} files, or a "
                              "ZIP over its limits (entries, total uncompressed size)"),
                "415": _error("not PDF, XML or ZIP"),
                "503": _jobs_unavailable(),
            },
        }},
        "/api/v1/jobs/{job_id}": {
            "get": {
                "summary": "Progress of a job",
                "parameters": [_JOB_ID, lang_errors],
                "responses": {
                    "200": {"description": "status and counts so far",
                            "content": {"application/json": {"schema": {
                                "$ref": "#/components/schemas/JobStatus"}}}},
                    "404": _job_not_found(ttl_hours),
                    "503": _jobs_unavailable(),
                },
            },
            "delete": {
                "summary": "Delete a job, its files and its reports now",
                "parameters": [_JOB_ID, lang_errors],
                "responses": {
                    "204": {"description": "deleted"},
                    "404": _job_not_found(ttl_hours),
                    "503": _jobs_unavailable(),
                },
            },
        },
        "/api/v1/jobs/{job_id}/results": {"get": {
            "summary": "The reports of a job, in submission order",
            "description": (
                "While the job runs: the reports finished so far up to the first file still "
                "waiting (never a gap, never a line twice). Read again with ?start=<lines "
                "already read> until X-Hocba-Job-Status is done."),
            "parameters": [
                _JOB_ID,
                {"name": "format", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["ndjson", "csv"],
                            "default": "ndjson"}},
                {"name": "start", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 0, "maximum": 999999999,
                            "default": 0},
                 "description": "skip the first START reports (CSV: and the header row)"},
                lang_errors,
            ],
            "responses": {
                "200": {
                    "description": "JSON Lines: one Report per line, in the language of the "
                                   "job's POST; or CSV",
                    "headers": {
                        "X-Hocba-Job-Status": {"schema": {"type": "string", "enum": [
                            "queued", "running", "done"]}},
                        "X-Hocba-Job-Done": {**_INT_HEADER,
                                             "description": "files with a report"},
                        "X-Hocba-Job-Total": {**_INT_HEADER, "description": "files in the job"},
                        "Content-Disposition": {
                            "schema": {"type": "string"},
                            "description": "format=csv: attachment; "
                                           "filename=\"hocba-<job_id>.csv\""},
                    },
                    "content": {
                        "application/x-ndjson": {
                            "schema": {"type": "string",
                                       "description": "lines, each a Report (JSON)"},
                            "x-item-schema": {"$ref": "#/components/schemas/Report"}},
                        "text/csv": {"schema": {
                            "type": "string",
                            "description": "header file,sha256,indication,subindication,"
                                           "student,school,school_year; a cell starting "
                                           "with = + - @ is prefixed with '"}},
                    }},
                "400": _error("bad_request: format is not ndjson or csv, or start is not a "
                              "whole number"),
                "404": _job_not_found(ttl_hours),
                "503": _jobs_unavailable(),
            },
        }},
    }


def spec(max_body: int, max_entries: int = 1000, ttl_hours: float = 24.0) -> dict[str, Any]:
    mb = max_body / (1024 * 1024)
    binary = {"type": "string", "format": "binary"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hocba verifier",
            "version": __version__,
            "description": (
                "Verifies signed Vietnamese student record books (hoc ba so, PAdES/XAdES): "
                "reports follow ETSI EN 319 102-1 indications. Uploads are processed in "
                "memory and never stored."),
        },
        "paths": {
            "/api/v1/verify": {"post": {
                "summary": "Verify one or many files (PDF, XML, or a ZIP batch of them)",
                "parameters": [
                    {**_LANG, "description": "language of messages, findings and check "
                                             "details"},
                    {"name": "format", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["json", "etsi"], "default": "json"},
                     "description": "etsi: exactly one file, answered with its ETSI TS "
                                    "119 102-2 validation report (XML)"},
                    {"name": "validation_time", "in": "query", "required": False,
                     "schema": _DATETIME,
                     "description": "judge the files as of this moment (default: now)"},
                    {"name": "name", "in": "query", "required": False,
                     "schema": {"type": "string"},
                     "description": "label for a raw-body upload (default upload.pdf/.xml/.zip)"},
                ],
                "requestBody": _upload_body(binary),
                "responses": {
                    "200": {"description": "one report per file (per ZIP entry), in order; "
                                           "malformed files get a FORMAT_FAILURE report",
                            "content": {
                                "application/json": {"schema": {
                                    "$ref": "#/components/schemas/Results"}},
                                "application/xml": {"schema": {
                                    "type": "string",
                                    "description": "format=etsi: the ETSI TS 119 102-2 "
                                                   "validation report"}}}},
                    "400": _error("no file, a bad query parameter, or format=etsi with more "
                                  "than one file"),
                    "413": _error(f"body over {mb:g} MB, or a ZIP over its limits "
                                  "(entries, total uncompressed size)"),
                    "415": _error("not PDF, XML or ZIP"),
                },
            }},
            **_jobs_paths(mb, max_entries, ttl_hours, binary),
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

"""Configuration: ``hocba.toml`` read into frozen pydantic dataclasses (CONTRACT 8).

Every key is known (``extra="forbid"``), every value strictly typed (Literal and enum
types where the value is one of a few; no silent "1" -> 1), and a problem is a
:class:`ConfigError` naming the key and the file. Paths are resolved relative to the
configuration file. The models are dataclasses, so ``dataclasses.replace`` re-validates.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
import unicodedata
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import (BeforeValidator, ConfigDict, Strict, TypeAdapter, ValidationError,
                      ValidationInfo)
from pydantic.dataclasses import dataclass

from ground.errors import ConfigError
from ground.vocab import Role

# Unknown keys are errors; scalars are strict (Str/Bool/Int/Float below: no "1" -> 1,
# no true -> 1), while tables (dicts) still become the section dataclasses.
_STRICT = ConfigDict(extra="forbid")


def _to_path(value: Any, info: ValidationInfo) -> Any:
    """A path string from the file, relative to the file (CONTRACT 8)."""
    if isinstance(value, str):
        base = (info.context or {}).get("base")
        return (base / value).resolve() if base is not None else Path(value)
    return value


def _to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _to_paths(value: Any, info: ValidationInfo) -> Any:
    value = _to_tuple(value)
    if isinstance(value, tuple):
        return tuple(_to_path(v, info) for v in value)
    return value


def _to_roles(value: Any) -> Any:
    value = _to_tuple(value)
    if isinstance(value, tuple):
        return tuple(Role.parse(v) if isinstance(v, str) else v for v in value)
    return value


Str = Annotated[str, Strict()]
Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
ConfPath = Annotated[Path, BeforeValidator(_to_path), Strict()]
ConfPaths = Annotated[tuple[Annotated[Path, Strict()], ...], BeforeValidator(_to_paths), Strict()]
Strings = Annotated[tuple[Str, ...], BeforeValidator(_to_tuple), Strict()]
Roles = Annotated[tuple[Role, ...], BeforeValidator(_to_roles), Strict()]
RevocationMode = Literal["require", "soft-fail", "off"]
RoleSource = Literal["certificate", "registry", "seal"]

REVOCATION_MODES = ("require", "soft-fail", "off")


def _default_titles() -> dict[str, tuple[str, ...]]:
    """The titles certificates carry for each role (data, not interface text), from
    ``ground/role_titles.toml``; CONTRACT 8: tried in this order, case-insensitive, NFC."""
    with open(Path(__file__).resolve().parent / "role_titles.toml", "rb") as fh:
        data = tomllib.load(fh)
    return {role: tuple(unicodedata.normalize("NFC", t) for t in data[role])
            for role in ("principal", "subject_teacher", "teacher")}


DEFAULT_ROLE_TITLES: dict[str, tuple[str, ...]] = _default_titles()


@dataclass(frozen=True, config=_STRICT)
class TrustConfig:
    anchors: ConfPaths = ()
    # Untrusted intermediates offered to path building (e.g. VGCA sub-CAs).
    intermediates: ConfPaths = ()
    # Shipped trust bundles (CONTRACT 9): "vn" = config/trust/vn (NEAC, VGCA, licensed CAs).
    bundles: Strings = ()


@dataclass(frozen=True, config=_STRICT)
class RevocationConfig:
    mode: RevocationMode = "require"
    timeout: Float = 10.0
    # Fetch OCSP/CRL online when embedded data does not settle the status.
    online: Bool = True


@dataclass(frozen=True, config=_STRICT)
class TimestampConfig:
    url: Str | None = None
    timeout: Float = 10.0
    # Requests of a signing batch in flight at once (CONTRACT 10), retries after a timeout,
    # a connection error or a 5xx answer, and the first retry's delay (doubled each time).
    concurrency: Int = 8
    retries: Int = 3
    backoff: Float = 0.5


@dataclass(frozen=True, config=_STRICT)
class PolicyConfig:
    required_roles: Roles = (Role.TEACHER, Role.PRINCIPAL)
    min_rsa_bits: Int = 2048
    min_ec_bits: Int = 256
    # Role recognition from the certificate's title attribute (CONTRACT 8).
    principal_titles: Strings = DEFAULT_ROLE_TITLES["principal"]
    subject_teacher_titles: Strings = DEFAULT_ROLE_TITLES["subject_teacher"]
    teacher_titles: Strings = DEFAULT_ROLE_TITLES["teacher"]


ROLE_SOURCES: tuple[RoleSource, ...] = ("certificate", "registry", "seal")


@dataclass(frozen=True, config=_STRICT)
class RolesConfig:
    """Where a signer's role may come from (CONTRACT 8), tried in this order."""

    sources: Annotated[tuple[RoleSource, ...], BeforeValidator(_to_tuple)] = ROLE_SOURCES
    # Role registry CSV (sha256,role,school_code,valid_from,valid_to), relative to this file.
    registry: ConfPath | None = None


@dataclass(frozen=True, config=_STRICT)
class SigningConfig:
    # RSA padding for XAdES (and PAdES) signatures: "pkcs1v15" (default) or "pss".
    rsa_padding: Literal["pkcs1v15", "pss"] = "pkcs1v15"
    digest: Literal["sha256", "sha384", "sha512"] = "sha256"
    # Key files by role, used by `hocba demo` and as defaults for `hocba sign`.
    teacher_key: ConfPath | None = None
    principal_key: ConfPath | None = None
    seal_key: ConfPath | None = None
    subject_teacher_key: ConfPath | None = None


@dataclass(frozen=True, config=_STRICT)
class LimitsConfig:
    max_file_mb: Float = 20.0
    max_signatures: Int = 32
    max_revisions: Int = 64
    max_xml_depth: Int = 64
    max_zip_entries: Int = 1000
    max_zip_total_mb: Float = 200.0
    max_zip_ratio: Float = 100.0
    request_timeout: Float = 120.0


@dataclass(frozen=True, config=_STRICT)
class ServicesConfig:
    """The demo/test trust services (certomancer) this config was generated with."""

    certomancer: ConfPath | None = None
    host: Str = "127.0.0.1"
    port: Int = 8731


@dataclass(frozen=True, config=_STRICT)
class TwostepConfig:
    """The two-step signing service (issue 9): prepare, the key holder signs, finish."""

    # Bearer token the school system presents; the service refuses to start without one.
    token: Str | None = None
    # Where prepared batches are kept between prepare and finish (default: a
    # "hocba-twostep" directory next to this configuration file).
    state_dir: ConfPath | None = None
    batch_ttl_minutes: Float = 1440.0
    # Where the state lives: None = the filesystem (state_dir); "redis://host:port/db" lets
    # several service instances share prepared batches.
    store: Str | None = None


@dataclass(frozen=True, config=_STRICT)
class ReportConfig:
    """ETSI TS 119 102-2 validation reports (issue 17): signed by the verifier when a
    key is configured (PKCS#12 file, or a PKCS#11 token like `hocba sign`). PIN from
    $HOCBA_REPORT_PIN, else $HOCBA_PIN."""

    signing_key: ConfPath | None = None
    pkcs11_module: Str | None = None
    token_label: Str | None = None
    key_label: Str | None = None
    # B-T (a signature timestamp from timestamp.url, the default) or B-B.
    level: Literal["B-B", "B-T"] = "B-T"


@dataclass(frozen=True, config=_STRICT)
class JobsConfig:
    """Bulk verification jobs (CONTRACT 10): Celery on a Redis broker; no broker = disabled."""

    broker: Str | None = None
    # Uploaded files and their results are deleted after this many hours.
    result_ttl_hours: Float = 24.0
    # Seconds after which the messages of a worker that vanished (host down, SIGKILL) are
    # delivered again; None = max(300, 2 x (limits.request_timeout + 30)).
    # $HOCBA_JOBS_VISIBILITY_TIMEOUT, when set, overrides it (verifier/jobs/engine.py).
    visibility_timeout_seconds: Int | None = None


@dataclass(frozen=True, config=_STRICT)
class Config:
    trust: TrustConfig = field(default_factory=TrustConfig)
    revocation: RevocationConfig = field(default_factory=RevocationConfig)
    timestamp: TimestampConfig = field(default_factory=TimestampConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    roles: RolesConfig = field(default_factory=RolesConfig)
    signing: SigningConfig = field(default_factory=SigningConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    services: ServicesConfig = field(default_factory=ServicesConfig)
    twostep: TwostepConfig = field(default_factory=TwostepConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    source: ConfPath | None = None

    def with_overrides(self, **sections: Any) -> "Config":
        return dataclasses.replace(self, **sections)


_SECTIONS: dict[str, type] = {
    "trust": TrustConfig,
    "revocation": RevocationConfig,
    "timestamp": TimestampConfig,
    "policy": PolicyConfig,
    "roles": RolesConfig,
    "signing": SigningConfig,
    "limits": LimitsConfig,
    "services": ServicesConfig,
    "twostep": TwostepConfig,
    "report": ReportConfig,
    "jobs": JobsConfig,
}


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load ``path``, else ``$HOCBA_CONFIG``, else the built-in defaults."""
    if path is None:
        env = os.environ.get("HOCBA_CONFIG")
        if not env:
            return Config()
        path = env
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError("config.err.file_not_found", file=file) from None
    except OSError as e:
        raise ConfigError("config.err.file_unreadable", file=file,
                          detail=e.strerror or str(e)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError("config.err.not_toml", file=file, detail=str(e)) from None
    return parse_config(data, file)


def parse_config(data: Mapping[str, Any], file: Path) -> Config:
    base = file.resolve().parent
    try:
        cfg = _ADAPTER.validate_python({**data, "source": file.resolve()},
                                       context={"base": base})
    except ValidationError as e:
        raise _explain(e, file) from None
    _check(cfg, file, explicit_trust="trust" in data)
    return cfg


_ADAPTER: TypeAdapter[Config] = TypeAdapter(Config)

# What a value must be, by pydantic error type: the message's key (config.err.type.*).
_EXPECTED: dict[str, str] = {
    "string_type": "string",
    "bool_type": "bool",
    "int_type": "int",
    "float_type": "float",
    "tuple_type": "list",
    "is_instance_of": "path",
    "path_type": "path",
    "enum": "role",
}


def _explain(e: ValidationError, file: Path) -> ConfigError:
    """The first problem of a failed validation, naming the key and the file."""
    err = e.errors(include_url=False)[0]
    loc = [str(x) for x in err["loc"] if not isinstance(x, int)]
    kind = err["type"]
    got = err.get("input")
    key = ".".join(loc)
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        if len(loc) == 1:
            return ConfigError("config.err.unknown_section", file=file, key=key,
                               known=", ".join(sorted(_SECTIONS)))
        section = _SECTIONS.get(loc[0])
        known = ", ".join(sorted(f.name for f in dataclasses.fields(section))) if section else "?"
        return ConfigError("config.err.unknown_key", file=file, key=key, known=known)
    if len(loc) == 1 and kind in ("dataclass_type", "dict_type", "dataclass_exact_type"):
        return ConfigError("config.err.not_table", file=file, key=key)
    if kind == "literal_error":
        # pydantic's "'a', 'b' or 'c'": the values themselves, without its English "or"
        expected = str((err.get("ctx") or {}).get("expected", "?")).replace(" or ", ", ")
        return ConfigError("config.err.not_one_of", file=file, key=key, expected=expected,
                           got=repr(got))
    if kind == "value_error":
        role = _unknown_role(got)
        if role is not None:
            return ConfigError("config.err.unknown_role", file=file, key=key, role=repr(role),
                               known=", ".join(r.value for r in Role))
        why = (err.get("ctx") or {}).get("error", err["msg"])
        return ConfigError("config.err.bad_value", file=file, key=key, detail=str(why))
    name = _EXPECTED.get(kind, "other")
    if kind == "tuple_type" and len(loc) == 2 and loc[0] in _SECTIONS:
        ann = {f.name: str(f.type) for f in dataclasses.fields(_SECTIONS[loc[0]])}.get(loc[1], "")
        if "Path" in ann:
            name = "paths"
        elif "Str" in ann or "Role" in ann:
            name = "strings"
    return ConfigError("config.err.type." + name, file=file, key=key, got=repr(got))


def _unknown_role(value: Any) -> str | None:
    """The first value of a role list that is not a role (``None``: no such value)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if isinstance(v, str):
            try:
                Role.parse(v)
            except ValueError:
                return v
    return None


def _check(cfg: Config, file: Path, explicit_trust: bool) -> None:
    if explicit_trust and not cfg.trust.anchors and not cfg.trust.bundles:
        raise ConfigError("config.err.no_anchors", file=file)
    from ground.bundles import UnknownBundle, bundle_files

    for name in cfg.trust.bundles:
        try:
            bundle_files(name)
        except UnknownBundle as e:
            raise ConfigError("config.err.bundle", file=file, cause=e) from None
    if cfg.roles.registry is not None:
        from ground.registry import RegistryError, load_registry

        try:
            load_registry(cfg.roles.registry)
        except RegistryError as e:
            raise ConfigError("config.err.registry", file=file, cause=e) from None
    for key, paths in (("anchors", cfg.trust.anchors), ("intermediates", cfg.trust.intermediates)):
        for p in paths:
            _check_certificate_file(p, f"trust.{key}", file)
    if cfg.report.signing_key is not None and not cfg.report.signing_key.is_file():
        raise ConfigError("config.err.missing_file", file=file, key="report.signing_key",
                          path=cfg.report.signing_key)
    if cfg.report.level == "B-T" and (cfg.report.signing_key or cfg.report.pkcs11_module) \
            and not cfg.timestamp.url:
        raise ConfigError("config.err.b_t_needs_tsa", file=file)
    vt = cfg.jobs.visibility_timeout_seconds
    if vt is not None and vt < 1:
        raise ConfigError("config.err.visibility_timeout", file=file, value=vt)
    if cfg.services.certomancer is not None and not cfg.services.certomancer.is_file():
        raise ConfigError("config.err.missing_file", file=file, key="services.certomancer",
                          path=cfg.services.certomancer)
    for role in ("teacher", "principal", "seal", "subject_teacher"):
        p = getattr(cfg.signing, f"{role}_key")
        if p is not None and not p.is_file():
            raise ConfigError("config.err.missing_file", file=file, key=f"signing.{role}_key",
                              path=p)


def _check_certificate_file(p: Path, key: str, file: Path) -> None:
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError("config.err.missing_file", file=file, key=key, path=p) from None
    except OSError as e:
        raise ConfigError("config.err.unreadable_file", file=file, key=key, path=p,
                          detail=e.strerror or str(e)) from None
    from ground.certificates import NotACertificate, parse_certificates

    try:
        certs = parse_certificates(data)
    except NotACertificate:
        certs = []
    if not certs:
        raise ConfigError("config.err.not_certificate", file=file, key=key, path=p)

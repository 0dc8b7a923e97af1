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

DEFAULT_ROLE_TITLES: dict[str, tuple[str, ...]] = {
    # CONTRACT 8: tried in this order; matching is case-insensitive on NFC text.
    "principal": ("Hiệu trưởng", "Principal"),
    "subject_teacher": ("Giáo viên bộ môn",),
    "teacher": ("Giáo viên", "Teacher"),
}


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
        raise ConfigError(f"{file}: không tìm thấy tệp cấu hình — configuration file not found"
                          ) from None
    except OSError as e:
        raise ConfigError(f"{file}: không đọc được tệp cấu hình — cannot read configuration: "
                          f"{e.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{file}: không phải TOML hợp lệ — not valid TOML: {e}") from None
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

# What a value must be, by pydantic error type: (Vietnamese, English).
_EXPECTED: dict[str, tuple[str, str]] = {
    "string_type": ("chuỗi", "a string"),
    "bool_type": ("true hoặc false", "true or false"),
    "int_type": ("số nguyên", "an integer"),
    "float_type": ("số", "a number"),
    "tuple_type": ("danh sách", "a list"),
    "is_instance_of": ("đường dẫn (chuỗi)", "a path string"),
    "path_type": ("đường dẫn (chuỗi)", "a path string"),
    "enum": ("một vai trò", "a role"),
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
            known = ", ".join(sorted(_SECTIONS))
            return ConfigError(f"{file}: không có mục [{key}] — unknown section [{key}] "
                               f"(known: {known})")
        section = _SECTIONS.get(loc[0])
        known = ", ".join(sorted(f.name for f in dataclasses.fields(section))) if section else "?"
        return ConfigError(f"{file}: không có khoá {key} — unknown key {key} (known: {known})")
    if len(loc) == 1 and kind in ("dataclass_type", "dict_type", "dataclass_exact_type"):
        return ConfigError(f"{file}: [{key}] phải là một bảng — [{key}] must be a table")
    if kind == "literal_error":
        expected = str((err.get("ctx") or {}).get("expected", "?"))
        expected_vi = expected.replace(" or ", " hoặc ")
        return ConfigError(f"{file}: {key} phải là {expected_vi}, không phải {got!r} — "
                           f"{key} must be one of {expected}, got {got!r}")
    if kind == "value_error":
        why = str((err.get("ctx") or {}).get("error", err["msg"]))
        return ConfigError(f"{file}: {key}: giá trị không hợp lệ — {why}")
    vi, en = _EXPECTED.get(kind, ("giá trị hợp lệ", "a valid value"))
    if kind == "tuple_type" and len(loc) == 2 and loc[0] in _SECTIONS:
        ann = {f.name: str(f.type) for f in dataclasses.fields(_SECTIONS[loc[0]])}.get(loc[1], "")
        if "Path" in ann:
            vi, en = "danh sách đường dẫn", "a list of path strings"
        elif "Str" in ann or "Role" in ann:
            vi, en = "danh sách chuỗi", "a list of strings"
    return ConfigError(f"{file}: [{key}] phải là {vi}, không phải {got!r} — "
                       f"[{key}] must be {en}, got {got!r}")


def _check(cfg: Config, file: Path, explicit_trust: bool) -> None:
    if explicit_trust and not cfg.trust.anchors and not cfg.trust.bundles:
        raise ConfigError(f"{file}: trust.anchors trống, cần ít nhất một chứng thư gốc — "
                          "trust.anchors is empty: the trust store needs at least one anchor"
                          " (or a shipped bundle: trust.bundles = [\"vn\"])")
    from ground.bundles import UnknownBundle, bundle_files

    for name in cfg.trust.bundles:
        try:
            bundle_files(name)
        except UnknownBundle as e:
            raise ConfigError(f"{file}: trust.bundles: không có bộ chứng thư này — {e}"
                              ) from None
    if cfg.roles.registry is not None:
        from ground.registry import RegistryError, load_registry

        try:
            load_registry(cfg.roles.registry)
        except RegistryError as e:
            raise ConfigError(f"{file}: roles.registry: danh sách vai trò không hợp lệ — {e}"
                              ) from None
    for key, paths in (("anchors", cfg.trust.anchors), ("intermediates", cfg.trust.intermediates)):
        for p in paths:
            _check_certificate_file(p, f"trust.{key}", file)
    if cfg.report.signing_key is not None and not cfg.report.signing_key.is_file():
        raise ConfigError(f"{file}: report.signing_key: không tìm thấy tệp — file not found: "
                          f"{cfg.report.signing_key}")
    if cfg.report.level == "B-T" and (cfg.report.signing_key or cfg.report.pkcs11_module) \
            and not cfg.timestamp.url:
        raise ConfigError(f"{file}: report.level B-T cần timestamp.url — report.level B-T "
                          "needs timestamp.url (or report.level = 'B-B')")
    vt = cfg.jobs.visibility_timeout_seconds
    if vt is not None and vt < 1:
        raise ConfigError(f"{file}: jobs.visibility_timeout_seconds phải từ 1 trở lên — must be "
                          f"at least 1 (seconds), got {vt}")
    if cfg.services.certomancer is not None and not cfg.services.certomancer.is_file():
        raise ConfigError(f"{file}: services.certomancer: không tìm thấy tệp — file not found: "
                          f"{cfg.services.certomancer}")
    for role in ("teacher", "principal", "seal", "subject_teacher"):
        p = getattr(cfg.signing, f"{role}_key")
        if p is not None and not p.is_file():
            raise ConfigError(f"{file}: signing.{role}_key: không tìm thấy tệp — file not "
                              f"found: {p}")


def _check_certificate_file(p: Path, key: str, file: Path) -> None:
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{file}: {key}: không tìm thấy tệp — file not found: {p}") from None
    except OSError as e:
        raise ConfigError(f"{file}: {key}: không đọc được tệp — cannot read {p}: {e.strerror}"
                          ) from None
    from ground.certificates import NotACertificate, parse_certificates

    try:
        certs = parse_certificates(data)
    except NotACertificate:
        certs = []
    if not certs:
        raise ConfigError(f"{file}: {key}: không phải chứng thư PEM hay DER — not a PEM or DER "
                          f"certificate: {p}")

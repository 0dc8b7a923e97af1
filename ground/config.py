"""Configuration: ``hocba.toml`` read into frozen dataclasses (CONTRACT 8).

Every key is known; an unknown key, a wrong type, a missing file or an unreadable
trust anchor is a :class:`ConfigError` naming the key and the file. Paths are
resolved relative to the configuration file.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ground.errors import ConfigError
from ground.vocab import Role

REVOCATION_MODES = ("require", "soft-fail", "off")

DEFAULT_ROLE_TITLES: dict[str, tuple[str, ...]] = {
    # CONTRACT 8: tried in this order; matching is case-insensitive on NFC text.
    "principal": ("Hiệu trưởng", "Principal"),
    "subject_teacher": ("Giáo viên bộ môn",),
    "teacher": ("Giáo viên", "Teacher"),
}


@dataclass(frozen=True)
class TrustConfig:
    anchors: tuple[Path, ...] = ()
    # Untrusted intermediates offered to path building (e.g. VGCA sub-CAs).
    intermediates: tuple[Path, ...] = ()
    # Shipped trust bundles (CONTRACT 9): "vn" = config/trust/vn (NEAC, VGCA, licensed CAs).
    bundles: tuple[str, ...] = ()


@dataclass(frozen=True)
class RevocationConfig:
    mode: str = "require"
    timeout: float = 10.0
    # Fetch OCSP/CRL online when embedded data does not settle the status.
    online: bool = True


@dataclass(frozen=True)
class TimestampConfig:
    url: str | None = None
    timeout: float = 10.0
    # Requests of a signing batch in flight at once (CONTRACT 10), retries after a timeout,
    # a connection error or a 5xx answer, and the first retry's delay (doubled each time).
    concurrency: int = 8
    retries: int = 3
    backoff: float = 0.5


@dataclass(frozen=True)
class PolicyConfig:
    required_roles: tuple[str, ...] = ("teacher", "principal")
    min_rsa_bits: int = 2048
    min_ec_bits: int = 256
    # Role recognition from the certificate's title attribute (CONTRACT 8).
    principal_titles: tuple[str, ...] = DEFAULT_ROLE_TITLES["principal"]
    subject_teacher_titles: tuple[str, ...] = DEFAULT_ROLE_TITLES["subject_teacher"]
    teacher_titles: tuple[str, ...] = DEFAULT_ROLE_TITLES["teacher"]


ROLE_SOURCES = ("certificate", "registry", "seal")


@dataclass(frozen=True)
class RolesConfig:
    """Where a signer's role may come from (CONTRACT 8), tried in this order."""

    sources: tuple[str, ...] = ROLE_SOURCES
    # Role registry CSV (sha256,role,school_code,valid_from,valid_to), relative to this file.
    registry: Path | None = None


@dataclass(frozen=True)
class SigningConfig:
    # RSA padding for XAdES (and PAdES) signatures: "pkcs1v15" (default) or "pss".
    rsa_padding: str = "pkcs1v15"
    digest: str = "sha256"
    # Key files by role, used by `hocba demo` and as defaults for `hocba sign`.
    teacher_key: Path | None = None
    principal_key: Path | None = None
    seal_key: Path | None = None
    subject_teacher_key: Path | None = None


@dataclass(frozen=True)
class LimitsConfig:
    max_file_mb: float = 20.0
    max_signatures: int = 32
    max_revisions: int = 64
    max_xml_depth: int = 64
    max_zip_entries: int = 1000
    max_zip_total_mb: float = 200.0
    max_zip_ratio: float = 100.0
    request_timeout: float = 120.0


@dataclass(frozen=True)
class ServicesConfig:
    """The demo/test trust services (certomancer) this config was generated with."""

    certomancer: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8731


@dataclass(frozen=True)
class TwostepConfig:
    """The two-step signing service (issue 9): prepare, the key holder signs, finish."""

    # Bearer token the school system presents; the service refuses to start without one.
    token: str | None = None
    # Where prepared batches are kept between prepare and finish (default: a
    # "hocba-twostep" directory next to this configuration file).
    state_dir: Path | None = None
    batch_ttl_minutes: float = 1440.0
    # Where the state lives: None = the filesystem (state_dir); "redis://host:port/db" lets
    # several service instances share prepared batches.
    store: str | None = None


@dataclass(frozen=True)
class ReportConfig:
    """ETSI TS 119 102-2 validation reports (issue 17): signed by the verifier when a
    key is configured (PKCS#12 file, or a PKCS#11 token like `hocba sign`). PIN from
    $HOCBA_REPORT_PIN, else $HOCBA_PIN."""

    signing_key: Path | None = None
    pkcs11_module: str | None = None
    token_label: str | None = None
    key_label: str | None = None
    # B-T (a signature timestamp from timestamp.url, the default) or B-B.
    level: str = "B-T"


@dataclass(frozen=True)
class JobsConfig:
    """Bulk verification jobs (CONTRACT 10): Celery on a Redis broker; no broker = disabled."""

    broker: str | None = None
    # Uploaded files and their results are deleted after this many hours.
    result_ttl_hours: float = 24.0


@dataclass(frozen=True)
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
    source: Path | None = None

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


def _convert(value: Any, annotation: str, key: str, file: Path, base: Path) -> Any:
    def bad(expected: str, expected_vi: str) -> ConfigError:
        return ConfigError(f"{file}: [{key}] phải là {expected_vi}, không phải {value!r} — "
                           f"[{key}] must be {expected}, got {value!r}")

    ann = annotation.replace(" ", "")
    if ann == "str":
        if not isinstance(value, str):
            raise bad("a string", "chuỗi")
        return value
    if ann == "str|None":
        if not isinstance(value, str):
            raise bad("a string", "chuỗi")
        return value
    if ann == "bool":
        if not isinstance(value, bool):
            raise bad("true or false", "true hoặc false")
        return value
    if ann == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an integer", "số nguyên")
        return value
    if ann == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise bad("a number", "số")
        return float(value)
    if ann == "tuple[str,...]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings", "danh sách chuỗi")
        return tuple(value)
    if ann in ("Path|None", "Path"):
        if not isinstance(value, str):
            raise bad("a path string", "đường dẫn (chuỗi)")
        return (base / value).resolve()
    if ann == "tuple[Path,...]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of path strings", "danh sách đường dẫn")
        return tuple((base / v).resolve() for v in value)
    raise AssertionError(f"unhandled config type {annotation}")  # pragma: no cover


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
    sections: dict[str, Any] = {}
    for name, table in data.items():
        cls = _SECTIONS.get(name)
        if cls is None:
            raise ConfigError(
                f"{file}: không có mục [{name}] — unknown section [{name}] "
                f"(known: {', '.join(sorted(_SECTIONS))})"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{file}: [{name}] phải là một bảng — [{name}] must be a table")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in table.items():
            f = fields.get(key)
            if f is None:
                raise ConfigError(
                    f"{file}: không có khoá {name}.{key} — unknown key {name}.{key} "
                    f"(known: {', '.join(sorted(fields))})"
                )
            kwargs[key] = _convert(value, str(f.type), f"{name}.{key}", file, base)
        sections[name] = cls(**kwargs)
    cfg = Config(**sections, source=file.resolve())
    _check(cfg, file, explicit_trust="trust" in data)
    return cfg


def _check(cfg: Config, file: Path, explicit_trust: bool) -> None:
    if cfg.revocation.mode not in REVOCATION_MODES:
        raise ConfigError(
            f"{file}: revocation.mode phải là {', '.join(REVOCATION_MODES)} — "
            f"revocation.mode must be one of {', '.join(REVOCATION_MODES)},"
            f" got {cfg.revocation.mode!r}"
        )
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
    for src in cfg.roles.sources:
        if src not in ROLE_SOURCES:
            raise ConfigError(f"{file}: roles.sources: không có nguồn {src!r} — unknown "
                              f"source {src!r} (known: {', '.join(ROLE_SOURCES)})")
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
    for role in cfg.policy.required_roles:
        try:
            Role.parse(role)
        except ValueError as e:
            raise ConfigError(f"{file}: policy.required_roles: vai trò không hợp lệ — {e}"
                              ) from None
    if cfg.report.level not in ("B-B", "B-T"):
        raise ConfigError(f"{file}: report.level phải là 'B-B' hoặc 'B-T' — report.level must "
                          f"be 'B-B' or 'B-T', got {cfg.report.level!r}")
    if cfg.report.signing_key is not None and not cfg.report.signing_key.is_file():
        raise ConfigError(f"{file}: report.signing_key: không tìm thấy tệp — file not found: "
                          f"{cfg.report.signing_key}")
    if cfg.report.level == "B-T" and (cfg.report.signing_key or cfg.report.pkcs11_module) \
            and not cfg.timestamp.url:
        raise ConfigError(f"{file}: report.level B-T cần timestamp.url — report.level B-T "
                          "needs timestamp.url (or report.level = 'B-B')")
    if cfg.signing.rsa_padding not in ("pkcs1v15", "pss"):
        raise ConfigError(f"{file}: signing.rsa_padding phải là 'pkcs1v15' hoặc 'pss' — "
                          "signing.rsa_padding must be 'pkcs1v15' or 'pss'")
    if cfg.signing.digest not in ("sha256", "sha384", "sha512"):
        raise ConfigError(f"{file}: signing.digest phải là sha256, sha384 hoặc sha512 — "
                          "signing.digest must be sha256, sha384 or sha512")
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

"""ETSI TS 119 102-2 validation reports (issue 17): schema-valid against the official
schema set (../shared/schemas/etsi, offline), the same verdicts as the JSON report,
the validation objects listed, and signed reports that verify in xmlsec1, signxml and
hocba itself."""
from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from certs.pki import PkiLayout
from ground.config import Config, load_config
from ground.policy import Policy
from ground.vocab import Indication
from tests.signing import sign_one
from tests.tooling import require_path, require_tool
from verifier.core import Verifier
from verifier.etsi import MAIN, render_report
from verifier.report import Report

pytestmark = pytest.mark.slow

NS = {"vr": "http://uri.etsi.org/19102/v1.2.1#", "ds": "http://www.w3.org/2000/09/xmldsig#",
      "xades": "http://uri.etsi.org/01903/v1.3.2#"}
SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "etsi"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    main = require_path(SCHEMAS / "1910202xmlSchema.xsd", "ETSI schema set (../shared/schemas/etsi)")

    class NoNetwork(etree.Resolver):
        def resolve(self, url: str, pubid: str, context: object) -> object:
            if "://" in url and not url.startswith("file:"):
                raise AssertionError(f"schema tried to fetch {url}")
            return None

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(NoNetwork())
    return etree.XMLSchema(etree.parse(str(main), parser))


@pytest.fixture(scope="module")
def records(base_pdf: bytes, test_config: Config, test_pki: PkiLayout,
            trust_services: object, sign_pdf: Callable[..., bytes]) -> dict[str, bytes]:
    """The project's own records: B-T, B-LTA (offline later), renewed; plus attacks."""
    from signer.renew import renew
    from tests.verifier._xml_fixtures import record_xml

    def chain(data: bytes, seal_level: str) -> bytes:
        d = sign_one(test_config, test_pki, data, "teacher", level="B-T")
        d = sign_one(test_config, test_pki, d, "principal", level="B-T")
        return sign_one(test_config, test_pki, d, "seal", level=seal_level)

    out = {
        "bt.pdf": sign_one(test_config, test_pki,
                           sign_one(test_config, test_pki, base_pdf, "teacher"), "principal"),
        "lta.pdf": chain(base_pdf, "B-LTA"),
        "lta.xml": chain(record_xml(), "B-LTA"),
        "bt.xml": sign_one(test_config, test_pki,
                           sign_one(test_config, test_pki, record_xml(), "teacher"), "principal"),
        "revoked.pdf": sign_pdf(base_pdf, "teacher_revoked", "teacher"),
        "untrusted.pdf": sign_pdf(base_pdf, "rogue_teacher", "teacher"),
        "teacher_only.pdf": sign_one(test_config, test_pki, base_pdf, "teacher"),
    }
    out["renewed.pdf"] = renew(out["lta.pdf"], test_config)
    out["renewed.xml"] = renew(out["lta.xml"], test_config)
    # tampered: one byte of the signed page content changed
    data = bytearray(out["bt.pdf"])
    i = data.index(b"/HocbaStudent")
    data[i + 16] ^= 0x01
    out["tampered.pdf"] = bytes(data)
    out["tampered.xml"] = out["bt.xml"].replace("Nguyễn Văn An".encode(), "Nguyễn Văn Ân".encode(), 1)
    return out


def _verifier(cfg: Config) -> Verifier:
    return Verifier(Policy.from_config(cfg))


def _check(schema: etree.XMLSchema, report: Report) -> etree._Element:
    data = render_report(report)
    doc = etree.fromstring(data)
    assert schema.validate(doc), schema.error_log
    # the verdicts are the JSON report's, signature by signature, in the same order
    main = [e.text for e in doc.iterfind(
        "vr:SignatureValidationReport/vr:SignatureValidationStatus/vr:MainIndication", NS)]
    sigs = [s for s in report.signatures if not s.is_document_timestamp]
    assert main == [MAIN[s.indication] for s in sigs] or (not sigs and main == [MAIN[report.indication]])
    subs = [[x.text for x in e.iterfind("vr:SubIndication", NS)] for e in doc.iterfind(
        "vr:SignatureValidationReport/vr:SignatureValidationStatus", NS)]
    if sigs:
        assert subs == [[f"urn:etsi:019102:subindication:{s.subindication.value}"]
                        if s.subindication else [] for s in sigs]
    # the record verdict rides along as a constraint of every signature
    for sr in doc.iterfind("vr:SignatureValidationReport", NS):
        ids = {c.findtext("vr:ValidationConstraintIdentifier", namespaces=NS): c.findtext(
            "vr:ValidationStatus/vr:MainIndication", namespaces=NS)
            for c in sr.iterfind(".//vr:ValidationConstraint", NS)}
        if sigs:
            assert ids["urn:hocba:validation-constraint:record_policy"] == MAIN[report.indication]
        for c in report.checks:
            want = MAIN[Indication.TOTAL_PASSED if c.passed else c.indication]
            assert ids[f"urn:hocba:validation-constraint:{c.name}"] == want, c.name
    return doc


def _objects(doc: etree._Element) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in doc.iterfind(".//vr:SignatureValidationObjects/vr:ValidationObject/vr:ObjectType", NS):
        k = (e.text or "").rsplit(":", 1)[1]
        out[k] = out.get(k, 0) + 1
    return out


@pytest.mark.parametrize("name", ["bt.pdf", "bt.xml", "lta.pdf", "lta.xml", "renewed.pdf",
                                  "renewed.xml"])
def test_own_records_give_schema_valid_reports_with_their_validation_objects(
        name: str, records: dict[str, bytes], test_config: Config, schema: etree.XMLSchema) -> None:
    offline = Verifier(Policy.from_config(test_config).replace(online=False))
    v = offline if "lta" in name or "renewed" in name else _verifier(test_config)
    r = v.verify(records[name], name=name)
    assert r.indication is Indication.TOTAL_PASSED, r.to_dict("en")
    doc = _check(schema, r)
    objs = _objects(doc)
    # the signers' chains (signer, CA, root), their revocation data and the timestamps
    assert objs.get("certificate", 0) >= 3 and objs.get("timestamp", 0) >= 2, objs
    assert objs.get("OCSPResponse", 0) + objs.get("CRL", 0) >= 1, objs
    # every VOReference points at a listed object
    ids = {e.get("id") for e in doc.iterfind(".//vr:ValidationObject", NS)}
    refs = {r for e in doc.iter() for r in (e.get("VOReference") or "").split()}
    assert refs and refs <= ids, refs - ids
    # the trust anchor is named in the chain of each signature
    for sr in doc.iterfind("vr:SignatureValidationReport", NS):
        assert sr.find(".//vr:CertificateChain/vr:TrustAnchor", NS) is not None
        assert sr.find("vr:ValidationTimeInfo/vr:BestSignatureTime/vr:POEObject", NS) is not None
    if name.endswith(".pdf") and "lta" in name:
        # the document timestamp is a timestamp object with its own validation report
        assert doc.find(".//vr:ValidationObject/vr:ValidationReport", NS) is not None


@pytest.mark.parametrize("name,indication", [
    ("tampered.pdf", "TOTAL_FAILED"), ("tampered.xml", "TOTAL_FAILED"),
    ("revoked.pdf", "TOTAL_FAILED"), ("untrusted.pdf", "INDETERMINATE"),
])
def test_reports_of_attacked_records_are_schema_valid_and_say_so(
        name: str, indication: str, records: dict[str, bytes], test_config: Config,
        schema: etree.XMLSchema) -> None:
    r = _verifier(test_config).verify(records[name], name=name)
    assert r.indication.value == indication, r.to_dict("en")
    _check(schema, r)


def test_valid_signature_of_incomplete_record_shows_the_failed_record_constraint(
        records: dict[str, bytes], test_config: Config, schema: etree.XMLSchema) -> None:
    r = _verifier(test_config).verify(records["teacher_only.pdf"], name="t.pdf")
    assert r.signatures[0].indication is Indication.TOTAL_PASSED
    assert r.indication is not Indication.TOTAL_PASSED
    doc = _check(schema, r)
    sr = doc.find("vr:SignatureValidationReport", NS)
    assert sr is not None
    assert sr.findtext("vr:SignatureValidationStatus/vr:MainIndication", namespaces=NS) \
        == MAIN[Indication.TOTAL_PASSED]
    req = [c for c in sr.iterfind(".//vr:ValidationConstraint", NS) if c.findtext(
        "vr:ValidationConstraintIdentifier", namespaces=NS).endswith(":required_roles")]
    assert req and req[0].findtext("vr:ValidationStatus/vr:MainIndication", namespaces=NS) \
        != MAIN[Indication.TOTAL_PASSED]


def test_unsigned_and_garbage_files_still_get_a_schema_valid_report(
        base_pdf: bytes, test_config: Config, schema: etree.XMLSchema) -> None:
    v = _verifier(test_config)
    for data in (base_pdf, b"%PDF-1.7\n garbage", b"<a><b/></a>"):
        r = v.verify(data, name="x")
        _check(schema, r)


def test_cli_writes_one_report_per_file(records: dict[str, bytes], test_pki: PkiLayout,
                                       tmp_path: Path, schema: etree.XMLSchema) -> None:
    files = []
    for name in ("bt.pdf", "tampered.xml"):
        p = tmp_path / name
        p.write_bytes(records[name])
        files.append(str(p))
    out = tmp_path / "etsi"
    r = subprocess.run([sys.executable, "-m", "hocba", "verify", "--config", str(test_pki.config),
                        "--format", "json", "--report-etsi", str(out), *files],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    reports = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(p.name for p in out.iterdir()) == ["bt.pdf.validation-report.xml",
                                                     "tampered.xml.validation-report.xml"]
    for rep in reports:
        doc = etree.parse(str(out / f"{Path(rep['file']).name}.validation-report.xml"))
        assert schema.validate(doc), schema.error_log
        main = doc.getroot().findtext(
            "vr:SignatureValidationReport/vr:SignatureValidationStatus/vr:MainIndication",
            namespaces=NS)
        assert main == MAIN[Indication(rep["signatures"][0]["indication"])]


def test_api_format_etsi_answers_the_report(records: dict[str, bytes], test_pki: PkiLayout,
                                           schema: etree.XMLSchema,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier.app import create_app

    monkeypatch.setenv("HOCBA_CONFIG", str(test_pki.config))
    client = create_app().test_client()
    res = client.post("/api/v1/verify?format=etsi", data=records["bt.pdf"],
                      content_type="application/pdf")
    assert res.status_code == 200 and res.mimetype == "application/xml"
    doc = etree.fromstring(res.data)
    assert schema.validate(doc), schema.error_log
    two = client.post("/api/v1/verify?format=etsi", data={"file": [
        (io.BytesIO(records["bt.pdf"]), "a.pdf"), (io.BytesIO(records["bt.xml"]), "b.xml")]},
        content_type="multipart/form-data")
    assert two.status_code == 400 and two.is_json and "error" in two.get_json()
    bad = client.post("/api/v1/verify?format=docx", data=records["bt.pdf"],
                      content_type="application/pdf")
    assert bad.status_code == 400 and bad.is_json


@pytest.fixture(scope="module")
def signed_report(records: dict[str, bytes], test_pki: PkiLayout, test_config: Config,
                  tmp_path_factory: pytest.TempPathFactory, trust_services: object) -> Path:
    """`hocba verify --report-etsi` with [report] signing_key: the seal's key signs."""
    d = tmp_path_factory.mktemp("signed-report")
    cfg = d / "hocba.toml"
    text = test_pki.config.read_text(encoding="utf-8")
    base = test_pki.config.parent
    # paths of the PKI's config made absolute, plus the report key
    text = text.replace('"trust/', f'"{base}/trust/').replace('"keys/', f'"{base}/keys/') \
        .replace('"pki/', f'"{base}/pki/')
    cfg.write_text(text + f'\n[report]\nsigning_key = "{test_pki.p12("seal")}"\n',
                   encoding="utf-8")
    load_config(cfg)
    f = d / "bt.pdf"
    f.write_bytes(records["bt.pdf"])
    env = {**os.environ, "HOCBA_REPORT_PIN": "123456"}
    r = subprocess.run([sys.executable, "-m", "hocba", "verify", "--config", str(cfg),
                        "--report-etsi", str(d / "out"), str(f)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return d / "out" / "bt.pdf.validation-report.xml"


def test_signed_report_is_schema_valid_and_enveloped(signed_report: Path,
                                                    schema: etree.XMLSchema) -> None:
    doc = etree.parse(str(signed_report))
    assert schema.validate(doc), schema.error_log
    root = doc.getroot()
    last = root[-1]
    assert last.tag == f"{{{NS['ds']}}}Signature"
    assert last.find(".//xades:SignatureTimeStamp", NS) is not None  # B-T


def test_signed_report_verifies_in_xmlsec1(signed_report: Path, test_pki: PkiLayout,
                                          tmp_path: Path) -> None:
    xmlsec1 = require_tool("xmlsec1")
    untrusted = [test_pki.cert("interm")] if test_pki.cert("interm").exists() else []
    args = [xmlsec1, "--verify", "--enabled-reference-uris", "empty,same-doc",
            "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            "--trusted-pem", str(test_pki.anchor)]
    for p in untrusted:
        args += ["--untrusted-pem", str(p)]
    r = subprocess.run([*args, str(signed_report)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # a changed verdict no longer verifies
    forged = tmp_path / "forged.xml"
    forged.write_bytes(signed_report.read_bytes().replace(
        b"mainindication:total-passed", b"mainindication:total-failed", 1))
    r = subprocess.run([*args, str(forged)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0


def test_signed_report_verifies_in_signxml_and_hocba(signed_report: Path, test_pki: PkiLayout,
                                                    test_config: Config) -> None:
    from signxml import XMLVerifier

    data = signed_report.read_bytes()
    root = etree.fromstring(data)
    sig = root.find("ds:Signature", NS)
    assert sig is not None
    res = XMLVerifier().verify(data, ca_pem_file=str(test_pki.anchor), expect_references=2)
    # the enveloped reference covers the whole report
    assert any(r.signed_xml is not None and r.signed_xml.tag == f"{{{NS['vr']}}}ValidationReport"
               for r in res)
    rep = _verifier(dataclasses.replace(test_config, policy=dataclasses.replace(
        test_config.policy, required_roles=()))).verify(data, name="report.xml")
    assert rep.indication is Indication.TOTAL_PASSED, rep.to_dict("en")
    assert rep.signatures[0].timestamp is not None and rep.signatures[0].timestamp.valid
    forged = data.replace(b"mainindication:total-passed", b"mainindication:total-failed", 1)
    assert _verifier(test_config).verify(forged, name="f.xml").indication \
        is Indication.TOTAL_FAILED



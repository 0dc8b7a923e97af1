"""XAdES test helpers: a small hand-written record book and xmlsec1 verification.

Module-local (imported by tests/signer/test_xades*.py) so the PAdES tests in the
same folder keep their own fixtures. The record is written here, in the record
namespace, valid against records/recordbook.xsd and records.rules; once
``records.sample`` lands, tests may switch to it.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from lxml import etree

from ground.vocab import RECORD_NS

RECORD_ID = "HS-99000101-0001"
YEARS = ("2024-2025", "2025-2026")

_QUALITIES = [("YeuNuoc", "Yêu nước"), ("NhanAi", "Nhân ái"), ("ChamChi", "Chăm chỉ"),
              ("TrungThuc", "Trung thực"), ("TrachNhiem", "Trách nhiệm")]
_GENERAL = [("TuChuTuHoc", "Tự chủ và tự học"), ("GiaoTiepHopTac", "Giao tiếp và hợp tác"),
            ("GiaiQuyetVanDeSangTao", "Giải quyết vấn đề và sáng tạo")]
_SPECIFIC = [("NgonNgu", "Ngôn ngữ"), ("TinhToan", "Tính toán"), ("KhoaHoc", "Khoa học"),
             ("CongNghe", "Công nghệ"), ("TinHoc", "Tin học"), ("ThamMi", "Thẩm mĩ"),
             ("TheChat", "Thể chất")]


def _assess(tag: str, items: list[tuple[str, str]]) -> str:
    return "".join(
        f"<{tag}><Ma>{code}</Ma><Ten>{name}</Ten><MucDat>T</MucDat>"
        f"<NhanXet>Thực hiện tốt</NhanXet></{tag}>"
        for code, name in items
    )


def _school() -> str:
    return ("<Truong><TenTruong>Trường Tiểu học Lê Quý Đôn</TenTruong><MaTruong>99000101</MaTruong>"
            "<TinhThanh>Tỉnh Sông Hương</TinhThanh></Truong>")


def _year(school_year: str, grade: int, toan: str) -> str:
    return (
        f'  <NamHoc Id="{RECORD_ID}-{school_year}-v1" schoolYear="{school_year}" '
        f'grade="{grade}" version="1">\n'
        f"    <Lop>{grade}A</Lop>{_school()}<SoNgayNghi>1</SoNgayNghi>\n"
        "    <TieuHoc>\n"
        "      <MonHoc><Ma>TiengViet</Ma><Ten>Tiếng Việt</Ten><MucDat>T</MucDat><Diem>9</Diem>"
        "<NhanXet>Đọc to, rõ ràng</NhanXet></MonHoc>\n"
        f"      <MonHoc><Ma>Toan</Ma><Ten>Toán</Ten><MucDat>T</MucDat><Diem>{toan}</Diem>"
        "<NhanXet>Tính toán nhanh</NhanXet></MonHoc>\n"
        "      <MonHoc><Ma>DaoDuc</Ma><Ten>Đạo đức</Ten><MucDat>T</MucDat>"
        "<NhanXet>Lễ phép</NhanXet></MonHoc>\n"
        f"      <PhamChatChuYeu>{_assess('PhamChat', _QUALITIES)}</PhamChatChuYeu>\n"
        f"      <NangLucChung>{_assess('NangLuc', _GENERAL)}</NangLucChung>\n"
        f"      <NangLucDacThu>{_assess('NangLuc', _SPECIFIC)}</NangLucDacThu>\n"
        "      <KetQuaGiaoDuc>Hoàn thành xuất sắc</KetQuaGiaoDuc>\n"
        "    </TieuHoc>\n"
        "    <LenLop>Được lên lớp</LenLop>\n"
        "    <GiaoVienChuNhiem>Nguyễn Thị Hoa</GiaoVienChuNhiem>\n"
        "    <HieuTruong>Trần Văn Minh</HieuTruong>\n"
        f"    <NgayXacNhan>{school_year[5:]}-05-25</NgayXacNhan>\n"
        "  </NamHoc>\n"
    )


def record_xml(years: tuple[str, ...] = YEARS) -> bytes:
    """A valid primary-school record book with an identity block and ``years`` blocks."""
    body = "".join(_year(y, i + 1, "10" if i else "9.5") for i, y in enumerate(years))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<HocBa xmlns="{RECORD_NS}" Id="{RECORD_ID}">\n'
        f'  <HocSinh Id="{RECORD_ID}-hocsinh">\n'
        "    <HoTen>Nguyễn Văn An</HoTen><GioiTinh>Nam</GioiTinh><NgaySinh>2018-03-14</NgaySinh>\n"
        "    <DanToc>Kinh</DanToc><QuocTich>Việt Nam</QuocTich><NoiSinh>Hương Giang</NoiSinh>\n"
        "    <QueQuan>Hương Giang</QueQuan><NoiO>12 Lê Lợi, Hương Giang</NoiO>\n"
        '    <PhuHuynh quanHe="Mẹ"><HoTen>Trần Thị Bình</HoTen></PhuHuynh>\n'
        "    <SoDinhDanh>046218000123</SoDinhDanh>" + _school() + "\n"
        "    <SoDangBo>15/2024</SoDangBo>\n"
        "  </HocSinh>\n" + body + "</HocBa>\n"
    ).encode("utf-8")


DS = "http://www.w3.org/2000/09/xmldsig#"


def signature_ids(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    return [s.get("Id") for s in root.iterchildren(f"{{{DS}}}Signature")]


def xmlsec_verify(xmlsec1: str, xml: bytes, sig_id: str, tmp: Path, trusted: Path,
                  untrusted: list[Path]) -> subprocess.CompletedProcess[str]:
    """Verify one signature (selected by Id) with xmlsec1, trusting only ``trusted``."""
    doc = tmp / f"verify-{sig_id}.xml"
    doc.write_bytes(xml)
    args = [
        xmlsec1, "--verify",
        "--enabled-reference-uris", "same-doc",
        "--id-attr:Id", f"{RECORD_NS}:HocSinh",
        "--id-attr:Id", f"{RECORD_NS}:NamHoc",
        "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
        "--id-attr:Id", f"{DS}:SignatureValue",
        "--node-xpath", f"//*[local-name()='Signature' and @Id='{sig_id}']",
        "--trusted-pem", str(trusted),
    ]
    for p in untrusted:
        args += ["--untrusted-pem", str(p)]
    args.append(str(doc))
    return subprocess.run(args, capture_output=True, text=True, timeout=60)

"""Small helpers shared by the red-team tests."""
from __future__ import annotations

import copy
from typing import Any

from lxml import etree

from ground.vocab import RECORD_NS

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"


def rec(local: str) -> str:
    return f"{{{RECORD_NS}}}{local}"


def ds(local: str) -> str:
    return f"{{{DS}}}{local}"


def xa(local: str) -> str:
    return f"{{{XADES}}}{local}"


def tree(data: bytes) -> Any:
    return etree.fromstring(data, etree.XMLParser(remove_blank_text=False, resolve_entities=False))


def dump(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def years(root: Any) -> list[Any]:
    return list(root.iterchildren(rec("NamHoc")))


def sigs(root: Any) -> list[Any]:
    return list(root.iterchildren(ds("Signature")))


def deep(el: Any) -> Any:
    return copy.deepcopy(el)


def summary(rep: Any) -> str:
    d = rep.to_dict("en")
    return (f"{d['indication']}/{d['subindication']}: {d['message']} record={d['record']} "
            + "; ".join(f"{s['id']}={s['indication']}/{s['subindication']} role={s['role']}"
                        for s in d["signatures"])
            + " failed checks=" + str([c["name"] for c in d["checks"] if not c["passed"]]))


def assert_not_passed(rep: Any) -> None:
    assert rep.indication.value != "TOTAL_PASSED", "forgery judged valid: " + summary(rep)


def assert_passed(rep: Any) -> None:
    assert rep.indication.value == "TOTAL_PASSED", summary(rep)

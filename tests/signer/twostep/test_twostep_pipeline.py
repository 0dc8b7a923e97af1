"""Two-step finish goes through the signing pipeline (issue 14): the records of a batch get
their timestamps with up to ``[timestamp] concurrency`` requests in flight, not one after
another; a token for other data is refused for its record only."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from ground.config import Config
from tests.tsa_proxy import TsaProxy
from tests.signer.twostep.conftest import says, sign_digest

pytestmark = [pytest.mark.slow]


def _run(cfg: Config, state: Path, records: list[tuple[str, bytes]], certs: list[bytes],
         key: Any) -> Any:
    from signer.twostep import TwoStep

    ts = TwoStep(cfg, state_dir=state)
    batch = ts.prepare(records, role="principal", level="B-T", certificates=certs)
    values = {i.id: sign_digest(key, i.digest) for i in batch.items}
    return ts.finish(batch.batch_id, values)


def test_finish_keeps_timestamp_requests_in_flight(
        test_config: Config, trust_services: Any, sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes], principal_key: Any, tmp_path: Path) -> None:
    assert test_config.timestamp.url
    with TsaProxy(test_config.timestamp.url, delay=0.05) as proxy:
        cfg = dataclasses.replace(test_config, timestamp=dataclasses.replace(
            test_config.timestamp, url=proxy.url, concurrency=4))
        done = _run(cfg, tmp_path, sample_records[:8], principal_certs, principal_key)
    assert all(r.ok for r in done.records), [r.error for r in done.records]
    assert 2 <= proxy.max_in_flight <= 4, proxy.max_in_flight

    from ground.policy import Policy
    from ground.vocab import Indication
    from verifier.core import Verifier

    v = Verifier(Policy.from_config(test_config))
    for r in done.records[:2]:  # a PDF and an XML
        assert r.data is not None
        rep = v.verify(r.data, name=r.name)
        assert rep.indication is Indication.TOTAL_PASSED, (r.name, rep.to_dict("en"))


def test_finish_refuses_a_token_for_other_data_per_record(
        test_config: Config, trust_services: Any, sample_records: list[tuple[str, bytes]],
        principal_certs: list[bytes], principal_key: Any, tmp_path: Path) -> None:
    assert test_config.timestamp.url
    with TsaProxy(test_config.timestamp.url, mode="imprint") as proxy:
        cfg = dataclasses.replace(test_config, timestamp=dataclasses.replace(
            test_config.timestamp, url=proxy.url))
        done = _run(cfg, tmp_path, sample_records[:2], principal_certs, principal_key)
    assert done.records  # (a PDF's size estimate at prepare is refused the same way)
    for r in done.records:
        assert not r.ok and r.data is None and says(r.error, "signer.tsa.imprint"), r.error

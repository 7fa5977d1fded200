"""The in-memory index of published PACT footprints follows the store exactly: after every kind
of publication (new footprints, a footprint published again with new content or the same,
another organisation's) it lists what a fresh read of the store lists, in the same order."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from api_fixtures import Service, offline_service
from report_fixtures import signed_report

from api.pact_index import FootprintIndex

__all__ = ["offline_service"]
pytestmark = pytest.mark.api


def _footprint(pf_id: str, comment: str = "") -> dict[str, Any]:
    made = copy.deepcopy(signed_report()["credentialSubject"]["productFootprints"][0])
    made["id"], made["comment"] = pf_id, comment or made["comment"]
    return made


def _listing(index: FootprintIndex, org: int | None) -> list[tuple[str, bytes, bytes]]:
    return [(e.pf_id, e.v2_json, e.v3_json) for e in index.snapshot(org).entries]


def test_the_index_lists_what_the_store_holds_after_each_publication(
        offline_service: Service) -> None:
    store = offline_service.ctx.store
    mine = store.add_org("Exporter A", "exporter", None, None).id
    other = store.add_org("Exporter B", "exporter", None, None).id
    ids = [str(uuid.uuid4()) for _ in range(5)]
    index = FootprintIndex(store)
    steps: list[tuple[int, list[dict[str, Any]]]] = [
        (mine, [_footprint(ids[0]), _footprint(ids[1])]),
        (mine, [_footprint(ids[2])]),
        (other, [_footprint(ids[3])]),
        (mine, [_footprint(ids[0], "corrected"), _footprint(ids[4])]),  # id 0 moves to the end
        (mine, [_footprint(ids[4])]),  # the newest published again, same content
        (mine, [_footprint(ids[1], "again"), _footprint(ids[2], "again")]),
    ]
    assert _listing(index, None) == []
    for n, (org, footprints) in enumerate(steps):
        store.add_report(org, f"urn:uuid:report-{n}", "0x" + "ab" * 32,
                         document={"credentialSubject": {"shipmentIds": [f"S{n}"]}},
                         cbam_xml=None, pact_footprints=footprints)
        for visible in (None, mine, other):
            assert _listing(index, visible) == _listing(FootprintIndex(store), visible), n
    final = [e.pf_id for e in index.snapshot(None).entries]
    assert final == [ids[3], ids[0], ids[4], ids[1], ids[2]]
    corrected = index.snapshot(mine).by_id[ids[0]]
    assert b"corrected" in corrected.v2_json and b"corrected" in corrected.v3_json

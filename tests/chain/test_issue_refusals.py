"""Issuing refuses, before anything is signed, what a report must never carry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from devchain import DevChain
from report_chain_fixtures import PERIOD, anchor_and_issue

from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.errors import InputError
from ledger.reports.issue import issue_report

ISSUED_AT = datetime(2026, 4, 1, tzinfo=UTC)


def test_an_inverted_period_is_refused_naming_the_last_day(chain: DevChain,
                                                           tmp_path: Path) -> None:
    anchored = anchor_and_issue(chain, tmp_path)
    key = dev_key(DEV_EXPORTER_INDEXES[0]).private_key
    with pytest.raises(InputError, match="ends \\(2026-01-01\\) before it starts") as refused:
        issue_report(anchored.bundles, issuer_key=key, issued_at=ISSUED_AT,
                     period=(date(2026, 3, 31), date(2026, 1, 1)),
                     factor_set=anchored.factor_set)
    assert refused.value.problems[0].field == "last_day"


def test_records_of_another_exporter_are_refused_before_signing(chain: DevChain,
                                                                tmp_path: Path) -> None:
    anchored = anchor_and_issue(chain, tmp_path)
    other = dev_key(DEV_EXPORTER_INDEXES[1])
    with pytest.raises(InputError, match="not by this report's issuer") as refused:
        issue_report(anchored.bundles, issuer_key=other.private_key, issued_at=ISSUED_AT,
                     period=PERIOD, factor_set=anchored.factor_set)
    problem = refused.value.problems[0]
    assert problem.field == "exporter" and other.address.lower() in str(problem)
    # the records' own exporter still issues the same bundles
    own = issue_report(anchored.bundles, issuer_key=dev_key(DEV_EXPORTER_INDEXES[0]).private_key,
                       issued_at=ISSUED_AT, period=PERIOD, factor_set=anchored.factor_set)
    assert own["issuer"] == anchored.document["issuer"]

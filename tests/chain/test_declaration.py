"""The importer's annual CBAM declaration from consignments anchored on the session's Anvil:
certificates recomputed by hand, the 50 t threshold, verification, tampering, bad input.

Figures recomputed by hand below come from these rows of the shipped tables:

- default values (Implementing Regulation (EU) 2025/2621 Annex I as corrected by 2026/1740,
  ``eu-cbam-2025-2621-annex-i-corrected-2026-1740.csv``): ``CN.73181100`` (China, coach screws,
  direct 2.738 t/t, route C) and ``CN.76041090`` (China, aluminium profiles, direct 4.881 t/t,
  route K); mark-up 2026 +10 % (``iron_and_steel.2026``, ``aluminium.2026``);
- benchmarks (Implementing Regulation (EU) 2025/2620, ``eu-cbam-2025-2620-benchmarks.csv``):
  ``B.73181100.C`` 1.364, ``A.73181100.any`` 0.038, ``B.76041090.K`` 1.493,
  ``A.76041090.any`` 0.06 t CO2e/t;
- CBAM factor 2026: 97.5 % (``cbam_factor.2026``);
- certificate price 2026-Q1: EUR 75.36 (``price.2026-Q1``, Implementing Regulation (EU)
  2025/2548, published 7 April 2026).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from declaration_fixtures import (
    ALUMINIUM,
    ALUMINIUM_IMPORTER,
    DEFAULT,
    STEEL,
    STEEL_IMPORTER,
    actual,
    anchor,
    consignment,
)
from devchain import DevChain
from json_paths import leaf_paths

from ledger.declaration import (
    CarbonPriceClaim,
    DeclarationOptions,
    compute_declaration,
    issue_declaration,
)
from ledger.declaration.build import declaration_factor_set
from ledger.declaration.index import read_indexed
from ledger.declaration.options import claim_from_dict
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.errors import FactorError, InputError
from ledger.factors.factorset import load_factor_set
from ledger.reports import vc
from ledger.store.store import LedgerStore, open_store
from ledger.verify.declaration import DECLARATION_CHECKS, verify_declaration
from ledger.verify.verdict import Verdict

#: The declarant's key (an account of the dev chain that anchored nothing).
DECLARANT_KEY = dev_key(DEV_EXPORTER_INDEXES[1]).private_key
ISSUED_AT = datetime(2027, 5, 3, 9, tzinfo=UTC)
FACTOR = Decimal("0.975")
PRICE = Decimal("75.36")


def tonnes_g(value: Decimal) -> int:
    """Tonnes to whole grams, half up (the declaration's one rounding rule)."""
    return int((value * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents(certificates_t: Decimal) -> int:
    return int((certificates_t * PRICE * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture
def store(chain: DevChain, tmp_path: Path) -> Iterator[LedgerStore]:
    with open_store(tmp_path / "ledger.sqlite") as opened:
        anchor(chain, opened, STEEL + ALUMINIUM)
        yield opened


def _line(subject: dict[str, Any], installation: str) -> dict[str, Any]:
    line: dict[str, Any] = next(ln for ln in subject["lines"]
                                if ln["installation"]["installationId"] == installation)
    return line


def test_steel_importer_above_the_threshold_certificates_by_hand(store: LedgerStore,
                                                                  chain: DevChain) -> None:
    declaration = compute_declaration(store, STEEL_IMPORTER, 2026)
    s = declaration.subject
    # default values: 30 t x 2.738 x 1.10 = 90.354 t; adjustment 30 x 1.364 x 0.975
    default = _line(s, "CN-INST-S1")
    embedded = Decimal(30) * Decimal("2.738") * Decimal("1.10")
    faa = Decimal(30) * Decimal("1.364") * FACTOR
    assert default["benchmark"] == {"column": "B", "route": "C", "valueTPerT": "1.364",
                                    "source": "eu-cbam-2025-2620-benchmarks#B.73181100.C"}
    assert default["embeddedEmissionsG"] == tonnes_g(embedded) == 90_354_000
    assert default["freeAllocationAdjustmentG"] == tonnes_g(faa)
    assert default["certificatesG"] == tonnes_g(embedded - faa)
    assert default["costCents"] == cents(embedded - faa) == 380_244
    # verified actual values: 25 t x 1.9 (direct only: Annex II) = 47.5 t; Column A 0.038
    measured = _line(s, "CN-INST-S2")
    embedded_a = Decimal(25) * Decimal("1.9")
    faa_a = Decimal(25) * Decimal("0.038") * FACTOR
    assert (measured["dataType"], measured["verifier"]) == ("actual-verified",
                                                            "Verifier (fictitious)")
    assert measured["benchmark"]["source"] == "eu-cbam-2025-2620-benchmarks#A.73181100.any"
    assert measured["certificatesG"] == tonnes_g(embedded_a - faa_a)
    assert measured["costCents"] == cents(embedded_a - faa_a) == 350_980
    # the same 25 t on the default value would have cost less (Column B is the higher benchmark)
    on_default = Decimal(25) * Decimal("2.738") * Decimal("1.10") - Decimal(25) * Decimal(
        "1.364") * FACTOR
    assert measured["costOnDefaultValuesCents"] == cents(on_default)
    assert s["threshold"]["netMassT"] == "55.000000"
    assert s["threshold"]["liable"] is True and s["threshold"]["warning"] is True
    total_cert = tonnes_g(embedded - faa) + tonnes_g(embedded_a - faa_a)
    assert s["totals"]["certificatesG"] == total_cert
    assert s["totals"]["certificatesToSurrender"] == 98  # 97.03075 t, rounded up
    assert s["totals"]["costEur"] == "7312.24"
    assert s["prices"] == [{"period": "2026-Q1", "priceEur": "75.36", "estimate": False,
                            "source": "eu-cbam-certificate-prices-2026#price.2026-Q1"}]
    assert s["cbamFactor"]["percent"] == "97.5"
    document = issue_declaration(declaration, issuer_key=DECLARANT_KEY, issued_at=ISSUED_AT)
    verdict = verify_declaration(document, chain.exporter2)
    assert verdict.ok, verdict.to_dict()


def test_aluminium_importer_below_the_threshold_is_not_liable(store: LedgerStore) -> None:
    s = compute_declaration(store, ALUMINIUM_IMPORTER, 2026, fast=False).subject
    default = _line(s, "CN-INST-A1")
    embedded = Decimal(20) * Decimal("4.881") * Decimal("1.10")
    faa = Decimal(20) * Decimal("1.493") * FACTOR
    assert default["benchmark"]["source"] == "eu-cbam-2025-2620-benchmarks#B.76041090.K"
    assert default["certificatesG"] == tonnes_g(embedded - faa)
    assert default["costCents"] == cents(embedded - faa)
    measured = _line(s, "CN-INST-A2")
    faa_a = Decimal(10) * Decimal("0.06") * FACTOR
    assert measured["certificatesG"] == tonnes_g(Decimal(65) - faa_a)
    assert measured["costCents"] == cents(Decimal(65) - faa_a)
    assert s["threshold"] == {
        "netMassG": 30_000_000, "netMassT": "30.000000", "thresholdT": "50",
        "warningLevelT": "45", "warning": False, "liable": False,
        "excludedSectors": ["electricity", "hydrogen"]}
    # not liable: nothing to surrender, the cost if it were is still shown
    assert s["totals"]["certificatesToSurrender"] == 0 and s["totals"]["costEur"] == "0.00"
    if_liable = Decimal(default["costCents"] + measured["costCents"]) / 100
    assert s["totals"]["costIfLiableEur"] == f"{if_liable:.2f}"
    # a lower warning level warns
    warned = compute_declaration(store, ALUMINIUM_IMPORTER, 2026,
                                 options=DeclarationOptions(warning_level_t=Decimal(25)))
    assert warned.threshold["warning"] is True and warned.threshold["liable"] is False


def test_fast_and_simple_paths_agree(store: LedgerStore) -> None:
    for declarant in (STEEL_IMPORTER, ALUMINIUM_IMPORTER):
        fast = compute_declaration(store, declarant, 2026, fast=True).subject
        simple = compute_declaration(store, declarant, 2026, fast=False).subject
        assert fast == simple


def _mutated(document: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    value = holder[path[-1]]
    if isinstance(value, bool):
        holder[path[-1]] = not value
    elif isinstance(value, int):
        holder[path[-1]] = value + 1
    elif value is None:
        holder[path[-1]] = "x"
    else:
        holder[path[-1]] = str(value) + ("0" if str(value).startswith("0x") else "x")
    return changed


@pytest.mark.slow
@pytest.mark.parametrize("embedded", [True, False], ids=["records-embedded", "records-in-store"])
def test_every_leaf_mutated_is_caught(store: LedgerStore, chain: DevChain, embedded: bool
                                      ) -> None:
    factor_set = declaration_factor_set()
    declaration = compute_declaration(store, ALUMINIUM_IMPORTER, 2026, factor_set=factor_set,
                                      options=DeclarationOptions(embed_records=embedded))
    document = issue_declaration(declaration, issuer_key=DECLARANT_KEY, issued_at=ISSUED_AT)
    reader = chain.exporter2

    def verified(candidate: dict[str, Any], processes: int = 1, fast: bool = True) -> Verdict:
        return verify_declaration(candidate, reader, factor_set=factor_set,
                                  records=None if embedded else store, processes=processes,
                                  fast=fast)

    assert verified(document).ok
    leaves = list(leaf_paths(document))
    assert len(leaves) > (200 if embedded else 100)
    for number, path in enumerate(leaves):
        # as received: the signature no longer matches
        verdict = verified(_mutated(document, path))
        assert not verdict.ok, path
        if number % 7 == 0:  # the side process finds the same, check for check
            assert verified(_mutated(document, path), processes=2).to_dict() == \
                verdict.to_dict(), path
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    for path in leaf_paths(unsigned["credentialSubject"], ("credentialSubject",)):
        # signed again by the declarant: a content check still catches it
        tampered = _mutated(unsigned, path)
        resigned = vc.sign_credential(
            tampered, DECLARANT_KEY, chain_id=declaration.chain_id,
            verifying_contract=declaration.contract, created="2027-05-03T09:00:00Z")
        verdict = verified(resigned)
        assert not verdict.ok and "signature" not in verdict.failed, path
        # the dataset rebuilt row by row (the oracle) finds the same, check for check
        assert verified(resigned, fast=False).to_dict() == verdict.to_dict(), path


def test_bad_input_is_refused_with_the_field_named(chain: DevChain, tmp_path: Path) -> None:
    with open_store(tmp_path / "bad.sqlite") as store:
        # on actual values (a default value needs the import date to be computed at all)
        undated = consignment("ST-2026-009", cn="7318 11 00", mass_kg="1000",
                              importer="NL009900009", released="2026-02-10",
                              production=actual("1.9"), installation="X")
        undated["consignment"].pop("customs_release_date")
        undated["consignment"]["arrival_date"] = "2026-02-10"
        anchor(chain, store, [undated])
        with pytest.raises(InputError, match="no customs release date") as refused:
            compute_declaration(store, "NL009900009", 2026)
        assert refused.value.problems[0].field == "consignment.customs_release_date"
        with pytest.raises(InputError, match="has no anchored CBAM consignment"):
            compute_declaration(store, "FR009900003", 2026)
        with pytest.raises(InputError, match="not an EORI number"):
            compute_declaration(store, "nl 123", 2026)


def test_a_consignment_without_declarant_or_importer_is_refused(chain: DevChain,
                                                                tmp_path: Path) -> None:
    with open_store(tmp_path / "anon.sqlite") as store:
        nobody = consignment("ST-2026-010", cn="7318 11 00", mass_kg="1000",
                             importer="NL009900001", released="2026-02-10",
                             production={"data_type": "default"}, installation="X")
        del nobody["consignment"]["importer"], nobody["consignment"]["declarant"]
        anchor(chain, store, [*STEEL, nobody])
        with pytest.raises(InputError, match="names no declarant or importer") as refused:
            compute_declaration(store, STEEL_IMPORTER, 2026)
        assert refused.value.problems[0].shipment_id == "ST-2026-010"


def test_quarters_without_price_tables_and_routes(chain: DevChain, tmp_path: Path) -> None:
    later = consignment("ST-2026-020", cn="7318 11 00", mass_kg="5000", importer="NL009900001",
                        released="2026-05-12", production={"data_type": "default"},
                        installation="CN-INST-S1")
    with open_store(tmp_path / "q2.sqlite") as store:
        anchor(chain, store, [*STEEL, later])
        with pytest.raises(InputError, match="no published CBAM certificate price for 2026-Q2"):
            compute_declaration(store, STEEL_IMPORTER, 2026)
        estimated = compute_declaration(
            store, STEEL_IMPORTER, 2026,
            options=DeclarationOptions(price_estimates={"2026-Q2": Decimal("80.00")}))
        assert estimated.subject["containsEstimates"] is True
        q2 = estimated.subject["prices"][1]
        assert q2["estimate"] is True and "estimate" in q2["source"]
        with pytest.raises(FactorError, match="names no table of kind cbam_benchmarks"):
            compute_declaration(store, STEEL_IMPORTER, 2026, factor_set=load_factor_set())
    # actual values for a code whose Column A is not loaded; several routes and none named
    no_column_a = consignment("ST-2026-030", cn="7318 15 88", mass_kg="1000",
                              importer="NL009900004", released="2026-02-01",
                              production=actual("2.0"), installation="Y")
    stainless = consignment("ST-2026-031", cn="7318 12 10", mass_kg="1000",
                            importer="NL009900004", released="2026-02-01",
                            production={"data_type": "default"}, installation="Z")
    with open_store(tmp_path / "routes.sqlite") as store:
        anchor(chain, store, [no_column_a, stainless])
        with pytest.raises(InputError) as refused:
            compute_declaration(store, "NL009900004", 2026)
        messages = {p.shipment_id: str(p) for p in refused.value.problems}
        assert "no CBAM benchmark in Column A" in messages["ST-2026-030"]
        assert "per production route (1, 2)" in messages["ST-2026-031"]


CLAIM = {"installation_id": "CN-INST-S2", "price_paid_per_t": "100", "currency": "CNY",
         "exchange_rate_eur": "0.128", "rebates_per_t": "10", "free_allocation_per_t": "20",
         "certified_by": "Independent Verifier (fictitious)",
         "certification_date": "2027-03-01", "evidence_reference": "CPP-2026-001"}


def test_carbon_price_paid_is_evidence_unless_enabled(store: LedgerStore, chain: DevChain
                                                      ) -> None:
    claim = claim_from_dict(CLAIM)
    stored = compute_declaration(store, STEEL_IMPORTER, 2026,
                                 options=DeclarationOptions(carbon_price_claims=[claim]))
    line = _line(stored.subject, "CN-INST-S2")
    assert line["carbonPricePaid"]["applied"] is False and line["carbonPriceDeductionG"] == 0
    applied = compute_declaration(store, STEEL_IMPORTER, 2026, options=DeclarationOptions(
        carbon_price_claims=[claim], deduction_act="Implementing Regulation (EU) 2026/XXXX"))
    line = _line(applied.subject, "CN-INST-S2")
    # (100 - 10 - 20) CNY x 0.128 = EUR 8.96 per t; 47.5 t x 8.96 / 75.36 certificates
    deduction = Decimal("47.5") * Decimal("8.96") / PRICE
    assert line["carbonPriceDeductionG"] == tonnes_g(deduction)
    remaining = Decimal(25) * Decimal("1.9") - Decimal(25) * Decimal("0.038") * FACTOR
    assert line["certificatesG"] == tonnes_g(remaining) - tonnes_g(deduction)
    document = issue_declaration(applied, issuer_key=DECLARANT_KEY, issued_at=ISSUED_AT)
    assert verify_declaration(document, chain.exporter2).ok
    # on default values, or without its certification: refused
    with pytest.raises(InputError, match="declared on default values"):
        compute_declaration(store, STEEL_IMPORTER, 2026, options=DeclarationOptions(
            carbon_price_claims=[CarbonPriceClaim(**{**claim.__dict__,
                                                     "installation_id": "CN-INST-S1"})],
            deduction_act="act"))
    with pytest.raises(InputError, match="needs certified_by") as refused:
        claim_from_dict({**CLAIM, "certified_by": ""})
    assert refused.value.problems[0].field == "carbon_price_claims[1].certified_by"


#: Fictitious price estimates for the quarters of 2026 without a published price (labelled as
#: estimates in the declaration).
ESTIMATES = {"2026-Q2": Decimal("70.00"), "2026-Q3": Decimal("71.00"),
             "2026-Q4": Decimal("72.00")}


def _mixed(rng: random.Random, number: int) -> dict[str, Any]:
    steel = rng.random() < 0.5
    values = DEFAULT if rng.random() < 0.5 else (
        actual(rng.choice(["1.9", "2.4"]), "0.3") if steel else actual(rng.choice(["6.5", "7"])))
    year = rng.choice([2026, 2026, 2026, 2027])
    shipment = consignment(
        f"MX-{number:03d}", cn="7318 11 00" if steel else "7604 10 90",
        mass_kg=f"{rng.randint(1, 40) * 500}.{rng.randint(0, 999):03d}",
        importer=rng.choice([STEEL_IMPORTER, ALUMINIUM_IMPORTER]),
        released=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        production=values, installation=f"CN-MX-{rng.randint(1, 3)}",
        route="BF-BOF" if steel else "(K) primary smelting", declarant=rng.random() < 0.7)
    shipment["consignment"]["dispatch_date"] = f"{year}-01-01"
    return shipment


def test_the_indexed_path_equals_the_record_by_record_loop_on_a_mixed_store(
        chain: DevChain, tmp_path: Path) -> None:
    rng = random.Random(2026)
    shipments = [_mixed(rng, n) for n in range(48)]
    # records not embedded: read from the index (embedded, each record is read from the store)
    options = DeclarationOptions(price_estimates=ESTIMATES, embed_records=False)
    with open_store(tmp_path / "mixed.sqlite") as store:
        anchor(chain, store, shipments[:30])  # root path: record blocks and Merkle trees
        anchor(chain, store, shipments[30:40], path="events")  # records in their rows
        first = compute_declaration(store, STEEL_IMPORTER, 2026, options=options)
        anchor(chain, store, shipments[40:])  # indexed by the next declaration
        for declarant in (STEEL_IMPORTER, ALUMINIUM_IMPORTER):
            indexed = read_indexed(store, declarant, 2026)
            assert indexed is not None  # the fast path reads the index
            fast = compute_declaration(store, declarant, 2026, options=options)
            simple = compute_declaration(store, declarant, 2026, options=options, fast=False)
            assert fast.subject == simple.subject
            assert fast.totals["consignments"] == len(indexed[0])
            document = issue_declaration(fast, issuer_key=DECLARANT_KEY, issued_at=ISSUED_AT)
            verdict = verify_declaration(document, chain.exporter2, records=store, processes=1)
            assert verdict.ok, verdict.to_dict()
            # with a side process (signature, multiproofs and stored hashes): the same verdict
            assert verify_declaration(document, chain.exporter2, records=store,
                                      processes=2).to_dict() == verdict.to_dict()
        assert first.totals["consignments"] < compute_declaration(
            store, STEEL_IMPORTER, 2026, options=options).totals["consignments"]
        # one stored record changed behind the declaration's back: its hash no longer matches
        in_rows = {s["shipment_id"] for s in shipments[30:40]}
        changed = next(c["shipmentId"] for ln in document["credentialSubject"]["lines"]
                       for c in ln["consignments"] if c["shipmentId"] in in_rows)
        with store.write() as conn:
            conn.exec_driver_sql(
                "UPDATE records SET record_json = CAST(REPLACE(CAST(record_json AS TEXT), "
                "'\"embedded_g\":', '\"embedded_g\":1') AS BLOB) WHERE shipment_id = ?",
                (changed,))
        verdict = verify_declaration(document, chain.exporter2, records=store, processes=1)
        assert "record_hash" in verdict.failed
        assert changed in next(c.detail for c in verdict.checks if c.name == "record_hash")
        side = verify_declaration(document, chain.exporter2, records=store, processes=2)
        assert side.to_dict() == verdict.to_dict()
        assert {c.name for c in side.checks} == set(DECLARATION_CHECKS)

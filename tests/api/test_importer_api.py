"""The importer (CBAM declarant) role against a real Anvil: the consignments that name its EORI
from any exporter, the 50 t tally, the declaration dataset and its signed download, which the
library's verifier accepts on chain; other importers and roles see none of it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fixtures import (
    EXAMPLES,
    Service,
    ServiceChain,
    chain_app,
    make_service,
    postgres_schema,
    service_chain,
)

from ledger.chain.client import connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.verify.declaration import verify_declaration

__all__ = ["service_chain"]

CONSIGNMENTS = json.loads((EXAMPLES / "cbam-consignments-2026.json").read_text(encoding="utf-8"))
NL = "NL009900001"  # importer of two fastener lots (Q1, Q2) and a fertiliser lot (Q2)
DE_DECLARANT = "DE9900000000002"  # indirect representative declaring one aluminium lot


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, service_chain: ServiceChain
            ) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("importer")
    made = make_service(chain_app(tmp, service_chain), service_chain.node)
    try:
        exporter = made.org("Zhejiang exporters", "exporter")
        shipments = copy.deepcopy(CONSIGNMENTS)
        # the verified nuts lot as coach screws from a BF-BOF installation: a good and route
        # whose actual-value benchmark (Column A) the pinned table holds
        nuts = shipments["shipments"][1]["product"]
        nuts["cn_code"] = "7318 11 00"
        nuts["installation"]["production_route"] = "BF-BOF"
        # another exporter's CBAM lot that names no importer: not the importers' business
        stray = copy.deepcopy(shipments["shipments"][0])
        stray["shipment_id"] = "STRAY-2026-0001"
        stray["consignment"].pop("importer", None)
        stray["consignment"].pop("declarant", None)
        other = made.org("Another exporter", "exporter")
        for who, body in ((exporter, shipments), (other, {**shipments, "shipments": [stray]})):
            answer = made.client.post("/v1/shipments", json=body, headers=made.auth(who))
            assert answer.status_code in (200, 201), answer.text
            job = made.client.post("/v1/anchoring", headers=made.auth(who)).json()
            assert made.wait_job(who, job["id"])["state"] == "done"
        yield made
    finally:
        made.client.close()
        made.ctx.close()


def test_an_importer_lists_the_consignments_naming_its_eori_with_the_threshold(
        service: Service) -> None:
    maas = service.ctx.create_org("Maas Steel Trading", "importer", eori=NL)
    answer = service.client.get("/v1/importer/consignments?year=2026",
                                headers=service.auth(maas))
    assert answer.status_code == 200, answer.text
    listed = answer.json()
    ids = sorted(c["shipmentId"] for c in listed["consignments"])
    assert ids == ["HY-FAST-2026-0101", "HY-FAST-2026-0102", "QZ-FERT-2026-0301"]
    # 18 t + 12 t of fasteners and 25 t of fertiliser: over 50 t, liable
    assert listed["threshold"]["netMassT"] == "55" and listed["threshold"]["liable"] is True
    assert "STRAY-2026-0001" not in answer.text

    nothing = service.client.get("/v1/importer/consignments?year=2027",
                                 headers=service.auth(maas)).json()
    assert nothing["consignments"] == [] and nothing["threshold"]["liable"] is False


def test_the_declaration_needs_a_price_for_every_quarter_then_is_signed_and_verifies(
        service: Service, service_chain: ServiceChain) -> None:
    maas = service.ctx.create_org("Maas Steel Trading BV", "importer", eori=NL)
    refused = service.client.get("/v1/importer/declaration?year=2026",
                                 headers=service.auth(maas))
    assert refused.status_code == 422, refused.text
    assert "2026-Q2" in refused.text  # the Q2 lots have no published price
    assert "STRAY-2026-0001" not in refused.text

    computed = service.client.get("/v1/importer/declaration?year=2026&estimate=2026-Q2=80.00",
                                  headers=service.auth(maas))
    assert computed.status_code == 200, computed.text
    subject = computed.json()
    assert subject["declarant"]["eori"] == NL and subject["containsEstimates"] is True
    assert subject["totals"]["consignments"] == 3 and subject["threshold"]["liable"] is True
    assert {(r["cnCode"], r["originCountry"]) for r in subject["byCnCode"]} >= {
        (line["cnCode"], line["originCountry"]) for line in subject["lines"]}
    assert subject["forecast"]["costOnDeclaredValuesEur"] == subject["totals"]["costEur"]

    signed = service.client.post("/v1/importer/declarations",
                                 json={"year": 2026, "estimates": ["2026-Q2=80.00"]},
                                 headers=service.auth(maas))
    assert signed.status_code == 201, signed.text
    assert f'filename="cbam-declaration-{NL}-2026.json"' in signed.headers["content-disposition"]
    document = signed.json()
    assert document["credentialSubject"]["totals"] == subject["totals"]
    service_chain.node.rpc("evm_mine")
    with connect(service_chain.settings, read_only=True) as client:
        reader = CarbonLedgerContract(client, service_chain.deployment.address)
        verdict = verify_declaration(document, reader)
    assert verdict.ok, verdict.to_dict()


def test_each_importer_sees_only_its_own_and_other_roles_none(service: Service) -> None:
    agent = service.ctx.create_org("Niederrhein Zollagentur", "importer", eori=DE_DECLARANT)
    listed = service.client.get("/v1/importer/consignments?year=2026",
                                headers=service.auth(agent)).json()
    assert [c["shipmentId"] for c in listed["consignments"]] == ["NB-ALU-2026-0201"]
    assert listed["threshold"]["liable"] is False  # 20 t

    nobody = service.ctx.create_org("Empty Imports", "importer", eori="FR99999999999")
    answer = service.client.get("/v1/importer/declaration?year=2026",
                                headers=service.auth(nobody))
    assert answer.status_code == 422 and "nothing to declare" in answer.text

    buyer = service.org("A buyer", "buyer")
    exporter = service.org("A third exporter", "exporter")
    for path in ("/v1/importer/consignments?year=2026", "/v1/importer/declaration?year=2026"):
        for who in (buyer, exporter):
            assert service.client.get(path, headers=service.auth(who)).status_code == 403


def test_an_importer_is_created_by_an_admin_only_with_a_valid_eori(service: Service) -> None:
    admin = service.org("Operator", "admin")
    bad = [{"name": "No EORI", "role": "importer"},
           {"name": "Bad EORI", "role": "importer", "eori": "not an eori"},
           {"name": "Exporter with EORI", "role": "exporter", "eori": NL}]
    for body in bad:
        answer = service.client.post("/v1/organisations", json=body, headers=service.auth(admin))
        assert answer.status_code == 422, (body, answer.text)
        assert "eori" in answer.text
    made = service.client.post("/v1/organisations",
                               json={"name": "Via the API", "role": "importer", "eori": NL},
                               headers=service.auth(admin))
    assert made.status_code == 201, made.text
    page = service.client.get("/importer")
    assert page.status_code == 200 and "importer.js" in page.text


def _upgraded_from_0003(url: str) -> None:
    """A service store at revision 0003 holding a buyer, upgraded to head: the buyer stays,
    importers can be added, and the role check still refuses an unknown role."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from api.migrations import SCRIPT_LOCATION
    from api.store import open_service_store
    from ledger.store.store import open_store

    with open_store(url) as ledger_store:
        config = Config()
        config.set_main_option("script_location", str(SCRIPT_LOCATION))
        config.set_main_option("path_separator", "os")
        with ledger_store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "service_0003_token_revocation")
            conn.execute(sa.text(
                "INSERT INTO service_organisations (name, role, created_at) "
                "VALUES ('Old buyer', 'buyer', CURRENT_TIMESTAMP)"))
            conn.execute(sa.text(  # a row that points at the organisation (a foreign key)
                "INSERT INTO service_clients (client_id, org_id, secret_hash, created_at) "
                "SELECT 'old-client', id, 'x', CURRENT_TIMESTAMP FROM service_organisations"))
        store = open_service_store(ledger_store)
        old = store.org_by_name("Old buyer")
        assert old is not None and old.role == "buyer" and store.org_eori(old.id) is None
        assert [c["client_id"] for c in store.clients_of(old.id)] == ["old-client"]
        made = store.add_org("Importer", "importer", "0x" + "11" * 20, None, eori=NL)
        assert store.org_eori(made.id) == NL
        with pytest.raises(sa.exc.IntegrityError), ledger_store.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO service_organisations (name, role, created_at) "
                "VALUES ('Bogus', 'bogus', CURRENT_TIMESTAMP)"))


def test_a_store_at_the_previous_revision_gains_importers_on_sqlite(tmp_path: Path) -> None:
    _upgraded_from_0003(f"sqlite:///{tmp_path / 'service.sqlite'}")


@pytest.mark.postgres
def test_a_store_at_the_previous_revision_gains_importers_on_postgresql() -> None:
    with postgres_schema() as url:
        _upgraded_from_0003(url)

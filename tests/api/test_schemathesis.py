"""Property-based run over the service's OpenAPI schema (schemathesis): no generated request
gets a server error, and every response matches what the schema documents.

Bounded: a few examples per operation, no shrinking past the first failure, well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from api_fixtures import ServiceChain, chain_app, make_service, service_chain
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

__all__ = ["service_chain"]
pytestmark = pytest.mark.api

EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, service_chain: ServiceChain
            ) -> Iterator[Any]:
    made = make_service(chain_app(tmp_path_factory.mktemp("schema"), service_chain,
                                  max_upload_bytes=65536),
                        service_chain.node)
    made.tokens = {role: made.token(made.org(f"{role} org", role))
                   for role in ("exporter", "auditor", "buyer", "admin")}
    try:
        yield made
    finally:
        made.client.close()
        made.ctx.close()


def _check_operation(operation: Any, tokens: dict[str, str], failures: list[str]) -> None:
    roles = operation.definition.raw.get("x-required-roles") or ["exporter"]
    role = next((r for r in roles if r in tokens), "exporter")
    headers = {"authorization": f"Bearer {tokens[role]}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Exception as exc:
        failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])


def test_no_server_error_and_responses_match_the_schema(service: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        _check_operation(result.ok(), service.tokens, failures)
        operations += 1
    assert operations >= 20
    assert not failures, "\n\n".join(failures)


def test_the_schema_declares_its_security_schemes_roles_and_links(service: Any) -> None:
    document = service.client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/auth/token"
    paths = document["paths"]
    assert paths["/auth/token"]["post"]["security"] == [{"clientBasic": []}, {}]
    assert "security" not in paths["/health"]["get"]
    submit = paths["/v1/shipments"]["post"]
    assert {"bearerAuth": []} in submit["security"] and submit["x-required-roles"] == ["exporter"]
    assert paths["/v1/organisations"]["post"]["x-required-roles"] == ["admin"]
    link = submit["responses"]["201"]["links"]["GetShipment"]
    target = paths["/v1/shipments/{shipment_id}"]["get"]["operationId"]
    assert link == {"operationId": target,
                    "parameters": {"shipment_id": "$response.body#/shipments/0/shipment_id"}}
    job = paths["/v1/anchoring"]["post"]["responses"]["202"]["links"]["GetJob"]
    assert job["parameters"] == {"job_id": "$response.body#/id"}

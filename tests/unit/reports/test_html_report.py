"""The report page's verify commands: an RPC URL only where one is given as public."""

from __future__ import annotations

from html import escape

from report_fixtures import signed_report

from ledger.reports.html import RPC_PLACEHOLDER, render_html


def test_without_a_public_rpc_url_the_commands_ask_the_reader_for_one() -> None:
    page = render_html(signed_report(), report_file="ngb.json")
    assert f"carbon-ledger verify ngb.json --rpc {escape(RPC_PLACEHOLDER)}" in page
    assert f"--rpc-url {escape(RPC_PLACEHOLDER)}" in page
    assert "127.0.0.1" not in page


def test_a_public_rpc_url_is_written_into_every_command() -> None:
    page = render_html(signed_report(), report_file="ngb.json",
                       rpc_hint="https://rpc.sepolia.example.org")
    assert "carbon-ledger verify ngb.json --rpc https://rpc.sepolia.example.org" in page
    assert "cast receipt" in page
    assert page.count("https://rpc.sepolia.example.org") == 3 * 2  # 3 commands per shipment
    assert RPC_PLACEHOLDER not in page and escape(RPC_PLACEHOLDER) not in page

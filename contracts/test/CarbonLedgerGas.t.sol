// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {LedgerFixture, Shipment} from "./utils/LedgerFixture.sol";

/// @notice Gas of the two anchoring paths, as a whole transaction would pay it on an EIP-7623 chain:
/// `21000 + max(4 * tokens + execution, 10 * tokens)`, tokens = zero bytes + 4 * non-zero bytes of
/// calldata (EIP-7623). Execution gas is measured; the figures are written to the gas snapshots and
/// checked against the budgets of the design (per-shipment path <= 3,500 gas per shipment at batch
/// 500; root anchoring <= 60,000 gas per batch).
contract CarbonLedgerGasTest is LedgerFixture {
    uint256 internal constant TX_BASE_GAS = 21_000;
    uint256 internal constant STANDARD_TOKEN_COST = 4;
    uint256 internal constant FLOOR_COST_PER_TOKEN = 10;
    uint256 internal constant PER_SHIPMENT_BUDGET = 3500;
    uint256 internal constant ROOT_ANCHOR_BUDGET = 60_000;

    /// @notice EIP-7623 calldata tokens.
    function calldataTokens(bytes memory data) internal pure returns (uint256 tokens) {
        for (uint256 i = 0; i < data.length; ++i) {
            tokens += data[i] == 0 ? 1 : 4;
        }
    }

    /// @notice Gas a transaction carrying `data` pays when its execution uses `executionGas`.
    function txGas(bytes memory data, uint256 executionGas) internal pure returns (uint256) {
        uint256 tokens = calldataTokens(data);
        uint256 standard = STANDARD_TOKEN_COST * tokens + executionGas;
        uint256 floor = FLOOR_COST_PER_TOKEN * tokens;
        return TX_BASE_GAS + (standard > floor ? standard : floor);
    }

    /// @notice Shipments with amounts of a realistic size: 0.1 to 100 t CO2e WTW, TTW about 80 % of it.
    function realisticShipments(uint256 n) internal pure returns (Shipment[] memory shipments) {
        shipments = new Shipment[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 h = keccak256(abi.encode("gas", i));
            uint48 wtw = uint48(100_000 + uint256(h) % 99_900_000);
            shipments[i] = Shipment(
                keccak256(abi.encode("shipment", h)), keccak256(abi.encode("record", h)), wtw, wtw / 5 * 4
            );
        }
    }

    function _recordBatch(uint256 n) internal returns (uint256 perShipment) {
        vm.pauseGasMetering();
        bytes memory packed = pack(realisticShipments(n));
        bytes32 batchId = keccak256(packed);
        bytes memory data = abi.encodeCall(ledger.recordShipments, (batchId, FACTOR_SET, packed));
        vm.resumeGasMetering();

        vm.prank(exporter);
        ledger.recordShipments(batchId, FACTOR_SET, packed);

        vm.pauseGasMetering();
        uint256 total = txGas(data, vm.lastCallGas().gasTotalUsed);
        perShipment = total / n;
        string memory label = vm.toString(n);
        vm.snapshotValue("CarbonLedgerGas", string.concat("recordShipments_", label, "_tx_gas"), total);
        vm.snapshotValue(
            "CarbonLedgerGas", string.concat("recordShipments_", label, "_gas_per_shipment"), perShipment
        );
        (,, uint32 count) = ledger.batchInfo(batchId);
        assertEq(count, n);
        vm.resumeGasMetering();
    }

    function test_Gas_RecordShipments100() public {
        _recordBatch(100);
    }

    function test_Gas_RecordShipments500() public {
        uint256 perShipment = _recordBatch(500);
        assertLe(perShipment, PER_SHIPMENT_BUDGET, "per-shipment path over its gas budget at batch 500");
    }

    function test_Gas_RecordShipments1000() public {
        _recordBatch(1000);
    }

    function test_Gas_AnchorRoot() public {
        vm.pauseGasMetering();
        bytes32 root = keccak256("root over 10,000 shipments");
        uint32 count = 10_000;
        bytes memory data = abi.encodeCall(ledger.anchorRoot, (root, FACTOR_SET, count));
        vm.resumeGasMetering();

        vm.prank(exporter);
        ledger.anchorRoot(root, FACTOR_SET, count);

        vm.pauseGasMetering();
        uint256 total = txGas(data, vm.lastCallGas().gasTotalUsed);
        vm.snapshotValue("CarbonLedgerGas", "anchorRoot_tx_gas", total);
        assertLe(total, ROOT_ANCHOR_BUDGET, "root anchoring over its gas budget");
        vm.resumeGasMetering();
    }
}

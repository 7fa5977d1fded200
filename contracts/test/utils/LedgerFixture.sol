// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test, Vm} from "forge-std/Test.sol";

import {CarbonLedger} from "../../CarbonLedger.sol";
import {ICarbonLedger} from "../../ICarbonLedger.sol";

/// @notice One packed shipment record as written into `recordShipments` calldata.
struct Shipment {
    bytes32 shipmentKey;
    bytes32 recordHash;
    uint48 co2eWtwG;
    uint48 co2eTtwG;
}

/// @notice One `ShipmentRecorded` event, decoded: the shipment id is the one the contract derived.
struct RecordedShipment {
    bytes32 shipmentId;
    bytes32 recordHash;
    uint48 co2eWtwG;
    uint48 co2eTtwG;
}

/// @notice A deployed ledger with an admin, two exporters, two auditors and one registered factor set.
abstract contract LedgerFixture is Test {
    CarbonLedger internal ledger;

    address internal admin = makeAddr("admin");
    address internal exporter = makeAddr("exporter");
    address internal otherExporter = makeAddr("otherExporter");
    address internal auditor = makeAddr("auditor");
    address internal otherAuditor = makeAddr("otherAuditor");
    address internal stranger = makeAddr("stranger");

    bytes32 internal constant FACTOR_SET = keccak256("defra-2025-freight@v1");
    string internal constant FACTOR_SET_URI = "emission_factors/defra-2025-freight.csv";

    bytes32 internal shipmentRecordedTopic = ICarbonLedger.ShipmentRecorded.selector;

    function setUp() public virtual {
        ledger = new CarbonLedger(admin);
        vm.startPrank(admin);
        ledger.grantRole(ledger.EXPORTER_ROLE(), exporter);
        ledger.grantRole(ledger.EXPORTER_ROLE(), otherExporter);
        ledger.grantRole(ledger.AUDITOR_ROLE(), auditor);
        ledger.grantRole(ledger.AUDITOR_ROLE(), otherAuditor);
        ledger.registerFactorSet(FACTOR_SET, FACTOR_SET_URI);
        vm.stopPrank();
    }

    /// @notice The shipment id `writer` records under with `shipmentKey`, as the contract's NatSpec
    /// states the rule (written here on its own, not through the contract).
    function idOf(address writer, bytes32 shipmentKey) internal pure returns (bytes32) {
        return keccak256(abi.encode(writer, shipmentKey));
    }

    /// @notice Packs records as `shipmentKey | recordHash | co2eWtwG (6 bytes) | co2eTtwG (6 bytes)`.
    function pack(Shipment[] memory shipments) internal pure returns (bytes memory packed) {
        uint256 length = shipments.length * 76;
        // One spare word: the amounts word of the last record is written 32 bytes wide.
        packed = new bytes(length + 32);
        for (uint256 i = 0; i < shipments.length; ++i) {
            Shipment memory s = shipments[i];
            bytes32 id = s.shipmentKey;
            bytes32 recordHash = s.recordHash;
            uint256 amounts = (uint256(s.co2eWtwG) << 208) | (uint256(s.co2eTtwG) << 160);
            assembly ("memory-safe") {
                let p := add(add(packed, 0x20), mul(i, 76))
                mstore(p, id)
                mstore(add(p, 0x20), recordHash)
                mstore(add(p, 0x40), amounts)
            }
        }
        assembly ("memory-safe") {
            mstore(packed, length)
        }
    }

    /// @notice A single-record batch.
    function one(bytes32 shipmentKey, bytes32 recordHash, uint48 co2eWtwG, uint48 co2eTtwG)
        internal
        pure
        returns (Shipment[] memory shipments)
    {
        shipments = new Shipment[](1);
        shipments[0] = Shipment(shipmentKey, recordHash, co2eWtwG, co2eTtwG);
    }

    /// @notice `n` distinct shipments derived from `seed`, with amounts below 2^48 grams.
    function someShipments(uint256 n, uint256 seed) internal pure returns (Shipment[] memory shipments) {
        shipments = new Shipment[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 h = keccak256(abi.encode(seed, i));
            shipments[i] = Shipment(
                keccak256(abi.encode("shipment", h)),
                keccak256(abi.encode("record", h)),
                uint48(uint256(h) % 1e12),
                uint48((uint256(h) >> 64) % 1e11)
            );
        }
    }

    /// @notice The packed data word of `ShipmentRecorded`.
    function exporterAndCo2e(address writer, uint48 co2eWtwG, uint48 co2eTtwG)
        internal
        pure
        returns (uint256)
    {
        return (uint256(uint160(writer)) << 96) | (uint256(co2eWtwG) << 48) | uint256(co2eTtwG);
    }

    /// @notice The `ShipmentRecorded` logs among `logs`, decoded.
    function decodeShipmentLogs(Vm.Log[] memory logs, address emitter)
        internal
        view
        returns (RecordedShipment[] memory shipments, address[] memory writers, bytes32[] memory factorSets)
    {
        uint256 count = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics[0] == shipmentRecordedTopic) ++count;
        }
        shipments = new RecordedShipment[](count);
        writers = new address[](count);
        factorSets = new bytes32[](count);
        uint256 k = 0;
        for (uint256 i = 0; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (log.emitter != emitter || log.topics[0] != shipmentRecordedTopic) continue;
            (bytes32 recordHash, bytes32 factorSetId, uint256 packedWord) =
                abi.decode(log.data, (bytes32, bytes32, uint256));
            // Truncation is the unpacking: exporter << 96 | co2eWtwG << 48 | co2eTtwG.
            // forge-lint: disable-next-line(unsafe-typecast)
            shipments[k] =
                RecordedShipment(log.topics[1], recordHash, uint48(packedWord >> 48), uint48(packedWord));
            // forge-lint: disable-next-line(unsafe-typecast)
            writers[k] = address(uint160(packedWord >> 96));
            factorSets[k] = factorSetId;
            ++k;
        }
    }
}

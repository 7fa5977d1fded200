// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICarbonLedger} from "../ICarbonLedger.sol";
import {LedgerFixture} from "./utils/LedgerFixture.sol";
import {LedgerHandler} from "./utils/LedgerHandler.sol";

/// @notice Invariants over random call sequences driven by {LedgerHandler}. Each invariant counts
/// the entries that break it and asserts once, which keeps a campaign of ~2,000 calls per invariant fast.
/// forge-config: default.invariant.runs = 24
/// forge-config: default.invariant.depth = 64
contract CarbonLedgerInvariantTest is LedgerFixture {
    LedgerHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler =
            new LedgerHandler(ledger, admin, [exporter, otherExporter], [auditor, otherAuditor], FACTOR_SET);
        targetContract(address(handler));
    }

    /// @notice Every call did what the model predicted: it succeeded exactly when it was allowed.
    function invariant_CallsSucceedExactlyWhenAllowed() public view {
        assertEq(handler.unexpectedOutcomes(), 0);
    }

    /// @notice Only role holders change state: every write by a caller without the role reverted,
    /// no outsider gained a role, and nothing is kept under an outsider's name.
    function invariant_OnlyRoleHoldersChangeState() public view {
        assertEq(handler.outsiderWrites(), 0, "a caller without the role wrote");
        address[] memory outsiders = handler.outsiders();
        (bytes32[] memory hashes,,) = handler.modelRecordTable();
        (bytes32[] memory subjects,,) = handler.modelAttestationTable();
        bytes32[3] memory roles = [ledger.DEFAULT_ADMIN_ROLE(), ledger.EXPORTER_ROLE(), ledger.AUDITOR_ROLE()];
        uint256 broken = 0;
        for (uint256 i = 0; i < outsiders.length; ++i) {
            for (uint256 r = 0; r < roles.length; ++r) {
                if (ledger.hasRole(roles[r], outsiders[i])) ++broken;
            }
            for (uint256 h = 0; h < hashes.length; ++h) {
                (ICarbonLedger.RecordStatus status,) = ledger.recordStatus(outsiders[i], hashes[h]);
                if (status != ICarbonLedger.RecordStatus.Live) ++broken;
            }
            for (uint256 s = 0; s < subjects.length; ++s) {
                // Outsiders try the Report kind (the others are checked for the auditors' pool).
                (uint64 attestedAt,,) =
                    ledger.attestation(outsiders[i], ICarbonLedger.SubjectKind.Report, subjects[s]);
                if (attestedAt != 0) ++broken;
            }
        }
        assertEq(broken, 0, "state kept under an outsider's name");
    }

    /// @notice A revoked record stays revoked.
    function invariant_RevokedRecordStaysRevoked() public view {
        LedgerHandler.RecordRef[] memory revoked = handler.revoked();
        uint256 broken = 0;
        for (uint256 i = 0; i < revoked.length; ++i) {
            (ICarbonLedger.RecordStatus status, bytes32 successor) =
                ledger.recordStatus(revoked[i].exporter, revoked[i].recordHash);
            if (status != ICarbonLedger.RecordStatus.Revoked || successor != bytes32(0)) ++broken;
        }
        assertEq(broken, 0, "a revoked record changed status");
    }

    /// @notice A superseded record stays superseded by the same successor, never itself.
    function invariant_SupersededRecordKeepsItsSuccessor() public view {
        LedgerHandler.RecordRef[] memory superseded = handler.superseded();
        uint256 broken = 0;
        for (uint256 i = 0; i < superseded.length; ++i) {
            LedgerHandler.RecordRef memory ref = superseded[i];
            (ICarbonLedger.RecordStatus status, bytes32 successor) =
                ledger.recordStatus(ref.exporter, ref.recordHash);
            if (
                status != ICarbonLedger.RecordStatus.Superseded
                    || successor != handler.modelSuccessor(ref.exporter, ref.recordHash)
                    || successor == ref.recordHash
            ) ++broken;
        }
        assertEq(broken, 0, "a superseded record changed");
    }

    /// @notice Record statuses on chain equal the model, for every exporter and record of the pools.
    function invariant_RecordStatusMatchesModel() public view {
        (bytes32[] memory hashes, ICarbonLedger.RecordStatus[] memory statuses, bytes32[] memory successors) =
            handler.modelRecordTable();
        uint256 broken = 0;
        for (uint256 e = 0; e < 2; ++e) {
            address writer = e == 0 ? exporter : otherExporter;
            for (uint256 h = 0; h < hashes.length; ++h) {
                (ICarbonLedger.RecordStatus status, bytes32 successor) =
                    ledger.recordStatus(writer, hashes[h]);
                uint256 i = e * hashes.length + h;
                if (status != statuses[i] || successor != successors[i]) ++broken;
            }
        }
        assertEq(broken, 0, "record statuses differ from the model");
    }

    /// @notice Every accepted record left one event indexed by its shipment id, and a verifier reading
    /// only the logs and `recordStatus` finds exactly the live records of each shipment: two live
    /// records of one shipment id never go undetected.
    function invariant_EveryLiveRecordOfAShipmentHasAnEvent() public view {
        LedgerHandler.RecordRef[] memory submitted = handler.submitted();
        LedgerHandler.RecordRef[] memory logged = handler.logged();
        assertEq(logged.length, submitted.length, "one event per accepted record");
        uint256 broken = 0;
        for (uint256 i = 0; i < submitted.length; ++i) {
            if (
                logged[i].shipmentId != submitted[i].shipmentId || logged[i].exporter != submitted[i].exporter
                    || logged[i].recordHash != submitted[i].recordHash
            ) ++broken;
        }
        assertEq(broken, 0, "an event differs from its record");

        // Live records per shipment id: from the model, and as a verifier finds them on chain. The two
        // exporters share the keys, so each key gives two ids, one per writer.
        uint256 pool = 2 * handler.SHIPMENT_POOL();
        bytes32[] memory ids = _idsOfBothExporters();
        (bytes32[] memory hashes, ICarbonLedger.RecordStatus[] memory statuses,) = handler.modelRecordTable();
        uint256[] memory liveInModel = new uint256[](pool);
        uint256[] memory liveFromChain = new uint256[](pool);
        for (uint256 i = 0; i < submitted.length; ++i) {
            LedgerHandler.RecordRef memory ref = submitted[i];
            uint256 e = ref.exporter == exporter ? 0 : 1;
            if (
                statuses[e * hashes.length + _indexOf(ref.recordHash, hashes)]
                    == ICarbonLedger.RecordStatus.Live
            ) {
                ++liveInModel[_indexOf(ref.shipmentId, ids)];
            }
        }
        for (uint256 i = 0; i < logged.length; ++i) {
            LedgerHandler.RecordRef memory ref = logged[i];
            (ICarbonLedger.RecordStatus status,) = ledger.recordStatus(ref.exporter, ref.recordHash);
            if (status == ICarbonLedger.RecordStatus.Live) ++liveFromChain[_indexOf(ref.shipmentId, ids)];
        }
        for (uint256 s = 0; s < pool; ++s) {
            if (liveFromChain[s] != liveInModel[s]) ++broken;
        }
        assertEq(broken, 0, "live records found from the logs differ from the model");
    }

    /// @notice An anchored root (and a recorded batch) never changes: writer, block and count stay.
    function invariant_AnchoredRootNeverChanges() public view {
        LedgerHandler.Anchor[] memory roots = handler.roots();
        LedgerHandler.Anchor[] memory batches = handler.batches();
        uint256 broken = 0;
        for (uint256 i = 0; i < roots.length; ++i) {
            (address writer, uint64 blockNumber, uint32 count) = ledger.rootInfo(roots[i].id);
            if (writer != roots[i].exporter || blockNumber != roots[i].blockNumber || count != roots[i].count)
            {
                ++broken;
            }
        }
        for (uint256 i = 0; i < batches.length; ++i) {
            (address writer, uint64 blockNumber, uint32 count) = ledger.batchInfo(batches[i].id);
            if (
                writer != batches[i].exporter || blockNumber != batches[i].blockNumber
                    || count != batches[i].count
            ) {
                ++broken;
            }
        }
        assertEq(broken, 0, "an anchored root or recorded batch changed");
    }

    /// @notice Attestation times on chain equal the model for both auditors, every kind and subject.
    function invariant_AttestationsMatchModel() public view {
        (bytes32[] memory subjects, uint64[] memory attestedAt, uint64[] memory revokedAt) =
            handler.modelAttestationTable();
        uint256 broken = 0;
        for (uint256 a = 0; a < 2; ++a) {
            address who = a == 0 ? auditor : otherAuditor;
            for (uint256 k = 0; k < 3; ++k) {
                for (uint256 s = 0; s < subjects.length; ++s) {
                    (uint64 onChainAttestedAt, uint64 onChainRevokedAt,) =
                        ledger.attestation(who, ICarbonLedger.SubjectKind(k), subjects[s]);
                    uint256 i = (a * 3 + k) * subjects.length + s;
                    if (onChainAttestedAt != attestedAt[i] || onChainRevokedAt != revokedAt[i]) ++broken;
                }
            }
        }
        assertEq(broken, 0, "attestations differ from the model");
    }

    /// @notice No event of one exporter names a shipment id of the other's namespace, although both
    /// exporters send the same shipment keys.
    function invariant_NoWriterRecordsInAnotherWritersNamespace() public view {
        LedgerHandler.RecordRef[] memory logged = handler.logged();
        bytes32[] memory ids = _idsOfBothExporters();
        uint256 pool = handler.SHIPMENT_POOL();
        uint256 broken = 0;
        for (uint256 i = 0; i < logged.length; ++i) {
            uint256 at = _indexOf(logged[i].shipmentId, ids);
            address owner = at < pool ? exporter : otherExporter;
            if (logged[i].exporter != owner) ++broken;
        }
        assertEq(broken, 0, "an event names a shipment id of another writer's namespace");
    }

    /// @notice The ids of the shared key pool: the first exporter's, then the other exporter's.
    function _idsOfBothExporters() internal view returns (bytes32[] memory ids) {
        uint256 pool = handler.SHIPMENT_POOL();
        ids = new bytes32[](2 * pool);
        for (uint256 s = 0; s < pool; ++s) {
            ids[s] = handler.shipmentIdOf(exporter, s);
            ids[pool + s] = handler.shipmentIdOf(otherExporter, s);
        }
    }

    function _indexOf(bytes32 value, bytes32[] memory values) internal pure returns (uint256) {
        for (uint256 i = 0; i < values.length; ++i) {
            if (values[i] == value) return i;
        }
        revert("value outside its pool");
    }
}

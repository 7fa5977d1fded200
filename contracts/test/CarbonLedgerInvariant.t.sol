// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICarbonLedger} from "../ICarbonLedger.sol";
import {LedgerFixture} from "./utils/LedgerFixture.sol";
import {LedgerHandler} from "./utils/LedgerHandler.sol";

/// @notice Invariants over random call sequences driven by {LedgerHandler}.
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
        assertEq(handler.outsiderWrites(), 0);
        address[] memory outsiders = handler.outsiders();
        bytes32[3] memory roles = [ledger.DEFAULT_ADMIN_ROLE(), ledger.EXPORTER_ROLE(), ledger.AUDITOR_ROLE()];
        for (uint256 i = 0; i < outsiders.length; ++i) {
            for (uint256 r = 0; r < roles.length; ++r) {
                assertFalse(ledger.hasRole(roles[r], outsiders[i]));
            }
            for (uint256 h = 0; h < handler.RECORD_POOL(); ++h) {
                (ICarbonLedger.RecordStatus status,) =
                    ledger.recordStatus(outsiders[i], handler.recordHash(h));
                assertEq(uint8(status), uint8(ICarbonLedger.RecordStatus.Live));
            }
            for (uint256 s = 0; s < 4; ++s) {
                (uint64 attestedAt,,) =
                    ledger.attestation(outsiders[i], ICarbonLedger.SubjectKind.Report, handler.subjectAt(s));
                assertEq(attestedAt, 0);
            }
        }
    }

    /// @notice A revoked record stays revoked.
    function invariant_RevokedRecordStaysRevoked() public view {
        LedgerHandler.RecordRef[] memory revoked = handler.revoked();
        for (uint256 i = 0; i < revoked.length; ++i) {
            (ICarbonLedger.RecordStatus status, bytes32 successor) =
                ledger.recordStatus(revoked[i].exporter, revoked[i].recordHash);
            assertEq(uint8(status), uint8(ICarbonLedger.RecordStatus.Revoked));
            assertEq(successor, bytes32(0));
        }
    }

    /// @notice A superseded record stays superseded by the same successor.
    function invariant_SupersededRecordKeepsItsSuccessor() public view {
        LedgerHandler.RecordRef[] memory superseded = handler.superseded();
        for (uint256 i = 0; i < superseded.length; ++i) {
            (ICarbonLedger.RecordStatus status, bytes32 successor) =
                ledger.recordStatus(superseded[i].exporter, superseded[i].recordHash);
            assertEq(uint8(status), uint8(ICarbonLedger.RecordStatus.Superseded));
            assertEq(successor, handler.modelSuccessor(superseded[i].exporter, superseded[i].recordHash));
            assertTrue(successor != superseded[i].recordHash);
        }
    }

    /// @notice Record statuses on chain equal the model, for every exporter and record of the pools.
    function invariant_RecordStatusMatchesModel() public view {
        for (uint256 e = 0; e < 2; ++e) {
            address writer = handler.exporterAt(e);
            for (uint256 h = 0; h < handler.RECORD_POOL(); ++h) {
                bytes32 hash = handler.recordHash(h);
                (ICarbonLedger.RecordStatus status, bytes32 successor) = ledger.recordStatus(writer, hash);
                assertEq(uint8(status), uint8(handler.modelStatus(writer, hash)));
                assertEq(successor, handler.modelSuccessor(writer, hash));
            }
        }
    }

    /// @notice Every accepted record left one event indexed by its shipment id, and a verifier reading
    /// only the logs and `recordStatus` finds exactly the live records of each shipment: two live
    /// records of one shipment id never go undetected.
    function invariant_EveryLiveRecordOfAShipmentHasAnEvent() public view {
        LedgerHandler.RecordRef[] memory submitted = handler.submitted();
        LedgerHandler.RecordRef[] memory logged = handler.logged();
        assertEq(logged.length, submitted.length, "one event per accepted record");
        for (uint256 i = 0; i < submitted.length; ++i) {
            assertEq(logged[i].shipmentId, submitted[i].shipmentId);
            assertEq(logged[i].exporter, submitted[i].exporter);
            assertEq(logged[i].recordHash, submitted[i].recordHash);
        }
        for (uint256 s = 0; s < handler.SHIPMENT_POOL(); ++s) {
            bytes32 id = handler.shipmentId(s);
            uint256 liveInModel = 0;
            for (uint256 i = 0; i < submitted.length; ++i) {
                if (
                    submitted[i].shipmentId == id
                        && handler.modelStatus(submitted[i].exporter, submitted[i].recordHash)
                            == ICarbonLedger.RecordStatus.Live
                ) ++liveInModel;
            }
            uint256 liveFromChain = 0;
            for (uint256 i = 0; i < logged.length; ++i) {
                if (logged[i].shipmentId != id) continue;
                (ICarbonLedger.RecordStatus status,) =
                    ledger.recordStatus(logged[i].exporter, logged[i].recordHash);
                if (status == ICarbonLedger.RecordStatus.Live) ++liveFromChain;
            }
            assertEq(liveFromChain, liveInModel);
        }
    }

    /// @notice An anchored root (and a recorded batch) never changes: writer, block and count stay.
    function invariant_AnchoredRootNeverChanges() public view {
        LedgerHandler.Anchor[] memory roots = handler.roots();
        for (uint256 i = 0; i < roots.length; ++i) {
            (address writer, uint64 blockNumber, uint32 count) = ledger.rootInfo(roots[i].id);
            assertEq(writer, roots[i].exporter);
            assertEq(blockNumber, roots[i].blockNumber);
            assertEq(count, roots[i].count);
        }
        LedgerHandler.Anchor[] memory batches = handler.batches();
        for (uint256 i = 0; i < batches.length; ++i) {
            (address writer, uint64 blockNumber, uint32 count) = ledger.batchInfo(batches[i].id);
            assertEq(writer, batches[i].exporter);
            assertEq(blockNumber, batches[i].blockNumber);
            assertEq(count, batches[i].count);
        }
    }

    /// @notice Attestation times on chain equal the model for both auditors, every kind and subject.
    function invariant_AttestationsMatchModel() public view {
        for (uint256 a = 0; a < 2; ++a) {
            address who = handler.auditorAt(a);
            for (uint8 k = 0; k < 3; ++k) {
                for (uint256 s = 0; s < 4; ++s) {
                    bytes32 subject = handler.subjectAt(s);
                    (uint64 attestedAt, uint64 revokedAt,) =
                        ledger.attestation(who, ICarbonLedger.SubjectKind(k), subject);
                    assertEq(attestedAt, handler.modelAttestedAt(who, k, subject));
                    assertEq(revokedAt, handler.modelRevokedAt(who, k, subject));
                }
            }
        }
    }
}

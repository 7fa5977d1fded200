// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {CarbonLedger} from "../CarbonLedger.sol";
import {ICarbonLedger} from "../ICarbonLedger.sol";
import {LedgerFixture, RecordedShipment, Shipment} from "./utils/LedgerFixture.sol";
import {StandardMerkleTree} from "./utils/StandardMerkleTree.sol";

/// @notice Unit tests: every function and every custom error of {CarbonLedger}.
contract CarbonLedgerTest is LedgerFixture {
    bytes32 internal constant BATCH = keccak256("batch-1");
    bytes32 internal constant SHIPMENT_KEY = keccak256("SHP-NGB-RTM-0001");
    bytes32 internal constant RECORD = keccak256("record of SHP-NGB-RTM-0001");
    bytes32 internal constant RECORD_V2 = keccak256("record of SHP-NGB-RTM-0001, corrected");
    bytes32 internal constant ROOT = keccak256("some root");

    // ------------------------------------------------------------------ deployment and roles

    function test_GrantsAdminRoleToConstructorArgument() public {
        assertTrue(ledger.hasRole(ledger.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(ledger.hasRole(ledger.DEFAULT_ADMIN_ROLE(), address(this)));
        CarbonLedger other = new CarbonLedger(stranger);
        assertTrue(other.hasRole(other.DEFAULT_ADMIN_ROLE(), stranger));
    }

    function test_RoleIdsAreHashesOfTheirNames() public view {
        assertEq(ledger.EXPORTER_ROLE(), keccak256("EXPORTER_ROLE"));
        assertEq(ledger.AUDITOR_ROLE(), keccak256("AUDITOR_ROLE"));
        assertEq(ledger.getRoleAdmin(ledger.EXPORTER_ROLE()), ledger.DEFAULT_ADMIN_ROLE());
        assertEq(ledger.getRoleAdmin(ledger.AUDITOR_ROLE()), ledger.DEFAULT_ADMIN_ROLE());
    }

    function test_SupportsLedgerAndAccessControlInterfaces() public view {
        assertTrue(ledger.supportsInterface(type(ICarbonLedger).interfaceId));
        assertTrue(ledger.supportsInterface(type(IAccessControl).interfaceId));
        assertTrue(ledger.supportsInterface(type(IERC165).interfaceId));
        assertFalse(ledger.supportsInterface(0xffffffff));
    }

    function test_RevertWhen_NonAdminGrantsRole() public {
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                exporter,
                ledger.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(exporter);
        ledger.grantRole(exporterRole, stranger);
    }

    function test_RevertWhen_ExporterRoleWasRevoked() public {
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        vm.prank(admin);
        ledger.revokeRole(exporterRole, exporter);
        bytes memory packed = pack(one(SHIPMENT_KEY, RECORD, 1, 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, exporter, exporterRole
            )
        );
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, packed);
    }

    // ------------------------------------------------------------------ factor sets

    function test_RegistersFactorSet() public {
        bytes32 id = keccak256("defra-2025-freight@v2");
        assertFalse(ledger.isFactorSetRegistered(id));
        assertEq(ledger.factorSetUri(id), "");

        vm.expectEmit(address(ledger));
        emit ICarbonLedger.FactorSetRegistered(id, "ipfs://tables-v2");
        vm.prank(admin);
        ledger.registerFactorSet(id, "ipfs://tables-v2");

        assertTrue(ledger.isFactorSetRegistered(id));
        assertEq(ledger.factorSetUri(id), "ipfs://tables-v2");
    }

    function test_RegistersFactorSetWithEmptyUri() public {
        bytes32 id = keccak256("no uri");
        vm.prank(admin);
        ledger.registerFactorSet(id, "");
        assertTrue(ledger.isFactorSetRegistered(id));
        assertEq(ledger.factorSetUri(id), "");
    }

    function test_FixtureFactorSetIsRegistered() public view {
        assertTrue(ledger.isFactorSetRegistered(FACTOR_SET));
        assertEq(ledger.factorSetUri(FACTOR_SET), FACTOR_SET_URI);
    }

    function test_RevertWhen_CallerIsNotAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                exporter,
                ledger.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(exporter);
        ledger.registerFactorSet(keccak256("x"), "x");
    }

    function test_RevertWhen_FactorSetIdIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.InvalidFactorSet.selector, bytes32(0)));
        vm.prank(admin);
        ledger.registerFactorSet(bytes32(0), "x");
    }

    function test_RevertWhen_FactorSetAlreadyRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.FactorSetAlreadyRegistered.selector, FACTOR_SET));
        vm.prank(admin);
        ledger.registerFactorSet(FACTOR_SET, "another uri");
        assertEq(ledger.factorSetUri(FACTOR_SET), FACTOR_SET_URI);
    }

    // ------------------------------------------------------------------ per-shipment path

    function test_RecordsBatch() public {
        Shipment[] memory shipments = someShipments(3, 1);
        bytes memory packed = pack(shipments);

        vm.expectEmit(address(ledger));
        emit ICarbonLedger.ShipmentBatchRecorded(BATCH, exporter, FACTOR_SET, 3);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectEmit(address(ledger));
            emit ICarbonLedger.ShipmentRecorded(
                idOf(exporter, shipments[i].shipmentKey),
                shipments[i].recordHash,
                FACTOR_SET,
                exporterAndCo2e(exporter, shipments[i].co2eWtwG, shipments[i].co2eTtwG)
            );
        }
        vm.roll(1234);
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, packed);

        (address writer, uint64 blockNumber, uint32 count) = ledger.batchInfo(BATCH);
        assertEq(writer, exporter);
        assertEq(blockNumber, 1234);
        assertEq(count, 3);
    }

    function test_RecordsOneEventPerShipmentAndNothingElse() public {
        Shipment[] memory shipments = someShipments(5, 2);
        vm.recordLogs();
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, pack(shipments));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 6, "one batch event + one event per shipment");
        assertEq(logs[0].topics[0], ICarbonLedger.ShipmentBatchRecorded.selector);

        (RecordedShipment[] memory decoded, address[] memory writers, bytes32[] memory factorSets) =
            decodeShipmentLogs(logs, address(ledger));
        assertEq(decoded.length, 5);
        for (uint256 i = 0; i < 5; ++i) {
            assertEq(logs[i + 1].topics.length, 2, "shipment id is the only indexed field");
            assertEq(decoded[i].shipmentId, idOf(exporter, shipments[i].shipmentKey));
            assertEq(decoded[i].recordHash, shipments[i].recordHash);
            assertEq(decoded[i].co2eWtwG, shipments[i].co2eWtwG);
            assertEq(decoded[i].co2eTtwG, shipments[i].co2eTtwG);
            assertEq(writers[i], exporter);
            assertEq(factorSets[i], FACTOR_SET);
        }
    }

    function test_RecordsLargestAmounts() public {
        uint48 max = type(uint48).max;
        vm.expectEmit(address(ledger));
        emit ICarbonLedger.ShipmentRecorded(
            idOf(exporter, SHIPMENT_KEY), RECORD, FACTOR_SET, exporterAndCo2e(exporter, max, max)
        );
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, pack(one(SHIPMENT_KEY, RECORD, max, max)));
    }

    function test_RecordsSecondRecordOfShipmentAsSecondIndexedEvent() public {
        // The per-shipment path keeps no per-shipment storage: a second record of the same shipment id
        // is accepted, and both leave an event indexed by the shipment id, so the conflict is visible.
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, pack(one(SHIPMENT_KEY, RECORD, 10, 5)));

        vm.recordLogs();
        vm.prank(exporter);
        ledger.recordShipments(keccak256("batch-2"), FACTOR_SET, pack(one(SHIPMENT_KEY, RECORD_V2, 11, 6)));
        (RecordedShipment[] memory decoded, address[] memory writers,) =
            decodeShipmentLogs(vm.getRecordedLogs(), address(ledger));
        assertEq(decoded.length, 1);
        assertEq(decoded[0].shipmentId, idOf(exporter, SHIPMENT_KEY));
        assertEq(decoded[0].recordHash, RECORD_V2);
        assertEq(writers[0], exporter);
    }

    function test_ForeignWriterOfTheSameKeyRecordsUnderItsOwnId() public {
        // Another exporter who sends this exporter's key writes in its own namespace: no event carries
        // the owner's shipment id, so the owner's shipment shows no record it did not write.
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, pack(one(SHIPMENT_KEY, RECORD, 10, 5)));

        vm.recordLogs();
        vm.prank(otherExporter);
        ledger.recordShipments(keccak256("batch-2"), FACTOR_SET, pack(one(SHIPMENT_KEY, RECORD_V2, 11, 6)));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        (RecordedShipment[] memory decoded, address[] memory writers,) =
            decodeShipmentLogs(logs, address(ledger));
        assertEq(decoded.length, 1);
        assertEq(decoded[0].shipmentId, idOf(otherExporter, SHIPMENT_KEY));
        assertTrue(decoded[0].shipmentId != idOf(exporter, SHIPMENT_KEY));
        assertEq(writers[0], otherExporter);
    }

    function test_ShipmentIdRuleIsTwoAndDerivesFromTheWriter() public view {
        assertEq(ledger.shipmentIdRule(), 2);
        assertEq(ledger.shipmentIdOf(exporter, SHIPMENT_KEY), idOf(exporter, SHIPMENT_KEY));
        assertEq(
            ledger.shipmentIdOf(exporter, SHIPMENT_KEY),
            keccak256(bytes.concat(bytes32(uint256(uint160(exporter))), SHIPMENT_KEY))
        );
        assertTrue(
            ledger.shipmentIdOf(exporter, SHIPMENT_KEY) != ledger.shipmentIdOf(otherExporter, SHIPMENT_KEY)
        );
    }

    function test_BatchInfoIsZeroForUnknownBatch() public view {
        (address writer, uint64 blockNumber, uint32 count) = ledger.batchInfo(BATCH);
        assertEq(writer, address(0));
        assertEq(blockNumber, 0);
        assertEq(count, 0);
    }

    function test_RevertWhen_CallerIsNotExporter() public {
        bytes memory packed = pack(one(SHIPMENT_KEY, RECORD, 1, 1));
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        address[3] memory callers = [admin, auditor, stranger];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, callers[i], exporterRole
                )
            );
            vm.prank(callers[i]);
            ledger.recordShipments(BATCH, FACTOR_SET, packed);
        }
    }

    function test_RevertWhen_FactorSetIsUnknown() public {
        bytes32 unknown = keccak256("unregistered tables");
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.UnknownFactorSet.selector, unknown));
        vm.prank(exporter);
        ledger.recordShipments(BATCH, unknown, pack(one(SHIPMENT_KEY, RECORD, 1, 1)));
    }

    function test_RevertWhen_BatchIsEmpty() public {
        vm.expectRevert(ICarbonLedger.EmptyBatch.selector);
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, "");
    }

    function test_RevertWhen_BatchLengthIsNotMultipleOf76() public {
        bytes memory packed = bytes.concat(pack(one(SHIPMENT_KEY, RECORD, 1, 1)), hex"00");
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.MalformedBatch.selector, 77));
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, packed);
    }

    function test_RevertWhen_BatchIdWasUsed() public {
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, pack(one(SHIPMENT_KEY, RECORD, 1, 1)));
        // The same batch id is refused whoever sends it and whatever it holds.
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.BatchAlreadyRecorded.selector, BATCH));
        vm.prank(otherExporter);
        ledger.recordShipments(BATCH, FACTOR_SET, pack(one(keccak256("other"), RECORD, 1, 1)));
        (address writer,,) = ledger.batchInfo(BATCH);
        assertEq(writer, exporter);
    }

    function test_RevertWhen_ShipmentKeyIsZero() public {
        Shipment[] memory shipments = someShipments(3, 3);
        shipments[1].shipmentKey = bytes32(0);
        vm.expectRevert(
            abi.encodeWithSelector(ICarbonLedger.InvalidRecord.selector, bytes32(0), shipments[1].recordHash)
        );
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, pack(shipments));
        (address writer,,) = ledger.batchInfo(BATCH);
        assertEq(writer, address(0), "nothing of a refused batch is kept");
    }

    function test_RevertWhen_RecordHashIsZero() public {
        Shipment[] memory shipments = someShipments(3, 4);
        shipments[2].recordHash = bytes32(0);
        vm.expectRevert(
            abi.encodeWithSelector(ICarbonLedger.InvalidRecord.selector, shipments[2].shipmentKey, bytes32(0))
        );
        vm.prank(exporter);
        ledger.recordShipments(BATCH, FACTOR_SET, pack(shipments));
    }

    // ------------------------------------------------------------------ root-only path

    function test_AnchorsRoot() public {
        vm.expectEmit(address(ledger));
        emit ICarbonLedger.RootAnchored(ROOT, exporter, FACTOR_SET, 500);
        vm.roll(77);
        vm.prank(exporter);
        ledger.anchorRoot(ROOT, FACTOR_SET, 500);

        (address writer, uint64 blockNumber, uint32 count) = ledger.rootInfo(ROOT);
        assertEq(writer, exporter);
        assertEq(blockNumber, 77);
        assertEq(count, 500);
    }

    function test_AnchorsRootOfLargestCount() public {
        vm.prank(exporter);
        ledger.anchorRoot(ROOT, FACTOR_SET, type(uint32).max);
        (,, uint32 count) = ledger.rootInfo(ROOT);
        assertEq(count, type(uint32).max);
    }

    function test_RootInfoIsZeroForUnknownRoot() public view {
        (address writer, uint64 blockNumber, uint32 count) = ledger.rootInfo(ROOT);
        assertEq(writer, address(0));
        assertEq(blockNumber, 0);
        assertEq(count, 0);
    }

    function test_RevertWhen_CallerIsNotExporterOnAnchor() public {
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, auditor, exporterRole
            )
        );
        vm.prank(auditor);
        ledger.anchorRoot(ROOT, FACTOR_SET, 1);
    }

    function test_RevertWhen_RootIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.InvalidRoot.selector, bytes32(0)));
        vm.prank(exporter);
        ledger.anchorRoot(bytes32(0), FACTOR_SET, 1);
    }

    function test_RevertWhen_RootFactorSetIsUnknown() public {
        bytes32 unknown = keccak256("unregistered tables");
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.UnknownFactorSet.selector, unknown));
        vm.prank(exporter);
        ledger.anchorRoot(ROOT, unknown, 1);
    }

    function test_RevertWhen_RootCountIsZero() public {
        vm.expectRevert(ICarbonLedger.EmptyBatch.selector);
        vm.prank(exporter);
        ledger.anchorRoot(ROOT, FACTOR_SET, 0);
    }

    function test_RevertWhen_RootWasAnchored() public {
        vm.prank(exporter);
        ledger.anchorRoot(ROOT, FACTOR_SET, 3);
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.RootAlreadyAnchored.selector, ROOT));
        vm.prank(otherExporter);
        ledger.anchorRoot(ROOT, FACTOR_SET, 4);
        (address writer,, uint32 count) = ledger.rootInfo(ROOT);
        assertEq(writer, exporter);
        assertEq(count, 3);
    }

    // ------------------------------------------------------------------ Merkle proofs

    /// @dev Leaves, root and proofs produced by `@openzeppelin/merkle-tree` 1.0.8
    /// (`StandardMerkleTree.of(values, ["bytes32", "bytes32", "uint256", "uint256"])`) for
    /// shipment i = 1..3: (keccak256("shipment-i"), keccak256("record-i"), 1000000 i + 123, 100000 i + 45).
    bytes32 internal constant REFERENCE_ROOT =
        0x1aaf6412b0e9731eacb16931cf141093b86f1b4a2f86034d9fd728adfe83f6f9;

    function _referenceLeaf(uint256 i) internal pure returns (StandardMerkleTree.Leaf memory) {
        string memory n = vm.toString(i);
        return StandardMerkleTree.Leaf(
            keccak256(bytes(string.concat("shipment-", n))),
            keccak256(bytes(string.concat("record-", n))),
            1_000_000 * i + 123,
            100_000 * i + 45
        );
    }

    function _referenceProof(uint256 i) internal pure returns (bytes32[] memory proof) {
        if (i == 2) {
            proof = new bytes32[](1);
            proof[0] = 0x2863e9d64301357f72afa5e849610783b215f28e82e140c3c6b3a2da7d00b29f;
            return proof;
        }
        proof = new bytes32[](2);
        proof[0] = i == 1
            ? bytes32(0x84b79e18bda035693a63bda39eac81e30c9a190b2c1d4965d2e89dfe3a430d99)
            : bytes32(0xa7762f41d6df61d1ddd161fc829b4ab0fec369bdcb8389e11a0e2e2d58522551);
        proof[1] = 0xc39112277935eabeacc11964604ca2f9051bd0cea500e9fb35b12a556d368acb;
    }

    function test_VerifiesProofsOfReferenceLibrary() public {
        vm.prank(exporter);
        ledger.anchorRoot(REFERENCE_ROOT, FACTOR_SET, 3);
        for (uint256 i = 1; i <= 3; ++i) {
            StandardMerkleTree.Leaf memory leaf = _referenceLeaf(i);
            assertTrue(
                ledger.verifyShipment(
                    REFERENCE_ROOT,
                    _referenceProof(i),
                    leaf.shipmentId,
                    leaf.recordHash,
                    leaf.co2eWtwG,
                    leaf.co2eTtwG
                )
            );
        }
    }

    function test_TreeHelperMatchesReferenceLibrary() public pure {
        StandardMerkleTree.Leaf[] memory leaves = new StandardMerkleTree.Leaf[](3);
        for (uint256 i = 0; i < 3; ++i) {
            leaves[i] = _referenceLeaf(i + 1);
        }
        bytes32[] memory tree = StandardMerkleTree.build(leaves);
        assertEq(tree[0], REFERENCE_ROOT);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(
                StandardMerkleTree.proof(tree, StandardMerkleTree.leafHash(leaves[i])), _referenceProof(i + 1)
            );
        }
    }

    function test_RejectsProofOfAlteredLeaf() public {
        vm.prank(exporter);
        ledger.anchorRoot(REFERENCE_ROOT, FACTOR_SET, 3);
        StandardMerkleTree.Leaf memory leaf = _referenceLeaf(1);
        bytes32[] memory proof = _referenceProof(1);
        assertFalse(
            ledger.verifyShipment(
                REFERENCE_ROOT, proof, leaf.shipmentId, leaf.recordHash, leaf.co2eWtwG - 1, leaf.co2eTtwG
            )
        );
        assertFalse(
            ledger.verifyShipment(
                REFERENCE_ROOT, proof, leaf.shipmentId, RECORD, leaf.co2eWtwG, leaf.co2eTtwG
            )
        );
        assertFalse(
            ledger.verifyShipment(
                REFERENCE_ROOT, proof, SHIPMENT_KEY, leaf.recordHash, leaf.co2eWtwG, leaf.co2eTtwG
            )
        );
        assertFalse(
            ledger.verifyShipment(
                REFERENCE_ROOT,
                _referenceProof(3),
                leaf.shipmentId,
                leaf.recordHash,
                leaf.co2eWtwG,
                leaf.co2eTtwG
            )
        );
    }

    function test_RejectsProofAgainstRootNeverAnchored() public view {
        StandardMerkleTree.Leaf memory leaf = _referenceLeaf(1);
        assertFalse(
            ledger.verifyShipment(
                REFERENCE_ROOT,
                _referenceProof(1),
                leaf.shipmentId,
                leaf.recordHash,
                leaf.co2eWtwG,
                leaf.co2eTtwG
            )
        );
    }

    function test_VerifiesSingleLeafTreeWithEmptyProof() public {
        StandardMerkleTree.Leaf memory leaf = StandardMerkleTree.Leaf(SHIPMENT_KEY, RECORD, 42, 7);
        bytes32 root = StandardMerkleTree.leafHash(leaf);
        vm.prank(exporter);
        ledger.anchorRoot(root, FACTOR_SET, 1);
        assertTrue(ledger.verifyShipment(root, new bytes32[](0), SHIPMENT_KEY, RECORD, 42, 7));
        assertFalse(ledger.verifyShipment(root, new bytes32[](0), SHIPMENT_KEY, RECORD, 42, 8));
    }

    // ------------------------------------------------------------------ revoke / supersede

    function test_RecordIsLiveUntilChanged() public view {
        (ICarbonLedger.RecordStatus status, bytes32 successor) = ledger.recordStatus(exporter, RECORD);
        assertEq(uint8(status), uint8(ICarbonLedger.RecordStatus.Live));
        assertEq(successor, bytes32(0));
    }

    function test_RevokesRecord() public {
        vm.expectEmit(address(ledger));
        emit ICarbonLedger.RecordRevoked(idOf(exporter, SHIPMENT_KEY), exporter, RECORD);
        vm.prank(exporter);
        ledger.revokeRecord(SHIPMENT_KEY, RECORD);
        (ICarbonLedger.RecordStatus status, bytes32 successor) = ledger.recordStatus(exporter, RECORD);
        assertEq(uint8(status), uint8(ICarbonLedger.RecordStatus.Revoked));
        assertEq(successor, bytes32(0));
    }

    function test_RevocationTouchesOnlyTheCallersRecord() public {
        // The event of a foreign writer's revocation names the foreign writer's shipment id.
        vm.expectEmit(address(ledger));
        emit ICarbonLedger.RecordRevoked(idOf(otherExporter, SHIPMENT_KEY), otherExporter, RECORD);
        vm.prank(otherExporter);
        ledger.revokeRecord(SHIPMENT_KEY, RECORD);
        (ICarbonLedger.RecordStatus mine,) = ledger.recordStatus(exporter, RECORD);
        (ICarbonLedger.RecordStatus theirs,) = ledger.recordStatus(otherExporter, RECORD);
        assertEq(uint8(mine), uint8(ICarbonLedger.RecordStatus.Live));
        assertEq(uint8(theirs), uint8(ICarbonLedger.RecordStatus.Revoked));
    }

    function test_RevertWhen_CallerIsNotExporterOnRevoke() public {
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, admin, exporterRole
            )
        );
        vm.prank(admin);
        ledger.revokeRecord(SHIPMENT_KEY, RECORD);
    }

    function test_RevertWhen_RevokedRecordIsZero() public {
        vm.startPrank(exporter);
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.InvalidRecord.selector, bytes32(0), RECORD));
        ledger.revokeRecord(bytes32(0), RECORD);
        vm.expectRevert(
            abi.encodeWithSelector(ICarbonLedger.InvalidRecord.selector, SHIPMENT_KEY, bytes32(0))
        );
        ledger.revokeRecord(SHIPMENT_KEY, bytes32(0));
        vm.stopPrank();
    }

    function test_RevertWhen_RecordIsRevokedTwice() public {
        vm.startPrank(exporter);
        ledger.revokeRecord(SHIPMENT_KEY, RECORD);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.RecordNotLive.selector, exporter, RECORD, ICarbonLedger.RecordStatus.Revoked
            )
        );
        ledger.revokeRecord(SHIPMENT_KEY, RECORD);
        vm.stopPrank();
    }

    function test_RevertWhen_SupersededRecordIsRevoked() public {
        vm.startPrank(exporter);
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, RECORD_V2);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.RecordNotLive.selector, exporter, RECORD, ICarbonLedger.RecordStatus.Superseded
            )
        );
        ledger.revokeRecord(SHIPMENT_KEY, RECORD);
        vm.stopPrank();
    }

    function test_SupersedesRecord() public {
        vm.expectEmit(address(ledger));
        emit ICarbonLedger.RecordSuperseded(idOf(exporter, SHIPMENT_KEY), exporter, RECORD, RECORD_V2);
        vm.prank(exporter);
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, RECORD_V2);
        (ICarbonLedger.RecordStatus status, bytes32 successor) = ledger.recordStatus(exporter, RECORD);
        assertEq(uint8(status), uint8(ICarbonLedger.RecordStatus.Superseded));
        assertEq(successor, RECORD_V2);
        (ICarbonLedger.RecordStatus newStatus,) = ledger.recordStatus(exporter, RECORD_V2);
        assertEq(uint8(newStatus), uint8(ICarbonLedger.RecordStatus.Live));
        (ICarbonLedger.RecordStatus othersStatus,) = ledger.recordStatus(otherExporter, RECORD);
        assertEq(uint8(othersStatus), uint8(ICarbonLedger.RecordStatus.Live));
    }

    function test_SupersedesAlongAChain() public {
        bytes32 recordV3 = keccak256("v3");
        vm.startPrank(exporter);
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, RECORD_V2);
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD_V2, recordV3);
        vm.stopPrank();
        (, bytes32 first) = ledger.recordStatus(exporter, RECORD);
        (, bytes32 second) = ledger.recordStatus(exporter, RECORD_V2);
        assertEq(first, RECORD_V2);
        assertEq(second, recordV3);
    }

    function test_RevertWhen_CallerIsNotExporterOnSupersede() public {
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, exporterRole
            )
        );
        vm.prank(stranger);
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, RECORD_V2);
    }

    function test_RevertWhen_SupersededRecordIsZero() public {
        vm.startPrank(exporter);
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.InvalidRecord.selector, bytes32(0), RECORD));
        ledger.supersedeRecord(bytes32(0), RECORD, RECORD_V2);
        vm.expectRevert(
            abi.encodeWithSelector(ICarbonLedger.InvalidRecord.selector, SHIPMENT_KEY, bytes32(0))
        );
        ledger.supersedeRecord(SHIPMENT_KEY, bytes32(0), RECORD_V2);
        vm.expectRevert(
            abi.encodeWithSelector(ICarbonLedger.InvalidRecord.selector, SHIPMENT_KEY, bytes32(0))
        );
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, bytes32(0));
        vm.stopPrank();
    }

    function test_RevertWhen_RecordSupersedesItself() public {
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.SelfSupersede.selector, RECORD));
        vm.prank(exporter);
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, RECORD);
    }

    function test_RevertWhen_RevokedRecordIsSuperseded() public {
        vm.startPrank(exporter);
        ledger.revokeRecord(SHIPMENT_KEY, RECORD);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.RecordNotLive.selector, exporter, RECORD, ICarbonLedger.RecordStatus.Revoked
            )
        );
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, RECORD_V2);
        vm.stopPrank();
    }

    function test_RevertWhen_SuccessorIsNotLive() public {
        vm.startPrank(exporter);
        ledger.revokeRecord(SHIPMENT_KEY, RECORD_V2);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.RecordNotLive.selector, exporter, RECORD_V2, ICarbonLedger.RecordStatus.Revoked
            )
        );
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, RECORD_V2);
        vm.stopPrank();
    }

    function test_RevertWhen_SupersessionWouldCloseACycle() public {
        vm.startPrank(exporter);
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD, RECORD_V2);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.RecordNotLive.selector, exporter, RECORD, ICarbonLedger.RecordStatus.Superseded
            )
        );
        ledger.supersedeRecord(SHIPMENT_KEY, RECORD_V2, RECORD);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ attestations

    function test_Attests() public {
        bytes32 evidence = keccak256("verdict: consistent");
        vm.warp(1_767_225_600);
        vm.expectEmit(address(ledger));
        emit ICarbonLedger.Attested(ROOT, auditor, ICarbonLedger.SubjectKind.Batch, evidence);
        vm.prank(auditor);
        ledger.attest(ICarbonLedger.SubjectKind.Batch, ROOT, evidence);

        (uint64 attestedAt, uint64 revokedAt, bytes32 stored) =
            ledger.attestation(auditor, ICarbonLedger.SubjectKind.Batch, ROOT);
        assertEq(attestedAt, 1_767_225_600);
        assertEq(revokedAt, 0);
        assertEq(stored, evidence);
    }

    function test_AttestationsAreKeptPerAuditorAndKind() public {
        vm.prank(auditor);
        ledger.attest(ICarbonLedger.SubjectKind.Record, RECORD, bytes32(0));
        (uint64 asReport,,) = ledger.attestation(auditor, ICarbonLedger.SubjectKind.Report, RECORD);
        (uint64 byOther,,) = ledger.attestation(otherAuditor, ICarbonLedger.SubjectKind.Record, RECORD);
        (uint64 asRecord,,) = ledger.attestation(auditor, ICarbonLedger.SubjectKind.Record, RECORD);
        assertEq(asReport, 0);
        assertEq(byOther, 0);
        assertEq(asRecord, block.timestamp);
        vm.prank(otherAuditor);
        ledger.attest(ICarbonLedger.SubjectKind.Record, RECORD, bytes32(0));
    }

    function test_AttestationIsZeroWhenNeverMade() public view {
        (uint64 attestedAt, uint64 revokedAt, bytes32 evidence) =
            ledger.attestation(auditor, ICarbonLedger.SubjectKind.Report, ROOT);
        assertEq(attestedAt, 0);
        assertEq(revokedAt, 0);
        assertEq(evidence, bytes32(0));
    }

    function test_RevertWhen_CallerIsNotAuditor() public {
        bytes32 auditorRole = ledger.AUDITOR_ROLE();
        address[3] memory callers = [admin, exporter, stranger];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, callers[i], auditorRole
                )
            );
            vm.prank(callers[i]);
            ledger.attest(ICarbonLedger.SubjectKind.Report, ROOT, bytes32(0));
        }
    }

    function test_RevertWhen_SubjectIsAttestedTwice() public {
        vm.startPrank(auditor);
        ledger.attest(ICarbonLedger.SubjectKind.Report, ROOT, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.AlreadyAttested.selector, auditor, ICarbonLedger.SubjectKind.Report, ROOT
            )
        );
        ledger.attest(ICarbonLedger.SubjectKind.Report, ROOT, keccak256("other evidence"));
        vm.stopPrank();
    }

    function test_RevokesAttestation() public {
        vm.warp(1000);
        vm.prank(auditor);
        ledger.attest(ICarbonLedger.SubjectKind.Record, RECORD, keccak256("e"));
        vm.warp(2000);
        vm.expectEmit(address(ledger));
        emit ICarbonLedger.AttestationRevoked(RECORD, auditor, ICarbonLedger.SubjectKind.Record);
        vm.prank(auditor);
        ledger.revokeAttestation(ICarbonLedger.SubjectKind.Record, RECORD);
        (uint64 attestedAt, uint64 revokedAt, bytes32 evidence) =
            ledger.attestation(auditor, ICarbonLedger.SubjectKind.Record, RECORD);
        assertEq(attestedAt, 1000);
        assertEq(revokedAt, 2000);
        assertEq(evidence, keccak256("e"));
    }

    function test_AttestsAgainAfterRevocation() public {
        vm.startPrank(auditor);
        vm.warp(1000);
        ledger.attest(ICarbonLedger.SubjectKind.Record, RECORD, keccak256("first"));
        vm.warp(2000);
        ledger.revokeAttestation(ICarbonLedger.SubjectKind.Record, RECORD);
        vm.warp(3000);
        ledger.attest(ICarbonLedger.SubjectKind.Record, RECORD, keccak256("second"));
        vm.stopPrank();
        (uint64 attestedAt, uint64 revokedAt, bytes32 evidence) =
            ledger.attestation(auditor, ICarbonLedger.SubjectKind.Record, RECORD);
        assertEq(attestedAt, 3000);
        assertEq(revokedAt, 0);
        assertEq(evidence, keccak256("second"));
    }

    function test_RevertWhen_CallerIsNotAuditorOnRevokeAttestation() public {
        vm.prank(auditor);
        ledger.attest(ICarbonLedger.SubjectKind.Record, RECORD, bytes32(0));
        bytes32 auditorRole = ledger.AUDITOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, exporter, auditorRole
            )
        );
        vm.prank(exporter);
        ledger.revokeAttestation(ICarbonLedger.SubjectKind.Record, RECORD);
    }

    function test_RevertWhen_AttestationDoesNotExist() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.NoSuchAttestation.selector, auditor, ICarbonLedger.SubjectKind.Record, RECORD
            )
        );
        vm.prank(auditor);
        ledger.revokeAttestation(ICarbonLedger.SubjectKind.Record, RECORD);
    }

    function test_RevertWhen_AnotherAuditorsAttestationIsRevoked() public {
        vm.prank(auditor);
        ledger.attest(ICarbonLedger.SubjectKind.Record, RECORD, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.NoSuchAttestation.selector,
                otherAuditor,
                ICarbonLedger.SubjectKind.Record,
                RECORD
            )
        );
        vm.prank(otherAuditor);
        ledger.revokeAttestation(ICarbonLedger.SubjectKind.Record, RECORD);
    }

    function test_RevertWhen_AttestationIsRevokedTwice() public {
        vm.startPrank(auditor);
        ledger.attest(ICarbonLedger.SubjectKind.Record, RECORD, bytes32(0));
        ledger.revokeAttestation(ICarbonLedger.SubjectKind.Record, RECORD);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.NoSuchAttestation.selector, auditor, ICarbonLedger.SubjectKind.Record, RECORD
            )
        );
        ledger.revokeAttestation(ICarbonLedger.SubjectKind.Record, RECORD);
        vm.stopPrank();
    }
}

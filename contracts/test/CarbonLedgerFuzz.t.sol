// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ICarbonLedger} from "../ICarbonLedger.sol";
import {LedgerFixture, RecordedShipment, Shipment} from "./utils/LedgerFixture.sol";
import {StandardMerkleTree} from "./utils/StandardMerkleTree.sol";

/// @notice Property tests over random inputs.
contract CarbonLedgerFuzzTest is LedgerFixture {
    function _nonZero(bytes32 value) internal pure returns (bytes32) {
        return value == bytes32(0) ? bytes32(uint256(1)) : value;
    }

    /// @notice Any amounts below 2^48 grams and any non-zero key and hash come back from the event, the
    /// key as the shipment id derived from the writer.
    function testFuzz_PacksAndUnpacksAnyRecord(
        bytes32 shipmentKey,
        bytes32 recordHash,
        uint48 wtw,
        uint48 ttw
    ) public {
        shipmentKey = _nonZero(shipmentKey);
        recordHash = _nonZero(recordHash);
        vm.recordLogs();
        vm.prank(exporter);
        ledger.recordShipments(keccak256("b"), FACTOR_SET, pack(one(shipmentKey, recordHash, wtw, ttw)));
        (RecordedShipment[] memory decoded, address[] memory writers, bytes32[] memory factorSets) =
            decodeShipmentLogs(vm.getRecordedLogs(), address(ledger));
        assertEq(decoded.length, 1);
        assertEq(decoded[0].shipmentId, idOf(exporter, shipmentKey));
        assertEq(decoded[0].recordHash, recordHash);
        assertEq(decoded[0].co2eWtwG, wtw);
        assertEq(decoded[0].co2eTtwG, ttw);
        assertEq(writers[0], exporter);
        assertEq(factorSets[0], FACTOR_SET);
    }

    /// @notice The writer in the packed word is whoever holds the exporter role and sends the batch.
    function testFuzz_EventNamesTheSender(address writer, uint48 wtw, uint48 ttw) public {
        vm.assume(writer != address(0));
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        vm.prank(admin);
        ledger.grantRole(exporterRole, writer);
        vm.expectEmit(address(ledger));
        emit ICarbonLedger.ShipmentRecorded(
            idOf(writer, keccak256("s")), keccak256("r"), FACTOR_SET, exporterAndCo2e(writer, wtw, ttw)
        );
        vm.prank(writer);
        ledger.recordShipments(
            keccak256("b"), FACTOR_SET, pack(one(keccak256("s"), keccak256("r"), wtw, ttw))
        );
    }

    /// @notice A batch of any size emits its records in order, and its info counts them.
    function testFuzz_RecordsBatchOfAnySize(uint8 size, uint256 seed, bytes32 batchId) public {
        uint256 n = bound(size, 1, 120);
        Shipment[] memory shipments = someShipments(n, seed);
        vm.recordLogs();
        vm.prank(exporter);
        ledger.recordShipments(batchId, FACTOR_SET, pack(shipments));
        (RecordedShipment[] memory decoded,,) = decodeShipmentLogs(vm.getRecordedLogs(), address(ledger));
        assertEq(decoded.length, n);
        for (uint256 i = 0; i < n; ++i) {
            assertEq(decoded[i].shipmentId, idOf(exporter, shipments[i].shipmentKey));
            assertEq(decoded[i].recordHash, shipments[i].recordHash);
            assertEq(decoded[i].co2eWtwG, shipments[i].co2eWtwG);
            assertEq(decoded[i].co2eTtwG, shipments[i].co2eTtwG);
        }
        (address writer, uint64 blockNumber, uint32 count) = ledger.batchInfo(batchId);
        assertEq(writer, exporter);
        assertEq(blockNumber, block.number);
        assertEq(count, n);
    }

    /// @notice Whatever key a foreign writer sends, and however many, no event it causes carries a shipment
    /// id of the owner's namespace: neither a record nor a revocation nor a supersession.
    function testFuzz_ForeignWriterNeverWritesUnderTheOwnersId(
        address foreign,
        bytes32 ownerKey,
        uint8 size,
        uint256 seed,
        uint8 position
    ) public {
        vm.assume(foreign != exporter && foreign != address(0));
        ownerKey = _nonZero(ownerKey);
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        vm.prank(admin);
        ledger.grantRole(exporterRole, foreign);
        uint256 n = bound(size, 1, 30);
        Shipment[] memory shipments = someShipments(n, seed);
        // The owner's key is among the foreign writer's, and so is the owner's own shipment id.
        shipments[bound(position, 0, n - 1)].shipmentKey = ownerKey;
        shipments[(bound(position, 0, n - 1) + 1) % n].shipmentKey = idOf(exporter, ownerKey);
        bytes32 ownerId = idOf(exporter, ownerKey);

        vm.recordLogs();
        vm.startPrank(foreign);
        ledger.recordShipments(keccak256(abi.encode("foreign", seed)), FACTOR_SET, pack(shipments));
        ledger.revokeRecord(ownerKey, shipments[0].recordHash);
        if (n > 1) ledger.supersedeRecord(ownerKey, shipments[1].recordHash, keccak256("next"));
        vm.stopPrank();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            for (uint256 t = 1; t < logs[i].topics.length; ++t) {
                assertTrue(logs[i].topics[t] != ownerId, "a foreign writer's event carries the owner's id");
            }
        }
        (RecordedShipment[] memory decoded, address[] memory writers,) =
            decodeShipmentLogs(logs, address(ledger));
        assertEq(decoded.length, n);
        for (uint256 i = 0; i < n; ++i) {
            assertEq(decoded[i].shipmentId, idOf(foreign, shipments[i].shipmentKey));
            assertEq(writers[i], foreign);
        }
    }

    /// @notice A packed length that is not a whole number of 76-byte records is refused.
    function testFuzz_RevertWhen_LengthIsNotMultipleOf76(uint16 length) public {
        uint256 n = bound(length, 1, 4000);
        vm.assume(n % 76 != 0);
        bytes memory packed = new bytes(n);
        for (uint256 i = 0; i < n; ++i) {
            packed[i] = 0x11;
        }
        vm.expectRevert(abi.encodeWithSelector(ICarbonLedger.MalformedBatch.selector, n));
        vm.prank(exporter);
        ledger.recordShipments(keccak256("b"), FACTOR_SET, packed);
    }

    /// @notice A zero id or hash anywhere in a batch refuses the whole batch.
    function testFuzz_RevertWhen_AnyRecordIsZero(uint8 size, uint256 seed, uint8 position, bool zeroId)
        public
    {
        uint256 n = bound(size, 1, 40);
        uint256 at = bound(position, 0, n - 1);
        Shipment[] memory shipments = someShipments(n, seed);
        if (zeroId) shipments[at].shipmentKey = bytes32(0);
        else shipments[at].recordHash = bytes32(0);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICarbonLedger.InvalidRecord.selector, shipments[at].shipmentKey, shipments[at].recordHash
            )
        );
        vm.prank(exporter);
        ledger.recordShipments(keccak256("b"), FACTOR_SET, pack(shipments));
    }

    /// @notice Nobody without a role changes anything.
    function testFuzz_RevertWhen_CallerHoldsNoRole(address caller, bytes32 id) public {
        vm.assume(caller != admin && caller != exporter && caller != otherExporter);
        vm.assume(caller != auditor && caller != otherAuditor);
        vm.assume(id != FACTOR_SET);
        id = _nonZero(id);
        bytes32 exporterRole = ledger.EXPORTER_ROLE();
        bytes32 auditorRole = ledger.AUDITOR_ROLE();
        bytes32 adminRole = ledger.DEFAULT_ADMIN_ROLE();
        bytes memory packed = pack(one(id, id, 1, 1));

        vm.startPrank(caller);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, adminRole
            )
        );
        ledger.registerFactorSet(id, "x");
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, exporterRole
            )
        );
        ledger.recordShipments(id, FACTOR_SET, packed);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, exporterRole
            )
        );
        ledger.anchorRoot(id, FACTOR_SET, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, exporterRole
            )
        );
        ledger.revokeRecord(id, id);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, exporterRole
            )
        );
        ledger.supersedeRecord(id, id, keccak256(abi.encode(id)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, auditorRole
            )
        );
        ledger.attest(ICarbonLedger.SubjectKind.Report, id, id);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, auditorRole
            )
        );
        ledger.revokeAttestation(ICarbonLedger.SubjectKind.Report, id);
        vm.stopPrank();

        assertFalse(ledger.isFactorSetRegistered(id));
        (address batchWriter,,) = ledger.batchInfo(id);
        (address rootWriter,,) = ledger.rootInfo(id);
        assertEq(batchWriter, address(0));
        assertEq(rootWriter, address(0));
    }

    /// @notice Every leaf of a random tree verifies on chain with its proof; an altered leaf does not.
    function testFuzz_VerifiesEveryLeafOfRandomTree(uint8 size, uint256 seed, uint48 tweak) public {
        uint256 n = bound(size, 1, 33);
        StandardMerkleTree.Leaf[] memory leaves = new StandardMerkleTree.Leaf[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 h = keccak256(abi.encode(seed, i));
            leaves[i] = StandardMerkleTree.Leaf(
                keccak256(abi.encode(h, "id")),
                keccak256(abi.encode(h, "record")),
                uint256(h) >> 208,
                uint48(tweak)
            );
        }
        bytes32[] memory tree = StandardMerkleTree.build(leaves);
        bytes32 root = tree[0];
        vm.prank(exporter);
        // forge-lint: disable-next-line(unsafe-typecast)
        ledger.anchorRoot(root, FACTOR_SET, uint32(n)); // n <= 33
        for (uint256 i = 0; i < n; ++i) {
            StandardMerkleTree.Leaf memory leaf = leaves[i];
            bytes32[] memory proof = StandardMerkleTree.proof(tree, StandardMerkleTree.leafHash(leaf));
            assertTrue(
                ledger.verifyShipment(
                    root, proof, leaf.shipmentId, leaf.recordHash, leaf.co2eWtwG, leaf.co2eTtwG
                )
            );
            assertFalse(
                ledger.verifyShipment(
                    root, proof, leaf.shipmentId, leaf.recordHash, leaf.co2eWtwG, leaf.co2eTtwG + 1
                )
            );
        }
    }

    /// @notice A proof of a real leaf is refused against a root nobody anchored.
    function testFuzz_RejectsUnanchoredRoot(uint256 seed) public view {
        StandardMerkleTree.Leaf[] memory leaves = new StandardMerkleTree.Leaf[](2);
        leaves[0] =
            StandardMerkleTree.Leaf(keccak256(abi.encode(seed, 0)), keccak256(abi.encode(seed, 1)), 1, 2);
        leaves[1] =
            StandardMerkleTree.Leaf(keccak256(abi.encode(seed, 2)), keccak256(abi.encode(seed, 3)), 3, 4);
        bytes32[] memory tree = StandardMerkleTree.build(leaves);
        bytes32[] memory proof = StandardMerkleTree.proof(tree, StandardMerkleTree.leafHash(leaves[0]));
        assertFalse(ledger.verifyShipment(tree[0], proof, leaves[0].shipmentId, leaves[0].recordHash, 1, 2));
    }

    /// @notice Revoking or superseding as one exporter never changes another exporter's status.
    function testFuzz_ExporterCannotTouchAnotherExportersRecord(
        bytes32 shipmentKey,
        bytes32 recordHash,
        bool revoke
    ) public {
        shipmentKey = _nonZero(shipmentKey);
        recordHash = _nonZero(recordHash);
        bytes32 successor = keccak256(abi.encode(recordHash));
        vm.prank(exporter);
        ledger.recordShipments(keccak256("b"), FACTOR_SET, pack(one(shipmentKey, recordHash, 1, 1)));

        vm.prank(otherExporter);
        if (revoke) ledger.revokeRecord(shipmentKey, recordHash);
        else ledger.supersedeRecord(shipmentKey, recordHash, successor);

        (ICarbonLedger.RecordStatus mine, bytes32 mySuccessor) = ledger.recordStatus(exporter, recordHash);
        assertEq(uint8(mine), uint8(ICarbonLedger.RecordStatus.Live));
        assertEq(mySuccessor, bytes32(0));
        // The writer can still change its own record.
        vm.prank(exporter);
        ledger.revokeRecord(shipmentKey, recordHash);
        (mine,) = ledger.recordStatus(exporter, recordHash);
        assertEq(uint8(mine), uint8(ICarbonLedger.RecordStatus.Revoked));
    }

    /// @notice Once revoked, a record stays revoked whatever its writer tries next.
    function testFuzz_RevokedRecordStaysRevoked(bytes32 recordHash, bytes32 other) public {
        recordHash = _nonZero(recordHash);
        other = _nonZero(other);
        vm.assume(other != recordHash);
        vm.startPrank(exporter);
        ledger.revokeRecord(keccak256("s"), recordHash);
        vm.expectRevert();
        ledger.revokeRecord(keccak256("s"), recordHash);
        vm.expectRevert();
        ledger.supersedeRecord(keccak256("s"), recordHash, other);
        vm.expectRevert();
        ledger.supersedeRecord(keccak256("s"), other, recordHash);
        vm.stopPrank();
        (ICarbonLedger.RecordStatus status,) = ledger.recordStatus(exporter, recordHash);
        assertEq(uint8(status), uint8(ICarbonLedger.RecordStatus.Revoked));
    }

    /// @notice Attest / revoke round trips keep the last times and evidence, per subject kind.
    function testFuzz_AttestationRoundTrip(
        uint8 kindSeed,
        bytes32 subject,
        bytes32 evidence,
        uint32 t1,
        uint32 dt
    ) public {
        ICarbonLedger.SubjectKind kind = ICarbonLedger.SubjectKind(bound(kindSeed, 0, 2));
        uint256 attestedAt = bound(t1, 1, type(uint32).max);
        vm.warp(attestedAt);
        vm.prank(auditor);
        ledger.attest(kind, subject, evidence);
        vm.warp(attestedAt + dt);
        vm.prank(auditor);
        ledger.revokeAttestation(kind, subject);
        (uint64 a, uint64 r, bytes32 e) = ledger.attestation(auditor, kind, subject);
        assertEq(a, attestedAt);
        assertEq(r, attestedAt + dt);
        assertEq(e, evidence);
    }
}

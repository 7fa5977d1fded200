// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ICarbonLedger} from "./ICarbonLedger.sol";

/// @title Carbon-footprint traceability ledger
/// @notice Implementation of {ICarbonLedger}: factor-set registry, per-shipment events in batches,
/// Merkle-root anchoring, revocation and supersession per exporter, and auditor attestations.
/// @dev Batches and roots are each kept in one storage slot:
/// `uint256(uint160(exporter)) << 96 | uint256(blockNumber) << 32 | count`.
/// Attestation times are block timestamps (seconds).
contract CarbonLedger is ICarbonLedger, AccessControl {
    /// @inheritdoc ICarbonLedger
    bytes32 public constant EXPORTER_ROLE = keccak256("EXPORTER_ROLE");
    /// @inheritdoc ICarbonLedger
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR_ROLE");

    /// @dev Bytes per packed record: shipmentKey (32) | recordHash (32) | co2eWtwG (6) | co2eTtwG (6).
    uint256 private constant _RECORD_BYTES = 76;
    /// @dev See {ICarbonLedger-shipmentIdRule}.
    uint256 private constant _SHIPMENT_ID_RULE = 2;

    struct FactorSet {
        bool registered;
        string uri;
    }

    struct RecordState {
        RecordStatus status;
        bytes32 supersededBy;
    }

    struct Attestation {
        uint64 attestedAt;
        uint64 revokedAt;
        bytes32 evidence;
    }

    mapping(bytes32 factorSetId => FactorSet) private _factorSets;
    mapping(bytes32 batchId => uint256 packedInfo) private _batches;
    mapping(bytes32 root => uint256 packedInfo) private _roots;
    mapping(address exporter => mapping(bytes32 recordHash => RecordState)) private _records;
    mapping(address auditor => mapping(SubjectKind kind => mapping(bytes32 subject => Attestation))) private
        _attestations;

    /// @param admin Holder of `DEFAULT_ADMIN_ROLE`: grants the other roles and registers factor sets.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ factor sets

    /// @inheritdoc ICarbonLedger
    function registerFactorSet(bytes32 factorSetId, string calldata uri)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (factorSetId == bytes32(0)) revert InvalidFactorSet(factorSetId);
        FactorSet storage factorSet = _factorSets[factorSetId];
        if (factorSet.registered) revert FactorSetAlreadyRegistered(factorSetId);
        factorSet.registered = true;
        factorSet.uri = uri;
        emit FactorSetRegistered(factorSetId, uri);
    }

    /// @inheritdoc ICarbonLedger
    function isFactorSetRegistered(bytes32 factorSetId) external view returns (bool) {
        return _factorSets[factorSetId].registered;
    }

    /// @inheritdoc ICarbonLedger
    function factorSetUri(bytes32 factorSetId) external view returns (string memory) {
        return _factorSets[factorSetId].uri;
    }

    // ------------------------------------------------------------------ shipment ids

    /// @inheritdoc ICarbonLedger
    function shipmentIdRule() external pure returns (uint256) {
        return _SHIPMENT_ID_RULE;
    }

    /// @inheritdoc ICarbonLedger
    function shipmentIdOf(address writer, bytes32 shipmentKey) external pure returns (bytes32) {
        return _shipmentIdOf(writer, shipmentKey);
    }

    // ------------------------------------------------------------------ per-shipment path

    /// @inheritdoc ICarbonLedger
    function recordShipments(bytes32 batchId, bytes32 factorSetId, bytes calldata packed)
        external
        onlyRole(EXPORTER_ROLE)
    {
        _requireFactorSet(factorSetId);
        uint256 length = packed.length;
        if (length == 0) revert EmptyBatch();
        if (length % _RECORD_BYTES != 0) revert MalformedBatch(length);
        if (_batches[batchId] != 0) revert BatchAlreadyRecorded(batchId);
        uint256 count = length / _RECORD_BYTES;
        // count < 2^32: calldata of 2^32 * 76 bytes cannot fit in any block.
        _batches[batchId] = _packInfo(msg.sender, count);
        emit ShipmentBatchRecorded(batchId, msg.sender, factorSetId, count);
        _emitShipments(factorSetId, packed);
    }

    /// @inheritdoc ICarbonLedger
    function batchInfo(bytes32 batchId)
        external
        view
        returns (address exporter, uint64 blockNumber, uint32 count)
    {
        return _unpackInfo(_batches[batchId]);
    }

    // ------------------------------------------------------------------ root-only path

    /// @inheritdoc ICarbonLedger
    function anchorRoot(bytes32 root, bytes32 factorSetId, uint32 count) external onlyRole(EXPORTER_ROLE) {
        if (root == bytes32(0)) revert InvalidRoot(root);
        _requireFactorSet(factorSetId);
        if (count == 0) revert EmptyBatch();
        if (_roots[root] != 0) revert RootAlreadyAnchored(root);
        _roots[root] = _packInfo(msg.sender, count);
        emit RootAnchored(root, msg.sender, factorSetId, count);
    }

    /// @inheritdoc ICarbonLedger
    function rootInfo(bytes32 root)
        external
        view
        returns (address exporter, uint64 blockNumber, uint32 count)
    {
        return _unpackInfo(_roots[root]);
    }

    /// @inheritdoc ICarbonLedger
    function verifyShipment(
        bytes32 root,
        bytes32[] calldata proof,
        bytes32 shipmentId,
        bytes32 recordHash,
        uint256 co2eWtwG,
        uint256 co2eTtwG
    ) external view returns (bool) {
        // An anchored root's slot always holds the non-zero exporter address: zero = never anchored.
        // Safe strict equality: on a value only this contract writes, not on a balance.
        // slither-disable-next-line incorrect-equality
        if (_roots[root] == 0) return false;
        bytes32 leaf =
            keccak256(bytes.concat(keccak256(abi.encode(shipmentId, recordHash, co2eWtwG, co2eTtwG))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    // ------------------------------------------------------------------ revoke / supersede

    /// @inheritdoc ICarbonLedger
    function revokeRecord(bytes32 shipmentKey, bytes32 recordHash) external onlyRole(EXPORTER_ROLE) {
        if (shipmentKey == bytes32(0) || recordHash == bytes32(0)) {
            revert InvalidRecord(shipmentKey, recordHash);
        }
        RecordState storage state = _requireLive(recordHash);
        state.status = RecordStatus.Revoked;
        emit RecordRevoked(_shipmentIdOf(msg.sender, shipmentKey), msg.sender, recordHash);
    }

    /// @inheritdoc ICarbonLedger
    function supersedeRecord(bytes32 shipmentKey, bytes32 oldRecordHash, bytes32 newRecordHash)
        external
        onlyRole(EXPORTER_ROLE)
    {
        if (shipmentKey == bytes32(0) || oldRecordHash == bytes32(0)) {
            revert InvalidRecord(shipmentKey, oldRecordHash);
        }
        if (newRecordHash == bytes32(0)) revert InvalidRecord(shipmentKey, newRecordHash);
        if (oldRecordHash == newRecordHash) revert SelfSupersede(oldRecordHash);
        RecordState storage state = _requireLive(oldRecordHash);
        // The successor must itself be live: no chain ends in a revoked record, and no cycle forms.
        _requireLive(newRecordHash);
        state.status = RecordStatus.Superseded;
        state.supersededBy = newRecordHash;
        emit RecordSuperseded(
            _shipmentIdOf(msg.sender, shipmentKey), msg.sender, oldRecordHash, newRecordHash
        );
    }

    /// @inheritdoc ICarbonLedger
    function recordStatus(address exporter, bytes32 recordHash)
        external
        view
        returns (RecordStatus status, bytes32 supersededBy)
    {
        RecordState storage state = _records[exporter][recordHash];
        return (state.status, state.supersededBy);
    }

    // ------------------------------------------------------------------ attestations

    /// @inheritdoc ICarbonLedger
    function attest(SubjectKind kind, bytes32 subject, bytes32 evidence) external onlyRole(AUDITOR_ROLE) {
        Attestation storage entry = _attestations[msg.sender][kind][subject];
        if (entry.attestedAt != 0 && entry.revokedAt == 0) revert AlreadyAttested(msg.sender, kind, subject);
        entry.attestedAt = uint64(block.timestamp);
        entry.revokedAt = 0;
        entry.evidence = evidence;
        emit Attested(subject, msg.sender, kind, evidence);
    }

    /// @inheritdoc ICarbonLedger
    function revokeAttestation(SubjectKind kind, bytes32 subject) external onlyRole(AUDITOR_ROLE) {
        Attestation storage entry = _attestations[msg.sender][kind][subject];
        if (entry.attestedAt == 0 || entry.revokedAt != 0) {
            revert NoSuchAttestation(msg.sender, kind, subject);
        }
        entry.revokedAt = uint64(block.timestamp);
        emit AttestationRevoked(subject, msg.sender, kind);
    }

    /// @inheritdoc ICarbonLedger
    function attestation(address auditor, SubjectKind kind, bytes32 subject)
        external
        view
        returns (uint64 attestedAt, uint64 revokedAt, bytes32 evidence)
    {
        Attestation storage entry = _attestations[auditor][kind][subject];
        return (entry.attestedAt, entry.revokedAt, entry.evidence);
    }

    // ------------------------------------------------------------------ ERC-165

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ICarbonLedger).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _requireFactorSet(bytes32 factorSetId) private view {
        if (!_factorSets[factorSetId].registered) revert UnknownFactorSet(factorSetId);
    }

    /// @dev The two words `_emitShipments` hashes for each record.
    function _shipmentIdOf(address writer, bytes32 shipmentKey) private pure returns (bytes32) {
        return keccak256(abi.encode(writer, shipmentKey));
    }

    function _requireLive(bytes32 recordHash) private view returns (RecordState storage state) {
        state = _records[msg.sender][recordHash];
        if (state.status != RecordStatus.Live) revert RecordNotLive(msg.sender, recordHash, state.status);
    }

    /// @dev `count` < 2^32 always: a batch of 2^32 records (76 bytes each) or a root over as many
    /// leaves cannot be recorded in one block, and `anchorRoot` takes a uint32.
    function _packInfo(address exporter, uint256 count) private view returns (uint256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 count32 = uint32(count);
        return (uint256(uint160(exporter)) << 96) | (uint256(uint64(block.number)) << 32) | count32;
    }

    /// @dev Inverse of `_packInfo`: each cast keeps exactly the bits that `_packInfo` wrote there.
    function _unpackInfo(uint256 info)
        private
        pure
        returns (address exporter, uint64 blockNumber, uint32 count)
    {
        // forge-lint: disable-next-line(unsafe-typecast)
        exporter = address(uint160(info >> 96));
        // forge-lint: disable-next-line(unsafe-typecast)
        blockNumber = uint64(info >> 32);
        // forge-lint: disable-next-line(unsafe-typecast)
        count = uint32(info);
    }

    /// @dev Emits one `ShipmentRecorded` per 76-byte record of `packed` (length checked by the caller).
    /// Topic = `keccak256(abi.encode(msg.sender, shipmentKey))`, hashed in scratch memory where the
    /// writer's word is written once. Event data = recordHash | factorSetId | exporter << 96 |
    /// co2eWtwG << 48 | co2eTtwG, written in place past the free pointer; the factor-set word is
    /// written once.
    function _emitShipments(bytes32 factorSetId, bytes calldata packed) private {
        bytes32 topic = ShipmentRecorded.selector;
        bytes4 invalidRecord = InvalidRecord.selector;
        // Assembly keeps the per-shipment loop near the calldata floor (see docs/contracts.md).
        // Safe: reads length-checked calldata records; writes only scratch space and past the free pointer.
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let data := mload(0x40)
            mstore(add(data, 0x20), factorSetId)
            let exporterWord := shl(96, caller())
            // Scratch word 0 holds the writer for every id; word 1 takes each shipment key.
            mstore(0x00, caller())
            let end := add(packed.offset, packed.length)
            for { let p := packed.offset } lt(p, end) { p := add(p, 76) } {
                let shipmentKey := calldataload(p)
                let recordHash := calldataload(add(p, 0x20))
                if or(iszero(shipmentKey), iszero(recordHash)) {
                    mstore(data, invalidRecord)
                    mstore(add(data, 0x04), shipmentKey)
                    mstore(add(data, 0x24), recordHash)
                    revert(data, 0x44)
                }
                mstore(0x20, shipmentKey)
                mstore(data, recordHash)
                // The last 12 bytes of the record are the two uint48 amounts; the word read past
                // them (zero-padded at the end of calldata) is shifted out.
                mstore(add(data, 0x40), or(exporterWord, shr(160, calldataload(add(p, 0x40)))))
                log2(data, 0x60, topic, keccak256(0x00, 0x40))
            }
        }
    }
}

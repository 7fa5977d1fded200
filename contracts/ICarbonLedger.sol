// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Carbon-footprint traceability ledger
/// @notice Records per-shipment emission evidence for cross-border freight. Only hashes and integer
/// gram totals go on chain; the commercial record stays with its holder, who proves it with the
/// record hash (and, for root-anchored batches, a Merkle proof).
///
/// Shipment ids are namespaced by their writer, and the contract enforces it: a writer sends a
/// `shipmentKey` (for this package, `keccak256(utf8("carbon-ledger/shipment-id/v2|" + exporter + "|" +
/// shipmentNumber))`) and the on-chain shipment id is `keccak256(abi.encode(writer, shipmentKey))`
/// (`shipmentIdOf`). A key holding the exporter role that sends another exporter's key therefore writes
/// under its own id, never under the other's (`shipmentIdRule` returns 2 for this rule).
///
/// Two ways to anchor shipments:
/// - **Per-shipment events** (`recordShipments`): one `ShipmentRecorded` event per shipment, with the
///   derived shipment id as an indexed topic. The contract does not store per-shipment state (a storage
///   write would cost ~22,100 gas per shipment); instead every record leaves an indexed event, so any
///   verifier detects two live records of one shipment id from chain data alone
///   (`eth_getLogs` on the shipment-id topic, minus revoked and superseded records).
/// - **Root-only anchoring** (`anchorRoot`): the Merkle root of a batch in the OpenZeppelin
///   StandardMerkleTree format, leaf = `(bytes32 shipmentId, bytes32 recordHash, uint256 co2eWtwG,
///   uint256 co2eTtwG)` with the derived shipment id, computed off chain for the root's anchorer
///   (`rootInfo` names it). Shipment ids stay off chain, so uniqueness across batches is not provable
///   on chain for this path.
///
/// Roles (OpenZeppelin AccessControl): `DEFAULT_ADMIN_ROLE` (admin: grants roles, registers factor
/// sets), `EXPORTER_ROLE` (writes its own records), `AUDITOR_ROLE` (attests).
///
/// Revocation and supersession are kept per (exporter, record hash): a status written by one exporter
/// never changes the status of a record written by another.
interface ICarbonLedger {
    /// @notice What an attestation is about.
    enum SubjectKind {
        Record,
        Batch,
        Report
    }

    /// @notice Life-cycle of a record, per exporter.
    enum RecordStatus {
        Live,
        Revoked,
        Superseded
    }

    // ------------------------------------------------------------------ errors

    /// @notice The factor-set id is zero.
    error InvalidFactorSet(bytes32 factorSetId);
    /// @notice The factor set was registered before.
    error FactorSetAlreadyRegistered(bytes32 factorSetId);
    /// @notice A record names a factor set that the admin has not registered.
    error UnknownFactorSet(bytes32 factorSetId);
    /// @notice A batch holds no shipment.
    error EmptyBatch();
    /// @notice The packed batch length is not a whole number of 76-byte records.
    error MalformedBatch(uint256 length);
    /// @notice The batch id was used before (every batch id is recorded once).
    error BatchAlreadyRecorded(bytes32 batchId);
    /// @notice The Merkle root was anchored before (by any exporter).
    error RootAlreadyAnchored(bytes32 root);
    /// @notice The Merkle root is zero.
    error InvalidRoot(bytes32 root);
    /// @notice A zero record hash or shipment key.
    error InvalidRecord(bytes32 shipmentKey, bytes32 recordHash);
    /// @notice The record was revoked or superseded before by this exporter.
    error RecordNotLive(address exporter, bytes32 recordHash, RecordStatus status);
    /// @notice A record cannot supersede itself.
    error SelfSupersede(bytes32 recordHash);
    /// @notice This auditor attested this subject before and has not revoked it.
    error AlreadyAttested(address auditor, SubjectKind kind, bytes32 subject);
    /// @notice There is no live attestation by this auditor on this subject.
    error NoSuchAttestation(address auditor, SubjectKind kind, bytes32 subject);

    // ------------------------------------------------------------------ events

    /// @notice The admin registered a factor set (the hash of the exact emission-factor tables).
    event FactorSetRegistered(bytes32 indexed factorSetId, string uri);

    /// @notice A batch of per-shipment records was written.
    event ShipmentBatchRecorded(
        bytes32 indexed batchId, address indexed exporter, bytes32 indexed factorSetId, uint256 count
    );

    /// @notice One shipment's record. `shipmentId` is `shipmentIdOf(writer, shipmentKey)`.
    /// `exporterAndCo2e` packs the writer and both totals:
    /// `uint256(uint160(exporter)) << 96 | co2eWtwG << 48 | co2eTtwG` (grams, 48 bits each).
    event ShipmentRecorded(
        bytes32 indexed shipmentId, bytes32 recordHash, bytes32 factorSetId, uint256 exporterAndCo2e
    );

    /// @notice A batch's Merkle root was anchored.
    event RootAnchored(
        bytes32 indexed root, address indexed exporter, bytes32 indexed factorSetId, uint256 count
    );

    /// @notice The exporter revoked one of its records (`shipmentId` derived from the exporter's key).
    event RecordRevoked(bytes32 indexed shipmentId, address indexed exporter, bytes32 indexed recordHash);

    /// @notice The exporter replaced one of its records by a new one (the new one is anchored on its own;
    /// `shipmentId` derived from the exporter's key).
    event RecordSuperseded(
        bytes32 indexed shipmentId,
        address indexed exporter,
        bytes32 indexed oldRecordHash,
        bytes32 newRecordHash
    );

    /// @notice An auditor attested a record, a batch (its root or batch id) or a report hash.
    event Attested(
        bytes32 indexed subject, address indexed auditor, SubjectKind indexed kind, bytes32 evidence
    );

    /// @notice An auditor withdrew its attestation.
    event AttestationRevoked(bytes32 indexed subject, address indexed auditor, SubjectKind indexed kind);

    // ------------------------------------------------------------------ roles

    /// @notice Role of exporters, who write their own records.
    // Upper-case like OpenZeppelin's DEFAULT_ADMIN_ROLE: role ids are constants.
    // slither-disable-next-line naming-convention
    function EXPORTER_ROLE() external view returns (bytes32);

    /// @notice Role of auditors, who attest.
    // Upper-case like OpenZeppelin's DEFAULT_ADMIN_ROLE: role ids are constants.
    // slither-disable-next-line naming-convention
    function AUDITOR_ROLE() external view returns (bytes32);

    // ------------------------------------------------------------------ factor sets

    /// @notice Registers a factor set. Admin only.
    /// @param factorSetId Hash of the canonical bytes of the tables (non-zero).
    /// @param uri Where the tables can be read (e.g. a repository path at a commit).
    function registerFactorSet(bytes32 factorSetId, string calldata uri) external;

    /// @notice Whether the factor set was registered.
    function isFactorSetRegistered(bytes32 factorSetId) external view returns (bool);

    /// @notice The URI a factor set was registered with (empty when unknown).
    function factorSetUri(bytes32 factorSetId) external view returns (string memory);

    // ------------------------------------------------------------------ shipment ids

    /// @notice The rule by which this contract makes shipment ids: 2 = `shipmentIdOf(writer, shipmentKey)`
    /// for every shipment key it is sent. Contracts without this function took the shipment id as sent
    /// (rule 1) and did not tie it to its writer.
    function shipmentIdRule() external pure returns (uint256);

    /// @notice The shipment id that `writer` records under when it sends `shipmentKey`:
    /// `keccak256(abi.encode(writer, shipmentKey))`.
    function shipmentIdOf(address writer, bytes32 shipmentKey) external pure returns (bytes32);

    // ------------------------------------------------------------------ per-shipment path

    /// @notice Records a batch of shipments, one `ShipmentRecorded` event each, under the shipment id
    /// `shipmentIdOf(msg.sender, shipmentKey)`. Exporters only.
    /// @param batchId Caller-chosen id, unique across the contract (e.g. the hash of the batch content);
    /// makes a resubmission of the same batch revert instead of writing twice.
    /// @param factorSetId A registered factor set that every record in the batch was computed with.
    /// @param packed N records of 76 bytes each: `shipmentKey (32) | recordHash (32) | co2eWtwG (uint48, 6) |
    /// co2eTtwG (uint48, 6)`, big-endian, no padding; a zero key or record hash reverts.
    function recordShipments(bytes32 batchId, bytes32 factorSetId, bytes calldata packed) external;

    /// @notice Who recorded a per-shipment batch (zero when unknown) and in which block.
    function batchInfo(bytes32 batchId)
        external
        view
        returns (address exporter, uint64 blockNumber, uint32 count);

    // ------------------------------------------------------------------ root-only path

    /// @notice Anchors the Merkle root of a batch. Exporters only.
    /// @param root StandardMerkleTree root over the batch's leaves, whose shipment ids are
    /// `shipmentIdOf(msg.sender, shipmentKey)` computed off chain.
    /// @param factorSetId A registered factor set that every leaf's record was computed with.
    /// @param count Number of leaves.
    function anchorRoot(bytes32 root, bytes32 factorSetId, uint32 count) external;

    /// @notice Who anchored a root (zero when not anchored), in which block, and over how many leaves.
    function rootInfo(bytes32 root) external view returns (address exporter, uint64 blockNumber, uint32 count);

    /// @notice Whether a shipment's leaf is in an anchored root. False for a root never anchored.
    function verifyShipment(
        bytes32 root,
        bytes32[] calldata proof,
        bytes32 shipmentId,
        bytes32 recordHash,
        uint256 co2eWtwG,
        uint256 co2eTtwG
    ) external view returns (bool);

    // ------------------------------------------------------------------ revoke / supersede

    /// @notice Revokes one of the caller's records. Exporters only.
    /// @param shipmentKey The key the record was written with; the event names
    /// `shipmentIdOf(msg.sender, shipmentKey)`.
    function revokeRecord(bytes32 shipmentKey, bytes32 recordHash) external;

    /// @notice Marks one of the caller's records as replaced by a new record hash. Exporters only.
    /// @param shipmentKey The key the record was written with; the event names
    /// `shipmentIdOf(msg.sender, shipmentKey)`.
    function supersedeRecord(bytes32 shipmentKey, bytes32 oldRecordHash, bytes32 newRecordHash) external;

    /// @notice Status of a record as written by `exporter`, and its successor when superseded.
    function recordStatus(address exporter, bytes32 recordHash)
        external
        view
        returns (RecordStatus status, bytes32 supersededBy);

    // ------------------------------------------------------------------ attestations

    /// @notice Attests a subject. Auditors only.
    /// @param evidence Hash of what the auditor checked (e.g. its verification verdict); may be zero.
    function attest(SubjectKind kind, bytes32 subject, bytes32 evidence) external;

    /// @notice Withdraws the caller's attestation. Auditors only.
    function revokeAttestation(SubjectKind kind, bytes32 subject) external;

    /// @notice When `auditor` attested `subject` (0 if never) and when it revoked (0 if live).
    function attestation(address auditor, SubjectKind kind, bytes32 subject)
        external
        view
        returns (uint64 attestedAt, uint64 revokedAt, bytes32 evidence);
}

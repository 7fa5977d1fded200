// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";

import {CarbonLedger} from "../../CarbonLedger.sol";
import {ICarbonLedger} from "../../ICarbonLedger.sol";

/// @notice Drives a ledger through random sequences of calls by role holders and by outsiders, and
/// keeps a model of what each call should have done. Small pools of ids make collisions (a shipment
/// recorded twice, a batch id or root reused, a record revoked twice) frequent.
contract LedgerHandler is CommonBase, StdUtils {
    struct RecordRef {
        bytes32 shipmentId;
        address exporter;
        bytes32 recordHash;
    }

    struct Anchor {
        bytes32 id;
        address exporter;
        uint64 blockNumber;
        uint32 count;
    }

    uint256 public constant SHIPMENT_POOL = 6;
    uint256 public constant RECORD_POOL = 12;
    uint256 public constant BATCH_POOL = 24;

    CarbonLedger public immutable ledger;
    address public immutable admin;
    address[2] public exporters;
    address[2] public auditors;

    bytes32[] public factorSets;
    mapping(bytes32 factorSetId => bool) public registered;

    // ---------------------------------------------------------------- model and ghosts

    /// @notice Every record accepted on the per-shipment path, as submitted.
    RecordRef[] internal _submitted;
    /// @notice Every `ShipmentRecorded` event seen, as a verifier would decode it.
    RecordRef[] internal _logged;
    Anchor[] internal _batches;
    Anchor[] internal _roots;
    mapping(bytes32 id => bool) public batchUsed;
    mapping(bytes32 root => bool) public rootUsed;

    mapping(address exporter => mapping(bytes32 recordHash => ICarbonLedger.RecordStatus)) public modelStatus;
    mapping(address exporter => mapping(bytes32 recordHash => bytes32)) public modelSuccessor;
    RecordRef[] internal _revoked;
    RecordRef[] internal _superseded;

    mapping(address auditor => mapping(uint8 kind => mapping(bytes32 subject => uint64))) public
        modelAttestedAt;
    mapping(address auditor => mapping(uint8 kind => mapping(bytes32 subject => uint64))) public
        modelRevokedAt;

    uint256 public constant OUTSIDER_POOL = 4;
    address[] internal _outsiders;
    mapping(address => bool) internal _isOutsider;
    /// @notice State-changing calls by addresses without the needed role that did not revert.
    uint256 public outsiderWrites;
    /// @notice Calls whose outcome (success or revert) differed from the model's prediction.
    uint256 public unexpectedOutcomes;
    uint256 public calls;

    constructor(
        CarbonLedger ledger_,
        address admin_,
        address[2] memory exporters_,
        address[2] memory auditors_,
        bytes32 factorSet
    ) {
        ledger = ledger_;
        admin = admin_;
        exporters = exporters_;
        auditors = auditors_;
        factorSets.push(factorSet);
        registered[factorSet] = true;
        // Two ids that are not registered at first; `registerFactorSet` may register them later.
        factorSets.push(keccak256("factor set B"));
        factorSets.push(keccak256("factor set C"));
    }

    // ---------------------------------------------------------------- pools

    /// @notice The shipment key both exporters use for `seed`: the pool is shared, so the two write the
    /// same keys.
    function shipmentKey(uint256 seed) public pure returns (bytes32) {
        return keccak256(abi.encode("shipment", seed % SHIPMENT_POOL));
    }

    /// @notice The shipment id `writer` records under for `seed`, by the rule the contract documents.
    function shipmentIdOf(address writer, uint256 seed) public pure returns (bytes32) {
        return keccak256(abi.encode(writer, shipmentKey(seed)));
    }

    function recordHash(uint256 seed) public pure returns (bytes32) {
        return keccak256(abi.encode("record", seed % RECORD_POOL));
    }

    function _subject(uint256 seed) internal pure returns (bytes32) {
        return keccak256(abi.encode("subject", seed % 4));
    }

    function _expect(bool predictedSuccess, bool succeeded) internal {
        ++calls;
        if (predictedSuccess != succeeded) ++unexpectedOutcomes;
    }

    // ---------------------------------------------------------------- actions by role holders

    function registerFactorSet(uint256 seed) external {
        bytes32 id = factorSets[seed % factorSets.length];
        bool predicted = !registered[id];
        vm.prank(admin);
        try ledger.registerFactorSet(id, "uri") {
            registered[id] = true;
            _expect(predicted, true);
        } catch {
            _expect(predicted, false);
        }
    }

    function recordShipments(uint256 actor, uint256 batchSeed, uint256 factorSeed, uint256 size, uint256 seed)
        external
    {
        address exporter = exporters[actor % 2];
        bytes32 batchId = keccak256(abi.encode("batch", batchSeed % BATCH_POOL));
        bytes32 factorSet = factorSets[factorSeed % factorSets.length];
        uint256 n = bound(size, 1, 4);
        bytes memory packed;
        RecordRef[] memory refs = new RecordRef[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            refs[i] = RecordRef(shipmentIdOf(exporter, s), exporter, recordHash(s >> 128));
            // Any 12 bytes are two valid uint48 amounts.
            // forge-lint: disable-next-line(unsafe-typecast)
            packed = bytes.concat(packed, shipmentKey(s), refs[i].recordHash, bytes12(uint96(s)));
        }
        bool predicted = !batchUsed[batchId] && registered[factorSet];

        vm.recordLogs();
        vm.prank(exporter);
        try ledger.recordShipments(batchId, factorSet, packed) {
            _expect(predicted, true);
            batchUsed[batchId] = true;
            // forge-lint: disable-next-line(unsafe-typecast)
            _batches.push(Anchor(batchId, exporter, uint64(block.number), uint32(n))); // n <= 4
            for (uint256 i = 0; i < n; ++i) {
                _submitted.push(refs[i]);
            }
            _collectShipmentLogs(vm.getRecordedLogs());
        } catch {
            _expect(predicted, false);
            vm.getRecordedLogs();
        }
    }

    function anchorRoot(uint256 actor, uint256 rootSeed, uint256 factorSeed, uint32 count) external {
        address exporter = exporters[actor % 2];
        bytes32 root = keccak256(abi.encode("root", rootSeed % 16));
        bytes32 factorSet = factorSets[factorSeed % factorSets.length];
        bool predicted = !rootUsed[root] && registered[factorSet] && count != 0;
        vm.prank(exporter);
        try ledger.anchorRoot(root, factorSet, count) {
            _expect(predicted, true);
            rootUsed[root] = true;
            _roots.push(Anchor(root, exporter, uint64(block.number), count));
        } catch {
            _expect(predicted, false);
        }
    }

    function revokeRecord(uint256 actor, uint256 shipmentSeed, uint256 recordSeed) external {
        address exporter = exporters[actor % 2];
        bytes32 key = shipmentKey(shipmentSeed);
        bytes32 hash = recordHash(recordSeed);
        bool predicted = modelStatus[exporter][hash] == ICarbonLedger.RecordStatus.Live;
        vm.prank(exporter);
        try ledger.revokeRecord(key, hash) {
            _expect(predicted, true);
            modelStatus[exporter][hash] = ICarbonLedger.RecordStatus.Revoked;
            _revoked.push(RecordRef(shipmentIdOf(exporter, shipmentSeed), exporter, hash));
        } catch {
            _expect(predicted, false);
        }
    }

    function supersedeRecord(uint256 actor, uint256 shipmentSeed, uint256 oldSeed, uint256 newSeed) external {
        address exporter = exporters[actor % 2];
        bytes32 key = shipmentKey(shipmentSeed);
        bytes32 oldHash = recordHash(oldSeed);
        bytes32 newHash = recordHash(newSeed);
        bool predicted = oldHash != newHash
            && modelStatus[exporter][oldHash] == ICarbonLedger.RecordStatus.Live
            && modelStatus[exporter][newHash] == ICarbonLedger.RecordStatus.Live;
        vm.prank(exporter);
        try ledger.supersedeRecord(key, oldHash, newHash) {
            _expect(predicted, true);
            modelStatus[exporter][oldHash] = ICarbonLedger.RecordStatus.Superseded;
            modelSuccessor[exporter][oldHash] = newHash;
            _superseded.push(RecordRef(shipmentIdOf(exporter, shipmentSeed), exporter, oldHash));
        } catch {
            _expect(predicted, false);
        }
    }

    function attest(uint256 actor, uint8 kindSeed, uint256 subjectSeed, bytes32 evidence) external {
        address auditor = auditors[actor % 2];
        uint8 kind = kindSeed % 3;
        bytes32 subject = _subject(subjectSeed);
        bool predicted =
            modelAttestedAt[auditor][kind][subject] == 0 || modelRevokedAt[auditor][kind][subject] != 0;
        vm.prank(auditor);
        try ledger.attest(ICarbonLedger.SubjectKind(kind), subject, evidence) {
            _expect(predicted, true);
            modelAttestedAt[auditor][kind][subject] = uint64(block.timestamp);
            modelRevokedAt[auditor][kind][subject] = 0;
        } catch {
            _expect(predicted, false);
        }
    }

    function revokeAttestation(uint256 actor, uint8 kindSeed, uint256 subjectSeed) external {
        address auditor = auditors[actor % 2];
        uint8 kind = kindSeed % 3;
        bytes32 subject = _subject(subjectSeed);
        bool predicted =
            modelAttestedAt[auditor][kind][subject] != 0 && modelRevokedAt[auditor][kind][subject] == 0;
        vm.prank(auditor);
        try ledger.revokeAttestation(ICarbonLedger.SubjectKind(kind), subject) {
            _expect(predicted, true);
            modelRevokedAt[auditor][kind][subject] = uint64(block.timestamp);
        } catch {
            _expect(predicted, false);
        }
    }

    /// @notice Lets time and blocks pass, so that stored block numbers and times differ between calls.
    function advance(uint16 blocks, uint16 secondsPassed) external {
        vm.roll(block.number + bound(blocks, 1, 100));
        vm.warp(block.timestamp + bound(secondsPassed, 1, 3600));
    }

    // ---------------------------------------------------------------- actions by outsiders

    /// @notice A caller that holds no role tries one state-changing function.
    /// The caller comes from a small pool so that the invariants can check every outsider after every
    /// call; random callers are covered by the fuzz tests.
    function outsider(uint256 callerSeed, uint8 action, uint256 seed) external {
        address caller =
            address(uint160(uint256(keccak256(abi.encode("outsider", callerSeed % OUTSIDER_POOL)))));
        if (_holdsAnyRole(caller)) return;
        if (!_isOutsider[caller]) {
            _isOutsider[caller] = true;
            _outsiders.push(caller);
        }
        bytes32 id = shipmentKey(seed);
        bytes32 hash = recordHash(seed);
        bytes32 factorSet = factorSets[0];
        bool succeeded;
        vm.startPrank(caller);
        uint8 which = action % 8;
        if (which == 0) {
            try ledger.registerFactorSet(keccak256(abi.encode("outsider set", seed)), "x") {
                succeeded = true;
            } catch {}
        } else if (which == 1) {
            try ledger.recordShipments(
                keccak256(abi.encode("outsider batch", seed)),
                factorSet,
                bytes.concat(id, hash, bytes12(uint96(1)))
            ) {
                succeeded = true;
            } catch {}
        } else if (which == 2) {
            try ledger.anchorRoot(keccak256(abi.encode("outsider root", seed)), factorSet, 1) {
                succeeded = true;
            } catch {}
        } else if (which == 3) {
            try ledger.revokeRecord(id, hash) {
                succeeded = true;
            } catch {}
        } else if (which == 4) {
            try ledger.supersedeRecord(id, hash, recordHash(seed + 1)) {
                succeeded = true;
            } catch {}
        } else if (which == 5) {
            try ledger.attest(ICarbonLedger.SubjectKind.Report, _subject(seed), bytes32(0)) {
                succeeded = true;
            } catch {}
        } else if (which == 6) {
            try ledger.revokeAttestation(ICarbonLedger.SubjectKind.Report, _subject(seed)) {
                succeeded = true;
            } catch {}
        } else {
            bytes32 role = seed % 2 == 0 ? ledger.EXPORTER_ROLE() : ledger.AUDITOR_ROLE();
            try ledger.grantRole(role, caller) {
                succeeded = true;
            } catch {}
        }
        vm.stopPrank();
        ++calls;
        if (succeeded) ++outsiderWrites;
    }

    function _holdsAnyRole(address account) internal view returns (bool) {
        return ledger.hasRole(ledger.DEFAULT_ADMIN_ROLE(), account)
            || ledger.hasRole(ledger.EXPORTER_ROLE(), account)
            || ledger.hasRole(ledger.AUDITOR_ROLE(), account);
    }

    function _collectShipmentLogs(Vm.Log[] memory logs) internal {
        bytes32 topic = ICarbonLedger.ShipmentRecorded.selector;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(ledger) || logs[i].topics[0] != topic) continue;
            (bytes32 hash,, uint256 word) = abi.decode(logs[i].data, (bytes32, bytes32, uint256));
            // forge-lint: disable-next-line(unsafe-typecast)
            _logged.push(RecordRef(logs[i].topics[1], address(uint160(word >> 96)), hash));
        }
    }

    // ---------------------------------------------------------------- views for invariants

    function submitted() external view returns (RecordRef[] memory) {
        return _submitted;
    }

    function logged() external view returns (RecordRef[] memory) {
        return _logged;
    }

    function batches() external view returns (Anchor[] memory) {
        return _batches;
    }

    function roots() external view returns (Anchor[] memory) {
        return _roots;
    }

    function revoked() external view returns (RecordRef[] memory) {
        return _revoked;
    }

    function superseded() external view returns (RecordRef[] memory) {
        return _superseded;
    }

    function outsiders() external view returns (address[] memory) {
        return _outsiders;
    }

    /// @notice The model's status and successor of every (exporter, record) of the pools, exporter-major.
    function modelRecordTable()
        external
        view
        returns (
            bytes32[] memory hashes,
            ICarbonLedger.RecordStatus[] memory statuses,
            bytes32[] memory successors
        )
    {
        hashes = new bytes32[](RECORD_POOL);
        for (uint256 h = 0; h < RECORD_POOL; ++h) {
            hashes[h] = recordHash(h);
        }
        statuses = new ICarbonLedger.RecordStatus[](2 * RECORD_POOL);
        successors = new bytes32[](2 * RECORD_POOL);
        for (uint256 e = 0; e < 2; ++e) {
            for (uint256 h = 0; h < RECORD_POOL; ++h) {
                bytes32 hash = recordHash(h);
                statuses[e * RECORD_POOL + h] = modelStatus[exporters[e]][hash];
                successors[e * RECORD_POOL + h] = modelSuccessor[exporters[e]][hash];
            }
        }
    }

    /// @notice The model's attestation times for every (auditor, kind, subject), auditor-major.
    function modelAttestationTable()
        external
        view
        returns (bytes32[] memory subjects, uint64[] memory attestedAt, uint64[] memory revokedAt)
    {
        subjects = new bytes32[](4);
        for (uint256 s = 0; s < 4; ++s) {
            subjects[s] = _subject(s);
        }
        attestedAt = new uint64[](2 * 3 * 4);
        revokedAt = new uint64[](2 * 3 * 4);
        for (uint256 a = 0; a < 2; ++a) {
            for (uint8 k = 0; k < 3; ++k) {
                for (uint256 s = 0; s < 4; ++s) {
                    uint256 i = (a * 3 + k) * 4 + s;
                    attestedAt[i] = modelAttestedAt[auditors[a]][k][_subject(s)];
                    revokedAt[i] = modelRevokedAt[auditors[a]][k][_subject(s)];
                }
            }
        }
    }

    function exporterAt(uint256 i) external view returns (address) {
        return exporters[i];
    }

    function auditorAt(uint256 i) external view returns (address) {
        return auditors[i];
    }

    function subjectAt(uint256 i) external pure returns (bytes32) {
        return _subject(i);
    }
}

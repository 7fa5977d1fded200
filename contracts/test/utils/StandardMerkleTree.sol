// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Shipment leaves and their tree in the OpenZeppelin StandardMerkleTree format (as built by the
/// npm package openzeppelin/merkle-tree): leaf = keccak256(keccak256(abi.encode(values))), leaves sorted by
/// hash, tree stored as an array with the root at 0 and the leaves at the end in reverse order,
/// internal nodes = keccak256 of the sorted pair.
library StandardMerkleTree {
    struct Leaf {
        bytes32 shipmentId;
        bytes32 recordHash;
        uint256 co2eWtwG;
        uint256 co2eTtwG;
    }

    /// @notice The leaf hash of one shipment: `(bytes32, bytes32, uint256, uint256)`, double-hashed.
    function leafHash(Leaf memory leaf) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(abi.encode(leaf.shipmentId, leaf.recordHash, leaf.co2eWtwG, leaf.co2eTtwG))
            )
        );
    }

    /// @notice The whole tree (root at index 0) over `leaves`; the leaf hashes are sorted first.
    function build(Leaf[] memory leaves) internal pure returns (bytes32[] memory tree) {
        uint256 n = leaves.length;
        require(n > 0, "empty tree");
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            hashes[i] = leafHash(leaves[i]);
        }
        _sort(hashes);
        tree = new bytes32[](2 * n - 1);
        for (uint256 i = 0; i < n; ++i) {
            tree[tree.length - 1 - i] = hashes[i];
        }
        for (uint256 i = tree.length - n; i > 0; --i) {
            tree[i - 1] = _hashPair(tree[2 * i - 1], tree[2 * i]);
        }
    }

    /// @notice The proof of the leaf whose hash is `hash` (reverts when absent).
    function proof(bytes32[] memory tree, bytes32 hash) internal pure returns (bytes32[] memory path) {
        uint256 index = type(uint256).max;
        uint256 firstLeaf = tree.length / 2;
        for (uint256 i = firstLeaf; i < tree.length; ++i) {
            if (tree[i] == hash) {
                index = i;
                break;
            }
        }
        require(index != type(uint256).max, "leaf not in tree");
        uint256 depth = 0;
        for (uint256 j = index; j > 0; j = (j - 1) / 2) {
            ++depth;
        }
        path = new bytes32[](depth);
        for (uint256 k = 0; index > 0; ++k) {
            path[k] = tree[index % 2 == 1 ? index + 1 : index - 1];
            index = (index - 1) / 2;
        }
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    /// @dev Insertion sort, ascending (trees in tests stay small).
    function _sort(bytes32[] memory values) private pure {
        for (uint256 i = 1; i < values.length; ++i) {
            bytes32 value = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > value) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = value;
        }
    }
}

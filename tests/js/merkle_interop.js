#!/usr/bin/env node
// Interop check against OpenZeppelin's reference StandardMerkleTree implementation.
//
//   node merkle_interop.js check INPUT.json
//     INPUT = {"dump": <standard-v1 dump>, "root": "0x..", "proofs": [[..], ..]}
//     Loads the dump with StandardMerkleTree.load (which validates it), and for every value
//     checks StandardMerkleTree.verify against the given root and proof and compares
//     getProof(i) with the given proof. Prints {"root", "leafCount", "verified", "mismatches"}.
//
//   node merkle_interop.js build INPUT.json
//     INPUT = {"leafEncoding": [..], "values": [[..], ..]}
//     Builds StandardMerkleTree.of(values, leafEncoding) and prints
//     {"root", "dump", "proofs"} (proofs in the order of the values).
'use strict';

const fs = require('fs');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

function check(input) {
  const tree = StandardMerkleTree.load(input.dump);
  const mismatches = [];
  let verified = 0;
  for (const [i, value] of tree.entries()) {
    const proof = input.proofs[i];
    if (StandardMerkleTree.verify(input.root, input.dump.leafEncoding, value, proof)) {
      verified += 1;
    } else {
      mismatches.push({ index: i, reason: 'verify failed' });
    }
    const own = tree.getProof(i);
    if (JSON.stringify(own) !== JSON.stringify(proof)) {
      mismatches.push({ index: i, reason: 'getProof differs', expected: own });
    }
  }
  return { root: tree.root, leafCount: tree.length, verified, mismatches };
}

function build(input) {
  const tree = StandardMerkleTree.of(input.values, input.leafEncoding);
  const proofs = [];
  for (let i = 0; i < input.values.length; i++) {
    proofs.push(tree.getProof(i));
  }
  return { root: tree.root, dump: tree.dump(), proofs };
}

function main() {
  const [mode, path] = process.argv.slice(2);
  const input = JSON.parse(fs.readFileSync(path, 'utf8'));
  let result;
  if (mode === 'check') {
    result = check(input);
  } else if (mode === 'build') {
    result = build(input);
  } else {
    process.stderr.write(`unknown mode ${mode}; expected check or build\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(result));
}

main();

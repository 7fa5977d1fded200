// Independent check of a report's EIP-712 proof with ethers (not the project's Python code).
// Usage: node tests/js/eip712_verify.mjs REPORT.json
// Prints {"documentHash": ..., "recovered": ..., "issuer": ...} as JSON.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { ethers } = require("ethers");

// RFC 8785 canonical JSON for documents without floating-point numbers.
function canonical(value) {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isInteger(value)) {
      throw new Error(`float in a signed document: ${value}`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return "[" + value.map(canonical).join(",") + "]";
  }
  const keys = Object.keys(value).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
}

// The EIP-712 proof: the one proof object of earlier reports, or the proof of that type in the
// proof list (beside the Data Integrity proof, which it covers).
const EIP712_TYPES = ["CarbonLedgerEip712Signature2026", "EthereumEip712Signature2021"];
const doc = JSON.parse(readFileSync(process.argv[2], "utf8"));
const pick = (proofs) => (Array.isArray(proofs) ? proofs : [proofs])
  .find((p) => EIP712_TYPES.includes(p.type));
const proof = pick(doc.proof);
const unsigned = structuredClone(doc);
delete pick(unsigned.proof).proofValue;
const documentHash = ethers.keccak256(ethers.toUtf8Bytes(canonical(unsigned)));
const issuer = doc.issuer.split(":").pop();
const types = { ...proof.eip712.types };
delete types.EIP712Domain; // ethers derives the domain type itself
const message = { id: doc.id, issuer, validFrom: doc.validFrom, documentHash };
const recovered = ethers.verifyTypedData(proof.eip712.domain, types, message, proof.proofValue);
process.stdout.write(JSON.stringify({ documentHash, recovered, issuer }) + "\n");

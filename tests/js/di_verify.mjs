// Independent check of the W3C Data Integrity proofs (ecdsa-jcs-2019) of credentials, with
// Digital Bazaar's generic verifier stack (jsonld-signatures, @digitalbazaar/data-integrity,
// @digitalbazaar/ecdsa-jcs-2019-cryptosuite, did:key resolution): no code of this project.
// Usage: node tests/js/di_verify.mjs CONTEXTS_DIR CREDENTIAL.json...
// Prints one JSON line per credential: {"file", "verified", "verificationMethod", "error"}.
// Contexts are read from CONTEXTS_DIR (file name = last path segment of the context URL);
// any other network document is refused, so the check runs offline.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { createVerifyCryptosuite } from "@digitalbazaar/ecdsa-jcs-2019-cryptosuite";
import * as EcdsaMultikey from "@digitalbazaar/ecdsa-multikey";
import * as didKey from "@digitalbazaar/did-method-key";

const require = createRequire(import.meta.url);
const jsigs = require("jsonld-signatures");
const { AssertionProofPurpose } = jsigs.purposes;

const [contextsDir, ...files] = process.argv.slice(2);
const contexts = new Map();
for (const name of readdirSync(contextsDir)) {
  if (!name.endsWith(".jsonld")) continue;
  const document = JSON.parse(readFileSync(join(contextsDir, name), "utf8"));
  contexts.set(name, document);
}
const urls = new Map([
  ["https://www.w3.org/ns/credentials/v2", "credentials-v2.jsonld"],
  ["https://w3id.org/security/data-integrity/v2", "data-integrity-v2.jsonld"],
  ["https://w3id.org/security/multikey/v1", "multikey-v1.jsonld"],
]);

const driver = didKey.driver();
driver.use({ multibaseMultikeyHeader: "zDna", fromMultibase: EcdsaMultikey.from });

async function documentLoader(url) {
  if (url.startsWith("did:key:")) {
    const document = await driver.get({ url });
    return { contextUrl: null, documentUrl: url, document };
  }
  const file = urls.get(url);
  if (file && contexts.has(file)) {
    return { contextUrl: null, documentUrl: url, document: contexts.get(file) };
  }
  throw new Error(`document not available offline: ${url}`);
}

for (const file of files) {
  const credential = JSON.parse(readFileSync(file, "utf8"));
  const suite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });
  let out;
  try {
    const result = await jsigs.verify(credential, {
      suite, purpose: new AssertionProofPurpose(), documentLoader,
    });
    const matched = (result.results || []).find((r) => r.verified) || {};
    out = {
      file, verified: result.verified,
      verificationMethod: matched.verificationMethod ? matched.verificationMethod.id : null,
      error: result.error ? String(result.error.errors || result.error) : null,
    };
  } catch (error) {
    out = { file, verified: false, verificationMethod: null, error: String(error) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

#!/usr/bin/env node
// Reference canonicaliser for the interop test of canonical JSON.
//
//   node jcs.js INPUT.json
//     INPUT = an array of JSON documents. Prints, one per line, the hex of the UTF-8 bytes of
//     each document serialised the way RFC 8785 defines it for integers, strings, literals,
//     arrays and objects: ECMAScript JSON.stringify for the primitives, object members sorted
//     by Array.prototype.sort (which compares UTF-16 code units).
'use strict';

const fs = require('fs');

function canonicalize(value) {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return '[' + value.map(canonicalize).join(',') + ']';
  }
  const names = Object.keys(value).sort();
  return '{' + names.map(n => JSON.stringify(n) + ':' + canonicalize(value[n])).join(',') + '}';
}

const documents = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
for (const document of documents) {
  process.stdout.write(Buffer.from(canonicalize(document), 'utf8').toString('hex') + '\n');
}

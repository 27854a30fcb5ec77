// Issue 13 metadata items driven through jsforce (unmodified); prints one JSON document of what it saw.
// Inputs (env): SF_LOGIN_URL, SF_USERNAME, SF_PASSWORD, SF_API_VERSION.
// TLS: the org's CA is trusted through NODE_EXTRA_CA_CERTS; verification stays on.
'use strict';
const jsforce = require('jsforce');

async function failure(promise) {
  try { await promise; return null; } catch (e) { return { errorCode: e.errorCode || e.name, message: e.message }; }
}

async function main() {
  const version = process.env.SF_API_VERSION;
  const conn = new jsforce.Connection({ loginUrl: process.env.SF_LOGIN_URL, version });
  await conn.login(process.env.SF_USERNAME, process.env.SF_PASSWORD);
  const out = {};

  const listed = await conn.metadata.list([{ type: 'ApexClass' }, { type: 'CustomObject' }], version);
  const pick = (type, name) => listed.find((p) => p.type === type && p.fullName === name) || null;
  out.list = { apexClass: pick('ApexClass', 'FeatureKillSwitch'), customObject: pick('CustomObject', 'Incident_Log__c'),
               standardObject: pick('CustomObject', 'Account') };

  // no singlePackage in the request: a real org defaults it to false and roots the zip at unpackaged/
  const retrieve = conn.metadata.retrieve({ apiVersion: version,
    unpackaged: { types: [{ name: 'ApexClass', members: ['FeatureKillSwitch'] }], version } });
  retrieve.pollInterval = 200;
  retrieve.pollTimeout = 60000;
  const retrieved = await retrieve.complete(true);
  out.retrieve = { status: retrieved.status, zipFile: retrieved.zipFile,
                   fileNames: [].concat(retrieved.fileProperties || []).map((p) => p.fileName).sort(),
                   states: [].concat(retrieved.fileProperties || []).map((p) => p.manageableState) };

  out.readMissing = await conn.metadata.read('CustomObject', 'No_Such_Object__c');
  out.readExisting = await conn.metadata.read('CustomObject', 'Incident_Log__c');
  out.readMany = await conn.metadata.read('CustomObject', ['Incident_Log__c', 'No_Such_Object__c']);
  out.readApexClass = await failure(conn.metadata.read('ApexClass', 'FeatureKillSwitch'));

  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && (err.stack || err)), errorCode: err && err.errorCode }));
  process.exit(1);
});

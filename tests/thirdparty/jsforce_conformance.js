// Drives an org with jsforce (unmodified) and prints one JSON document describing what it saw.
// Inputs (env): SF_LOGIN_URL, SF_USERNAME, SF_PASSWORD, SF_API_VERSION, DEPLOY_ZIP (path),
// PAGE_OBJECT (object with > 2000 rows, to force nextRecordsUrl paging).
// TLS: trust the org's CA through NODE_EXTRA_CA_CERTS; verification is never switched off.
'use strict';
const fs = require('fs');
const jsforce = require('jsforce');

async function main() {
  const out = {};
  const conn = new jsforce.Connection({ loginUrl: process.env.SF_LOGIN_URL, version: process.env.SF_API_VERSION });
  const info = await conn.login(process.env.SF_USERNAME, process.env.SF_PASSWORD);
  out.login = { userId: info.id, orgId: info.organizationId, instanceUrl: conn.instanceUrl };

  const paged = [];
  const q = conn.query(`SELECT Id, Name FROM ${process.env.PAGE_OBJECT}`)
    .on('record', (r) => paged.push(r.Id))
    .run({ autoFetch: true, maxFetch: 100000 });
  await new Promise((resolve, reject) => { q.on('end', resolve); q.on('error', reject); });
  out.query = { fetched: paged.length, totalSize: q.totalSize, distinct: new Set(paged).size };

  const sobj = conn.sobject('Incident_Log__c');
  const created = await sobj.create({ Severity__c: 'P3', Status__c: 'New', Message__c: 'jsforce says hi' });
  const read = await sobj.retrieve(created.id);
  await sobj.update({ Id: created.id, Status__c: 'Triaged' });
  const reread = await sobj.retrieve(created.id);
  const removed = await sobj.destroy(created.id);
  let afterDelete = null;
  try { await sobj.retrieve(created.id); } catch (e) { afterDelete = e.errorCode || e.name; }
  out.crud = { created: created.success, id: created.id, message: read.Message__c,
               status: reread.Status__c, deleted: removed.success, afterDelete };

  const describe = await conn.sobject('Kill_Switch__c').describe();
  out.describe = { name: describe.name, customSetting: describe.customSetting,
                   booleans: describe.fields.filter((f) => f.type === 'boolean').map((f) => f.name).sort() };

  const limits = await conn.limits();
  out.limits = { dailyMax: limits.DailyApiRequests.Max, dailyRemaining: limits.DailyApiRequests.Remaining };

  const tooling = await conn.tooling.query('SELECT Id, LogLength, Operation FROM ApexLog');
  out.tooling = { totalSize: tooling.totalSize, firstHasLength: tooling.records.length > 0 && tooling.records[0].LogLength > 0 };

  const zip = fs.readFileSync(process.env.DEPLOY_ZIP);
  const locator = conn.metadata.deploy(zip, { singlePackage: true, rollbackOnError: true });
  locator.pollInterval = 200;
  locator.pollTimeout = 60000;
  const result = await locator.complete(true);
  out.deploy = { id: result.id, status: result.status, success: String(result.success),
                 done: String(result.done), numberComponentsDeployed: Number(result.numberComponentsDeployed) };
  const status = await conn.metadata.checkDeployStatus(result.id, true);
  out.checkDeployStatus = { status: status.status, id: status.id };

  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && (err.stack || err)), errorCode: err && err.errorCode }));
  process.exit(1);
});

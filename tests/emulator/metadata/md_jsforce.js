// Drives the emulator's Metadata API with jsforce: SOAP deploy/check/cancel/quick, REST deploy, describe/list/read/retrieve.
const fs = require('fs');
const jsforce = require('jsforce');
(async () => {
  const conn = new jsforce.Connection({ instanceUrl: process.env.URL, accessToken: process.env.TOKEN, version: '62.0' });
  conn.metadata.pollInterval = 50; // the emulator advances one step per poll; no need to wait between polls
  const zip = fs.readFileSync(process.env.ZIP);
  const out = {};
  const r1 = await conn.metadata
    .deploy(zip, { singlePackage: true, rollbackOnError: true, testLevel: 'RunLocalTests', checkOnly: true })
    .complete(true);
  out.validate = { id: r1.id, status: r1.status, success: r1.success, tests: r1.numberTestsCompleted, comps: r1.numberComponentsDeployed,
                   succ: Array.isArray(r1.details.componentSuccesses) ? r1.details.componentSuccesses.length : 1 };
  const quickId = await conn.metadata.deployRecentValidation({ id: r1.id, rest: false });
  const q = await conn.metadata.checkDeployStatus(quickId, true);
  out.quick = { id: quickId, status: q.status };
  let st; for (let i = 0; i < 5; i++) { st = await conn.metadata.checkDeployStatus(quickId, true); if (st.done) break; }
  out.quickFinal = st.status;
  const r2 = conn.metadata.deploy(zip, { singlePackage: true });
  const id2 = (await r2).id;
  out.cancel = await conn.metadata.cancelDeploy(id2);
  out.canceled = (await conn.metadata.checkDeployStatus(id2, false)).status;
  const rest = await conn.metadata.deployRest(zip, { testLevel: 'NoTestRun', checkOnly: true }).complete(true);
  out.rest = { status: rest.status, success: rest.success };
  const desc = await conn.metadata.describe('62.0');
  out.describe = desc.metadataObjects.length;
  const list = await conn.metadata.list([{ type: 'ApexClass' }]);
  out.list = list.map(x => x.fullName).sort();
  const read = await conn.metadata.read('CustomObject', ['Kill_Switch__c']);
  const one = read[0];
  out.read = { fullName: one.fullName, label: one.label, fields: (one.fields || []).map(f => f.fullName).sort() };
  const ret = await conn.metadata.retrieve({ apiVersion: '62.0', singlePackage: true, unpackaged: { types: [{ name: 'ApexClass', members: ['FeatureKillSwitch'] }], version: '62.0' } }).complete();
  out.retrieve = { status: ret.status, files: (Array.isArray(ret.fileProperties) ? ret.fileProperties : [ret.fileProperties]).map(f => f.fileName).sort(), zip: ret.zipFile.length > 100 };
  console.log(JSON.stringify(out));
})().catch(e => { console.error('ERR', e && e.stack || e); process.exit(1); });

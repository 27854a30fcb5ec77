// Drives the emulator's release-gate resources with jsforce (unmodified) and prints one JSON document:
// query?explain= (Query.explain()), limits/recordCount, Tooling runTestsSynchronous / runTestsAsynchronous
// and the test result and coverage objects. Inputs (env): SF_LOGIN_URL, SF_USERNAME, SF_PASSWORD,
// SF_API_VERSION. TLS: the org's CA through NODE_EXTRA_CA_CERTS; verification stays on.
'use strict';
const jsforce = require('jsforce');

async function failure(promise) {
  try { await promise; return null; } catch (e) { return { errorCode: e.errorCode || e.name, message: e.message }; }
}

async function main() {
  const out = {};
  const conn = new jsforce.Connection({ loginUrl: process.env.SF_LOGIN_URL, version: process.env.SF_API_VERSION });
  await conn.login(process.env.SF_USERNAME, process.env.SF_PASSWORD);

  out.explainScan = await conn.query('SELECT Id FROM Account WHERE Description = \'x\'').explain();
  out.explainIndex = await conn.query('SELECT Id FROM Account WHERE Name = \'Acme 1\' AND Description = \'x\'').explain();
  out.explainBad = await failure(conn.query('SELECT FROM Account WHERE').explain());
  out.explainId = await failure(conn.query('00O5g000001AbCdEAF').explain());
  out.recordCount = await conn.request(`/services/data/v${process.env.SF_API_VERSION}/limits/recordCount?sObjects=Account,Contact`);

  out.sync = await conn.tooling.runTestsSynchronous({ tests: [{ className: 'FeatureKillSwitchTest' }] });
  const jobId = await conn.tooling.runTestsAsynchronous({ classNames: 'FeatureKillSwitchTest,CircuitBreakerTest' });
  out.jobId = jobId;
  const q = (soql) => conn.tooling.query(soql).then((r) => r.records);
  out.runResult = await q(`SELECT AsyncApexJobId, Status, ClassesCompleted, ClassesEnqueued, MethodsEnqueued, StartTime, EndTime, TestTime, UserId FROM ApexTestRunResult WHERE AsyncApexJobId = '${jobId}'`);
  out.queueItems = await q(`SELECT Id, Status, ExtendedStatus, ApexClassId, ApexClass.Name, TestRunResultId FROM ApexTestQueueItem WHERE ParentJobId = '${jobId}'`);
  out.results = await q(`SELECT Id, QueueItemId, StackTrace, Message, RunTime, TestTimestamp, AsyncApexJobId, MethodName, Outcome, ApexLogId, ApexClass.Id, ApexClass.Name, ApexClass.NamespacePrefix FROM ApexTestResult WHERE AsyncApexJobId = '${jobId}'`);
  out.aggregate = await q('SELECT ApexClassOrTrigger.Id, ApexClassOrTrigger.Name, NumLinesCovered, NumLinesUncovered, Coverage FROM ApexCodeCoverageAggregate');
  out.orgWide = await q('SELECT PercentCovered FROM ApexOrgWideCoverage');
  out.perTest = await q('SELECT ApexTestClassId, ApexClassOrTrigger.Id, ApexClassOrTrigger.Name, TestMethodName, NumLinesCovered, NumLinesUncovered, Coverage FROM ApexCodeCoverage');
  out.badClass = await failure(conn.tooling.runTestsAsynchronous({ classNames: 'NoSuchTest' }));
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) })); process.exit(1); });

// Checks the synthesised template: the provisioner function (arm64, provided.al2023), its five
// rules each with a retry policy and a DLQ, an on-failure destination, no wildcard action,
// Secrets Manager writes conditioned on the managed-by tag, no permission of an option that is
// off, and the user events on their own bus. (tests/deploy/triggers.py ties the rules to the
// code's trigger table.)
//
// Then, in process, the hub and member constructs: each configuration the constructs refuse,
// compared with the function's init on the same environment (examples/check_config.rs; built
// with `cargo build --example check_config` unless CHECK_CONFIG names the binary), and the hub's
// and the member's IAM, bus policies and cdk-nag findings in several configurations. In hub mode
// also the work queue and its DLQ, the queue policy's Deny of every sender but the planner's role,
// the worker (its environment also put to init), its role (the planner's place-sweep permissions
// and the event source mapping's, no more), the mapping, the alarms; and the app in hub mode
// (context and outputs).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const file = readdirSync("cdk.out").find((f) => f.endsWith(".template.json"));
const resources = JSON.parse(readFileSync(`cdk.out/${file}`, "utf8")).Resources;
const of = (type) => Object.entries(resources).filter(([, r]) => r.Type === type);
const failures = [];
const check = (ok, message) => ok || failures.push(message);

const functions = of("AWS::Lambda::Function").filter(([, r]) => r.Properties.Handler === "bootstrap");
check(functions.length === 1, `expected the provisioner function, found ${functions.length}`);
const fn = functions[0]?.[1].Properties ?? {};
check(fn.Runtime === "provided.al2023", "Runtime must be provided.al2023");
check(JSON.stringify(fn.Architectures) === '["arm64"]', "Architectures must be [arm64]");
check(fn.LoggingConfig?.LogFormat === "JSON", "logs must be JSON");

const rules = of("AWS::Events::Rule");
check(rules.length === 5, `expected 5 rules, found ${rules.length}`);
for (const [id, r] of rules) {
  for (const t of r.Properties.Targets ?? []) {
    check(t.RetryPolicy, `${id}: target without RetryPolicy`);
    check(t.DeadLetterConfig?.Arn, `${id}: target without a dead-letter queue`);
  }
}
check(of("AWS::Lambda::EventInvokeConfig").some(([, r]) => r.Properties.DestinationConfig?.OnFailure),
  "no on-failure destination");

let statements = 0;
for (const [id, p] of of("AWS::IAM::Policy")) {
  for (const st of p.Properties.PolicyDocument.Statement) {
    statements++;
    const actions = [st.Action].flat();
    for (const a of actions) {
      check(a !== "*" && !String(a).endsWith(":*"), `${id}: wildcard action ${a}`);
    }
    const conditions = JSON.stringify(st.Condition ?? {});
    const sm = actions.filter((a) => a.startsWith("secretsmanager:"));
    const unconditioned = ["secretsmanager:DescribeSecret", "secretsmanager:ListSecrets"];
    if (st.Effect === "Deny") {
      const forceDelete = actions.join() === "secretsmanager:DeleteSecret" && conditions.includes("ForceDeleteWithoutRecovery");
      const repoint = actions.join() === "secretsmanager:TagResource" &&
        conditions.includes("secretsmanager:ResourceTag/managed-by") && conditions.includes("db-secret-provisioner:database");
      check(forceDelete || repoint,
        `${id}: the only Denies are of DeleteSecret without a recovery window and of re-pointing an owned secret`);
    } else if (sm.length && !sm.every((a) => unconditioned.includes(a))) {
      const key = sm.includes("secretsmanager:CreateSecret") ? "aws:RequestTag/managed-by" : "secretsmanager:ResourceTag/managed-by";
      check(conditions.includes(key), `${id}: ${sm} not conditioned on ${key}`);
    }
    // Off by default: parameter deletion, rotation, replicas, schedule-deletion. (RestoreSecret
    // is on whenever secrets are retired, the default `tag` included.)
    for (const optional of ["ssm:DeleteParameter", "lambda:InvokeFunction", "secretsmanager:RemoveRegionsFromReplication",
      "secretsmanager:RotateSecret"]) {
      check(!actions.includes(optional), `${id}: ${optional} granted although its option is off`);
    }
    if (st.Effect !== "Deny") {
      check(!actions.includes("secretsmanager:DeleteSecret"), `${id}: DeleteSecret granted although schedule-deletion is off`);
    }
  }
}
check(statements > 0, "no IAM statements");

// "Database User Created" only on its own bus, from the stack's account.
const buses = of("AWS::Events::EventBus");
check(buses.length === 1, `expected the user-event bus, found ${buses.length}`);
const userRules = rules.filter(([, r]) => JSON.stringify(r.Properties.EventPattern ?? {}).includes("Database User Created"));
check(userRules.length === 1 && userRules[0][1].Properties.EventBusName && userRules[0][1].Properties.EventPattern.account,
  "the user rule must be on the user-event bus and match the stack's account");

// The seal key: one HMAC key whose policy lets the account administer it but only the
// function's role use it. No other KMS grant without a key given; the role has no managed
// policies (the IAM contract proves its inline statements minimal).
const keys = of("AWS::KMS::Key");
check(keys.length === 1, `expected the seal key, found ${keys.length} KMS keys`);
const [sealId, seal] = keys[0] ?? [];
check(seal?.Properties.KeySpec === "HMAC_256" && seal?.Properties.KeyUsage === "GENERATE_VERIFY_MAC",
  "the seal key must be HMAC_256 with GENERATE_VERIFY_MAC");
const use = ["kms:GenerateMac", "kms:VerifyMac"];
for (const st of seal?.Properties.KeyPolicy.Statement ?? []) {
  const acts = [st.Action].flat();
  const root = JSON.stringify(st.Principal).includes(":root");
  check(!acts.some((a) => a === "kms:*" || use.includes(a) || a === "kms:Generate*" || a === "kms:Verify*") || !root,
    `seal key policy ${st.Sid}: the account may not use the key`);
  if (acts.some((a) => use.includes(a))) {
    check(JSON.stringify(st.Principal).includes("Role"), `seal key policy ${st.Sid}: only the function's role may use it`);
  }
}
for (const [id, p] of of("AWS::IAM::Policy")) {
  for (const st of p.Properties.PolicyDocument.Statement) {
    const kmsActions = [st.Action].flat().filter((a) => a.startsWith("kms:"));
    const sealUse = kmsActions.length > 0 && kmsActions.every((a) => use.includes(a)) &&
      JSON.stringify(st.Resource).includes(sealId);
    check(kmsActions.length === 0 || sealUse, `${id}: KMS granted although no key is given`);
  }
}
const roles = of("AWS::IAM::Role").filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes("lambda.amazonaws.com"));
check(roles.length === 1 && !roles[0][1].Properties.ManagedPolicyArns, "the function's role must have no managed policies");
// The work queue and the worker are the hub's only.
check(of("AWS::Lambda::EventSourceMapping").length === 0 && !("WORK_QUEUE_URL" in (fn.Environment?.Variables ?? {})) &&
  !("HANDLER_MODE" in (fn.Environment?.Variables ?? {})), "a single account has no work queue, worker or mapping");

// The Serverless rule matches only its creation event's detail-type; the CloudTrail rule exists
// (it needs a trail: cloudTrailTriggers switches it).
const pattern = (r) => r.Properties.EventPattern ?? {};
const serverless = rules.filter(([, r]) => JSON.stringify(pattern(r).source) === '["aws.redshift-serverless"]');
check(serverless.length === 1 && JSON.stringify(pattern(serverless[0][1])["detail-type"]) === '["Redshift Serverless Management"]',
  "the Serverless rule must match detail-type Redshift Serverless Management only");

// Queues encrypted and TLS-only; alarms on each queue's depth and on the alarming error types.
const queues = of("AWS::SQS::Queue");
for (const [id, q] of queues) {
  check(q.Properties.SqsManagedSseEnabled === true || q.Properties.KmsMasterKeyId, `${id} is not encrypted`);
  const policies = of("AWS::SQS::QueuePolicy").filter(([, p]) => JSON.stringify(p.Properties.Queues).includes(id));
  check(policies.some(([, p]) => JSON.stringify(p).includes("aws:SecureTransport")), `${id} accepts non-TLS requests`);
}
const alarms = of("AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
for (const [id] of queues) {
  check(alarms.some((a) => a.MetricName === "ApproximateNumberOfMessagesVisible" && JSON.stringify(a.Dimensions).includes(id)),
    `no depth alarm on ${id}`);
}
const filters = of("AWS::Logs::MetricFilter").map(([, f]) => f.Properties);
for (const errorType of ["UntrustedEvent", "SecretConflict", "ConfigurationError"]) {
  check(filters.some((f) => f.FilterPattern === `{ $.fields.error_type = "${errorType}" }`), `no metric filter on ${errorType}`);
  check(alarms.some((a) => a.MetricName === errorType), `no alarm on ${errorType}`);
}

const summary = [`cdk synth ok: 1 function, ${rules.length} rules with retry policy and DLQ, ${statements} IAM statements, no wildcard action, writes conditioned on managed-by, user events on their own bus, ${queues.length} encrypted TLS-only queues, ${alarms.length} alarms`];

// ---------------------------------------------------------------- hub and member, in process

const require = createRequire(import.meta.url);
const cdk = require("aws-cdk-lib");
const { AwsSolutionsChecks } = require("cdk-nag");
const { DbSecretProvisioner, functionEnvironment, workerEnvironment, workerSettings } = require("../dist/lib/provisioner.js");
const { DbSecretProvisionerMember } = require("../dist/lib/member.js");
const { ConfigurationRefused } = require("../dist/lib/refusal.js");

const ORG = "o-exampleorgid";
const [A, B, C] = ["111111111111", "222222222222", "333333333333"];
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const REPLICA_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/5e6f7a8b-0000-4000-8000-00000000e001";
const ROTATE = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql";
const SEAL_KEY = "arn:aws:kms:us-east-1:123456789012:key/5ea15ea1-0000-4000-8000-00000000beef";
// What the stack's work queue's Ref and Arn resolve to, for init (hub mode).
const WORK_QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/Check-ProvisionerWorkQueue-AbCdEf012345";
const WORK_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:Check-ProvisionerWorkQueue-AbCdEf012345";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms";
const hub = (extra = {}) => ({ organizationId: ORG, memberAccounts: [A, B], ...extra });
const code = mkdtempSync(join(tmpdir(), "dsp-code-"));
writeFileSync(join(code, "bootstrap"), "");
const sameSet = (a, b) => JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort());
const list = (v) => (v === undefined ? [] : [v].flat());

/** Synthesises one construct in its own app with cdk-nag: { template, nag } or { refused }. */
function synth(make) {
  const app = new cdk.App({ outdir: mkdtempSync(join(tmpdir(), "dsp-synth-")) });
  const stack = new cdk.Stack(app, "Check");
  try {
    make(stack);
  } catch (e) {
    if (e instanceof ConfigurationRefused) return { refused: e };
    throw e;
  }
  cdk.Aspects.of(app).add(new AwsSolutionsChecks());
  const artifact = app.synth().getStackByName("Check");
  const nag = artifact.messages.filter((m) => m.level === "error").map((m) => `${m.id}: ${m.entry.data}`);
  return { template: artifact.template, nag };
}
const synthHub = (props) => synth((s) => new DbSecretProvisioner(s, "Provisioner", { codePath: code, ...props }));
const synthMember = (props) => synth((s) => new DbSecretProvisionerMember(s, "Member", props));

/** The planner's environment of the props, as the stack gives it (WORK_QUEUE_URL in hub mode). */
const plannerEnv = (p) => ({ ...functionEnvironment(p, p.hub ? WORK_QUEUE_URL : undefined), SEAL_KEY_ID: SEAL_KEY, AWS_REGION: "us-east-1" });
/** The worker's (hub mode). */
const workerEnv = (p) => workerEnvironment(plannerEnv(p), WORK_QUEUE_ARN);

/** init's answer for each environment (examples/check_config.rs). */
function initAnswers(envs) {
  let bin = process.env.CHECK_CONFIG;
  if (!bin) {
    execFileSync("cargo", ["build", "--quiet", "--example", "check_config"], { cwd: "..", stdio: "inherit" });
    bin = "../target/debug/examples/check_config";
  }
  return JSON.parse(execFileSync(bin, { input: JSON.stringify(envs) }).toString());
}

// Each refusal: the template parameters it names (as template.yaml's Rules do), and the variable
// init names for the same environment (none: init starts, only the deployment can tell).
const refused = [
  { name: "hub with kmsKeyArn", props: { hub: hub(), kmsKeyArn: KEY_ARN }, parameters: ["HubMode", "KmsKeyArn"], variable: "KMS_KEY_ID" },
  { name: "hub with replicaKmsKeyArns", props: { hub: hub(), replicaRegions: ["eu-west-1"], replicaKmsKeyArns: [REPLICA_KEY_ARN] },
    parameters: ["HubMode", "ReplicaKmsKeyArns"], variable: "REPLICA_KMS_KEY_ARNS" },
  { name: "hub with a rotation function", props: { hub: hub(), rotation: { schedule: "rate(30 days)", functions: { mysql: ROTATE } } },
    parameters: ["HubMode", "RotationLambdaMySQL"], variable: "ROTATION_LAMBDA_ARNS" },
  { name: "sweepAccounts outside a memberAccounts list", props: { hub: hub({ sweepAccounts: [A, C] }) },
    parameters: ["SweepAccounts", "MemberAccounts"], variable: "SWEEP_ACCOUNTS" },
  { name: "kmsKeyAlias without hub mode", props: { kmsKeyAlias: "alias/db-secrets" }, parameters: ["KmsKeyAlias", "HubMode"] },
  { name: "replicaKmsKeyAliases without hub mode", props: { replicaRegions: ["eu-west-1"], replicaKmsKeyAliases: { "eu-west-1": "alias/db-secrets" } },
    parameters: ["ReplicaKmsKeyAliases", "HubMode"] },
  { name: "kmsKeyAlias with kmsKeyArn (hub mode)", props: { hub: hub(), kmsKeyAlias: "alias/db-secrets", kmsKeyArn: KEY_ARN },
    parameters: ["KmsKeyAlias", "KmsKeyArn", "HubMode"] },
  { name: "kmsKeyAlias with kmsKeyArn (single account)", props: { kmsKeyAlias: "alias/db-secrets", kmsKeyArn: KEY_ARN },
    parameters: ["KmsKeyAlias", "KmsKeyArn", "HubMode"] },
  { name: "a replica alias for a region not replicated", props: { hub: hub(), replicaRegions: ["eu-west-1"], replicaKmsKeyAliases: { "us-west-2": "alias/db-secrets" } },
    parameters: ["ReplicaKmsKeyAliases", "ReplicaRegions"], variable: "REPLICA_KMS_KEY_ALIASES" },
  { name: "kmsKeyAlias that is not alias/NAME", props: { hub: hub(), kmsKeyAlias: "alias/" }, parameters: ["KmsKeyAlias"], variable: "KMS_KEY_ID" },
  { name: "hub without an organization id", props: { hub: hub({ organizationId: "" }) }, parameters: ["HubMode", "OrganizationId"], variable: "ORGANIZATION_ID" },
  { name: "hub with an empty member list", props: { hub: hub({ memberAccounts: [] }) }, parameters: ["HubMode", "MemberAccounts"] },
  { name: "a member that is not an account id", props: { hub: hub({ memberAccounts: [A, "12345"] }) }, parameters: ["MemberAccounts"], variable: "MEMBER_ACCOUNTS" },
  { name: "maxRetireFraction above 1", props: { maxRetireFraction: 1.5 }, parameters: ["MaxRetireFraction"], variable: "MAX_RETIRE_FRACTION" },
  // The workers: only the deployment can tell (init reads none of these).
  { name: "worker reserved concurrency below the mapping's maximum", props: { hub: hub({ workerMaxConcurrency: 20 }) },
    parameters: ["WorkerReservedConcurrency", "WorkerMaxConcurrency"] },
  { name: "worker reserved concurrency below the mapping's maximum (both given)", props: { hub: hub({ workerMaxConcurrency: 100, workerReservedConcurrency: 99 }) },
    parameters: ["WorkerReservedConcurrency", "WorkerMaxConcurrency"] },
  { name: "worker maximum concurrency below 2", props: { hub: hub({ workerMaxConcurrency: 1, workerReservedConcurrency: 1 }) }, parameters: ["WorkerMaxConcurrency"] },
  { name: "worker maximum concurrency above 1,000", props: { hub: hub({ workerMaxConcurrency: 1001, workerReservedConcurrency: 1001 }) }, parameters: ["WorkerMaxConcurrency"] },
  { name: "worker timeout above 900 s", props: { hub: hub({ workerTimeoutSeconds: 901 }) }, parameters: ["WorkerTimeoutSeconds"] },
  { name: "worker timeout of a fraction of a second", props: { hub: hub({ workerTimeoutSeconds: 120.5 }) }, parameters: ["WorkerTimeoutSeconds"] },
  { name: "a hub role name without room for -worker", props: { hub: hub({ roleName: "r".repeat(58) }) }, parameters: ["HubRoleName"] },
];
// Configurations both the constructs and init accept; the hub ones are checked below.
const accepted = [
  { name: "single account, customer keys, replicas and rotation",
    props: { kmsKeyArn: KEY_ARN, replicaRegions: ["eu-west-1"], replicaKmsKeyArns: [REPLICA_KEY_ARN], maxRetireFraction: 0.5,
      rotation: { schedule: "rate(30 days)", functions: { mysql: ROTATE } } } },
  { name: "hub of the organization, keys by alias",
    props: { hub: hub({ memberAccounts: "organization", sweepAccounts: "organization", sweepRegions: ["us-east-1", "eu-west-1"] }),
      kmsKeyAlias: "alias/db-secrets", replicaRegions: ["eu-west-1", "us-west-2"],
      replicaKmsKeyAliases: { "eu-west-1": "alias/db-secrets-eu", "us-west-2": "alias/db-secrets" } } },
  { name: "hub of listed members, the sweep in a subset", props: { hub: hub({ sweepAccounts: [B] }), kmsKeyAlias: "alias/db-secrets", reservedConcurrency: 5 } },
  { name: "hub of listed members, the sweep in the organization's", props: { hub: hub({ sweepAccounts: "organization" }), userEventSources: ["com.example.a", "com.example.b"] } },
  { name: "hub with the AWS managed key", props: { hub: hub({ memberAccounts: "organization" }) } },
  { name: "hub with workers scaled out, an alarm topic and the longest role name",
    props: { hub: hub({ roleName: "r".repeat(57), workerTimeoutSeconds: 300, workerMaxConcurrency: 50, workerReservedConcurrency: 60 }), alarmTopicArn: TOPIC } },
  { name: "hub with the fewest workers and the longest worker timeout",
    props: { hub: hub({ workerTimeoutSeconds: 900, workerMaxConcurrency: 2, workerReservedConcurrency: 2 }) } },
  { name: "hub with the most workers and the shortest worker timeout",
    props: { hub: hub({ workerTimeoutSeconds: 60, workerMaxConcurrency: 1000, workerReservedConcurrency: 1000 }) } },
];
// The planner's environment of every configuration, then the worker's of each accepted hub.
const acceptedHubs = accepted.filter((c) => c.props.hub);
// And what the stack adds in hub mode is what init needs: without WORK_QUEUE_URL the planner, and
// without WORK_QUEUE_ARN the worker, are refused naming it.
const without = (env, key) => Object.fromEntries(Object.entries(env).filter(([k]) => k !== key));
const needed = acceptedHubs.length ? [[without(plannerEnv(acceptedHubs[0].props), "WORK_QUEUE_URL"), "WORK_QUEUE_URL"],
  [without(workerEnv(acceptedHubs[0].props), "WORK_QUEUE_ARN"), "WORK_QUEUE_ARN"]] : [];
const allAnswers = initAnswers([...[...refused, ...accepted].map((c) => plannerEnv(c.props)), ...acceptedHubs.map((c) => workerEnv(c.props)),
  ...needed.map(([env]) => env)]);
const answers = allAnswers.slice(0, refused.length + accepted.length);
acceptedHubs.forEach((c, i) => {
  const init = allAnswers[refused.length + accepted.length + i];
  check(init.ok, `${c.name}: init refuses the worker's environment: ${JSON.stringify(init)}`);
});
needed.forEach(([, variable], i) => {
  const init = allAnswers[refused.length + accepted.length + acceptedHubs.length + i];
  check(!init.ok && init.errorType === "ConfigurationError" && init.variable === variable,
    `init accepts a hub ${variable === "WORK_QUEUE_ARN" ? "worker" : "planner"} without ${variable}: ${JSON.stringify(init)} (a check_config older than the work queue?)`);
});
refused.forEach((c, i) => {
  const { refused: e } = synthHub(c.props);
  if (!e) return check(false, `${c.name}: synthesised, but must be refused`);
  const named = e.refusals.flatMap((r) => r.parameters);
  check(c.parameters.every((p) => named.includes(p)), `${c.name}: the refusal names ${named}, not all of ${c.parameters}`);
  const variables = [...new Set(e.refusals.map((r) => r.variable).filter((v) => v))];
  check(sameSet(variables, list(c.variable)), `${c.name}: the refusal names variables ${variables}, expected ${list(c.variable)}`);
  const init = answers[i];
  if (c.variable) {
    check(!init.ok && init.errorType === "ConfigurationError" && init.variable === c.variable,
      `${c.name}: init answers ${JSON.stringify(init)}, expected a ConfigurationError naming ${c.variable}`);
  } else {
    check(init.ok, `${c.name}: only the deployment should refuse it, but init answers ${JSON.stringify(init)}`);
  }
});
const hubTemplates = [];
accepted.forEach((c, i) => {
  const out = synthHub(c.props);
  check(!out.refused, `${c.name}: refused: ${out.refused?.message}`);
  check(answers[refused.length + i].ok, `${c.name}: init refuses it: ${JSON.stringify(answers[refused.length + i])}`);
  if (out.template) {
    check(out.nag.length === 0, `${c.name}: cdk-nag: ${out.nag.join("; ")}`);
    if (c.props.hub) hubTemplates.push([c, out.template]);
  }
});

const policyStatements = (resources) => Object.values(resources).flatMap((r) =>
  r.Type === "AWS::IAM::Policy" ? r.Properties.PolicyDocument.Statement
    : r.Type === "AWS::IAM::Role" ? (r.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement) : []);
const actionsOf = (st) => list(st.Action);

/** The KMS grants by alias: on the account's keys, ForAnyValue kms:ResourceAliases, through Secrets Manager (DescribeKey aside). */
function checkAliasKeys(name, statements, keyAlias, replicaAliases) {
  const seal = ["kms:GenerateMac", "kms:VerifyMac"];
  const kms = statements.filter((st) => actionsOf(st).some((a) => a.startsWith("kms:")) && !actionsOf(st).every((a) => seal.includes(a)));
  check(kms.length === (keyAlias ? 2 : 0) + (replicaAliases.length ? 1 : 0), `${name}: ${kms.length} KMS statements besides the seal`);
  for (const st of kms) {
    const aliases = st.Condition?.["ForAnyValue:StringEquals"]?.["kms:ResourceAliases"];
    const acts = actionsOf(st);
    check(JSON.stringify(st.Resource).includes(":key/*") && JSON.stringify(st.Resource).includes("AWS::AccountId"),
      `${name}: ${st.Sid} is not on the account's keys`);
    check(!JSON.stringify(st.Condition ?? {}).includes("kms:RequestAlias"), `${name}: ${st.Sid} uses kms:RequestAlias`);
    const expected = acts.includes("kms:Encrypt") ? replicaAliases : [keyAlias];
    check(Array.isArray(aliases) && sameSet(aliases, expected), `${name}: ${st.Sid} aliases ${aliases}, expected ${expected}`);
    const via = st.Condition?.StringLike?.["kms:ViaService"];
    if (sameSet(acts, ["kms:DescribeKey"])) {
      check(via === undefined && Object.keys(st.Condition).length === 1, `${name}: ${st.Sid} (the function's own DescribeKey) is conditioned on more than the alias`);
    } else {
      check(via === "secretsmanager.*.amazonaws.com", `${name}: ${st.Sid} not through Secrets Manager`);
      check(sameSet(acts, acts.includes("kms:Encrypt") ? ["kms:GenerateDataKey", "kms:Encrypt"] : ["kms:GenerateDataKey", "kms:Decrypt"]),
        `${name}: ${st.Sid} grants ${acts}`);
    }
  }
}

for (const [c, template] of hubTemplates) {
  const res = template.Resources;
  const h = c.props.hub;
  const worker = workerSettings(h);
  const roleName = h.roleName ?? "db-secret-provisioner-hub";
  const bootstraps = Object.entries(res).filter(([, r]) => r.Type === "AWS::Lambda::Function" && r.Properties.Handler === "bootstrap");
  const [plannerId, fn] = bootstraps.find(([, r]) => !r.Properties.Environment.Variables.HANDLER_MODE) ?? [];
  const [workerId, wfn] = bootstraps.find(([, r]) => r.Properties.Environment.Variables.HANDLER_MODE === "worker") ?? [];
  if (bootstraps.length !== 2 || !fn || !wfn) {
    check(false, `${c.name}: expected the planner and the worker functions, found ${bootstraps.map(([id]) => id)}`);
    continue;
  }
  const env = fn.Properties.Environment.Variables;
  check(env.ORGANIZATION_ID === ORG && env.MEMBER_ACCOUNTS === (h.memberAccounts === "organization" ? "organization" : h.memberAccounts.join(",")),
    `${c.name}: ORGANIZATION_ID / MEMBER_ACCOUNTS`);
  check(env.KMS_KEY_ID === c.props.kmsKeyAlias, `${c.name}: KMS_KEY_ID is ${env.KMS_KEY_ID}`);
  const replicaAliases = Object.entries(c.props.replicaKmsKeyAliases ?? {});
  check(env.REPLICA_KMS_KEY_ALIASES === (replicaAliases.length ? replicaAliases.map(([r, a]) => `${r}=${a}`).join(",") : undefined),
    `${c.name}: REPLICA_KMS_KEY_ALIASES is ${env.REPLICA_KMS_KEY_ALIASES}`);
  check(env.MAX_RETIRE_FRACTION === "0.2", `${c.name}: MAX_RETIRE_FRACTION is ${env.MAX_RETIRE_FRACTION}`);
  check(fn.Properties.ReservedConcurrentExecutions === (c.props.reservedConcurrency ?? 20), `${c.name}: reserved concurrency ${fn.Properties.ReservedConcurrentExecutions}`);

  // The work queue (the one with a redrive policy) and its DLQ.
  const queues = Object.entries(res).filter(([, r]) => r.Type === "AWS::SQS::Queue");
  const [workId, work] = queues.find(([, q]) => q.Properties.RedrivePolicy) ?? [];
  const dlqId = work?.Properties.RedrivePolicy.deadLetterTargetArn?.["Fn::GetAtt"]?.[0];
  const dlq = res[dlqId];
  const getAtt = (id, att = "Arn") => JSON.stringify({ "Fn::GetAtt": [id, att] });
  if (!work || !dlq || queues.filter(([, q]) => q.Properties.RedrivePolicy).length !== 1) {
    check(false, `${c.name}: expected one work queue with a DLQ`);
    continue;
  }
  check(work.Properties.SqsManagedSseEnabled === true && dlq.Properties.SqsManagedSseEnabled === true && !work.Properties.KmsMasterKeyId,
    `${c.name}: the work queue and its DLQ must be SSE-SQS`);
  check(work.Properties.MessageRetentionPeriod === 86400, `${c.name}: the work queue keeps messages ${work.Properties.MessageRetentionPeriod} s, not 1 day`);
  check(dlq.Properties.MessageRetentionPeriod === 1209600 && !dlq.Properties.RedrivePolicy,
    `${c.name}: the work DLQ keeps messages ${dlq.Properties.MessageRetentionPeriod} s, not 14 days (longer than the work queue's)`);
  check(work.Properties.VisibilityTimeout === 6 * worker.timeoutSeconds && wfn.Properties.Timeout === worker.timeoutSeconds,
    `${c.name}: visibility timeout ${work.Properties.VisibilityTimeout} s is not 6 x the worker's timeout ${wfn.Properties.Timeout} s (expected ${worker.timeoutSeconds})`);
  check(work.Properties.RedrivePolicy.maxReceiveCount === 5, `${c.name}: maxReceiveCount ${work.Properties.RedrivePolicy.maxReceiveCount}, expected 5`);
  check(!work.Properties.FifoQueue, `${c.name}: the work queue must be a standard queue`);

  // The queue policies: TLS only; on the work queue an explicit Deny of SendMessage to every
  // principal but the planner's role, and no Allow.
  const queuePolicy = (id) => Object.values(res).filter((r) => r.Type === "AWS::SQS::QueuePolicy" && JSON.stringify(r.Properties.Queues) === JSON.stringify([{ Ref: id }]))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
  const tls = (st) => st.Effect === "Deny" && st.Action === "sqs:*" && JSON.stringify(st.Principal) === '{"AWS":"*"}' &&
    JSON.stringify(st.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}';
  const [plannerRoleId] = fn.Properties.Role["Fn::GetAtt"];
  const [workerRoleId] = wfn.Properties.Role["Fn::GetAtt"];
  const workPolicy = queuePolicy(workId);
  const senders = workPolicy.filter((st) => !tls(st));
  check(workPolicy.some(tls), `${c.name}: the work queue accepts non-TLS requests`);
  check(senders.length === 1 && senders[0].Effect === "Deny" && ["*", '{"AWS":"*"}'].includes(typeof senders[0].Principal === "string" ? senders[0].Principal : JSON.stringify(senders[0].Principal)) &&
    JSON.stringify(list(senders[0].Action)) === '["sqs:SendMessage"]' && JSON.stringify(senders[0].Resource) === getAtt(workId) &&
    JSON.stringify(senders[0].Condition) === JSON.stringify({ ArnNotEquals: { "aws:PrincipalArn": { "Fn::GetAtt": [plannerRoleId, "Arn"] } } }),
  `${c.name}: the work queue policy must Deny sqs:SendMessage to every principal but the planner's role (aws:PrincipalArn), found ${JSON.stringify(senders)}`);
  // The Deny, evaluated: who may still send (what the role's own policy allows aside).
  const denied = (principalArn) => senders.some((st) => st.Condition.ArnNotEquals["aws:PrincipalArn"]["Fn::GetAtt"][0] !== principalArn);
  check(!denied(plannerRoleId) && denied(workerRoleId) && denied("an operator's role"), `${c.name}: the Deny must refuse the worker and any other principal, not the planner`);
  const dlqPolicy = queuePolicy(dlqId);
  check(dlqPolicy.some(tls) && dlqPolicy.every((st) => st.Effect === "Deny"), `${c.name}: the work DLQ policy ${JSON.stringify(dlqPolicy)}`);

  // The worker: the planner's artifact and settings, its own timeout, concurrency and log group.
  const same = (k) => JSON.stringify(wfn.Properties[k]) === JSON.stringify(fn.Properties[k]);
  check(["Code", "Runtime", "Architectures", "Handler", "MemorySize"].every(same), `${c.name}: the worker is not the planner's artifact and runtime`);
  check(wfn.Properties.ReservedConcurrentExecutions === worker.reservedConcurrency,
    `${c.name}: worker reserved concurrency ${wfn.Properties.ReservedConcurrentExecutions}, expected ${worker.reservedConcurrency}`);
  const logGroupOf = (f) => f.Properties.LoggingConfig?.LogGroup?.Ref;
  check(wfn.Properties.LoggingConfig?.LogFormat === "JSON" && logGroupOf(wfn) && logGroupOf(wfn) !== logGroupOf(fn) &&
    res[logGroupOf(wfn)]?.Properties.RetentionInDays === res[logGroupOf(fn)]?.Properties.RetentionInDays,
  `${c.name}: the worker logs JSON into its own log group, kept as long as the planner's`);
  // Environments: WORK_QUEUE_URL on the planner only; the worker's is the planner's without it,
  // with HANDLER_MODE=worker and WORK_QUEUE_ARN.
  check(JSON.stringify(env.WORK_QUEUE_URL) === JSON.stringify({ Ref: workId }), `${c.name}: the planner's WORK_QUEUE_URL is ${JSON.stringify(env.WORK_QUEUE_URL)}`);
  const { WORK_QUEUE_URL: _url, ...rest } = env;
  const expected = { ...rest, HANDLER_MODE: "worker", WORK_QUEUE_ARN: { "Fn::GetAtt": [workId, "Arn"] } };
  check(JSON.stringify(wfn.Properties.Environment.Variables) === JSON.stringify(expected),
    `${c.name}: the worker's environment ${JSON.stringify(wfn.Properties.Environment.Variables)}, expected ${JSON.stringify(expected)}`);
  check(!Object.values(res).some((r) => r.Type === "AWS::Lambda::EventInvokeConfig" && JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: workerId })),
    `${c.name}: the worker is invoked synchronously by its mapping: no asynchronous invoke config`);

  // The mapping: the work queue, batch size 1, partial batch responses, the most workers at once.
  const mappings = Object.values(res).filter((r) => r.Type === "AWS::Lambda::EventSourceMapping");
  const m = mappings[0]?.Properties ?? {};
  check(mappings.length === 1 && JSON.stringify(m.EventSourceArn) === getAtt(workId) && JSON.stringify(m.FunctionName) === JSON.stringify({ Ref: workerId }) &&
    m.BatchSize === 1 && JSON.stringify(m.FunctionResponseTypes) === '["ReportBatchItemFailures"]' &&
    JSON.stringify(m.ScalingConfig) === JSON.stringify({ MaximumConcurrency: worker.maxConcurrency }) && !m.MaximumBatchingWindowInSeconds,
  `${c.name}: the event source mapping ${JSON.stringify(mappings)}`);
  check(wfn.Properties.ReservedConcurrentExecutions >= m.ScalingConfig?.MaximumConcurrency, `${c.name}: reserved concurrency below the mapping's maximum`);

  // The roles: the planner's and the worker's, no managed policies, named after HubRoleName.
  const roleStatements = (id) => [
    ...(res[id].Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement),
    ...Object.values(res).filter((r) => r.Type === "AWS::IAM::Policy" && JSON.stringify(r.Properties.Roles).includes(JSON.stringify({ Ref: id })))
      .flatMap((r) => r.Properties.PolicyDocument.Statement),
  ];
  const planner = roleStatements(plannerRoleId);
  const workerSts = roleStatements(workerRoleId);
  check(JSON.stringify(mappings[0]?.DependsOn ?? []).includes(workerRoleId), `${c.name}: the mapping does not wait for the worker's role and policy`);
  check(res[plannerRoleId].Properties.RoleName === roleName && res[workerRoleId].Properties.RoleName === `${roleName}-worker`,
    `${c.name}: role names ${res[plannerRoleId].Properties.RoleName}, ${res[workerRoleId].Properties.RoleName}`);
  check(!res[plannerRoleId].Properties.ManagedPolicyArns && !res[workerRoleId].Properties.ManagedPolicyArns, `${c.name}: a role with managed policies`);
  const bySid = (sts) => Object.fromEntries(sts.map((st) => [st.Sid, JSON.stringify(st)]));
  const [p, w] = [bySid(planner), bySid(workerSts)];
  const plannerOnly = ["SendFailedInvocations", "PlanIntoWorkQueue", "ListOrganizationAccounts"];
  const workerOnly = ["ConsumeWorkQueue"];
  for (const sid of new Set([...Object.keys(p), ...Object.keys(w)])) {
    if (sid === "WriteOwnLogs") continue;
    if (plannerOnly.includes(sid)) check(!(sid in w), `${c.name}: the worker has the planner's ${sid}`);
    else if (workerOnly.includes(sid)) check(!(sid in p), `${c.name}: the planner has the worker's ${sid}`);
    else check(p[sid] === w[sid], `${c.name}: ${sid} differs between the planner (${p[sid]}) and the worker (${w[sid]})`);
  }
  check(Object.keys(p).length === planner.length && Object.keys(w).length === workerSts.length, `${c.name}: statements without a unique Sid`);
  const logsOf = (sts) => JSON.stringify(sts.find((st) => st.Sid === "WriteOwnLogs")?.Resource);
  check(logsOf(planner) === getAtt(logGroupOf(fn)) && logsOf(workerSts) === getAtt(logGroupOf(wfn)), `${c.name}: each role writes its own function's log group`);
  const sqsOf = (sts) => sts.filter((st) => actionsOf(st).some((a) => a.startsWith("sqs:")));
  const onFailure = Object.values(res).find((r) => r.Type === "AWS::Lambda::EventInvokeConfig" && JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: plannerId }))
    ?.Properties.DestinationConfig?.OnFailure?.Destination;
  check(sqsOf(planner).every((st) => JSON.stringify(actionsOf(st)) === '["sqs:SendMessage"]') &&
    sameSet(sqsOf(planner).map((st) => JSON.stringify(st.Resource)), [getAtt(workId), JSON.stringify(onFailure)]) && sqsOf(planner).length === 2,
  `${c.name}: the planner sends to the work queue and its on-failure destination only: ${JSON.stringify(sqsOf(planner))}`);
  check(sqsOf(workerSts).length === 1 && sameSet(actionsOf(sqsOf(workerSts)[0]), ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) &&
    JSON.stringify(sqsOf(workerSts)[0].Resource) === getAtt(workId),
  `${c.name}: the worker's SQS grant must be ReceiveMessage, DeleteMessage and GetQueueAttributes on the work queue only: ${JSON.stringify(sqsOf(workerSts))}`);
  check(!workerSts.some((st) => actionsOf(st).some((a) => ["organizations:ListAccounts", "organizations:DescribeOrganization"].includes(a))),
    `${c.name}: the worker may list the organization (the planner plans)`);
  // The seal key: both roles use it, nobody else.
  const sealUse = Object.values(res).find((r) => r.Type === "AWS::KMS::Key")?.Properties.KeyPolicy.Statement.find((st) => st.Sid === "SealWithTheFunctionOnly");
  check(sameSet(list(sealUse?.Principal?.AWS).map((x) => x["Fn::GetAtt"]?.[0]), [plannerRoleId, workerRoleId]), `${c.name}: the seal key's users ${JSON.stringify(sealUse?.Principal)}`);

  // Each role's member-role, organization and KMS statements.
  const listsOrganization = h.memberAccounts === "organization" || h.sweepAccounts === "organization";
  for (const [who, statements] of [["planner", planner], ["worker", workerSts]]) {
    const name = `${c.name} (${who})`;
    const sts = statements.filter((st) => actionsOf(st).some((a) => a.startsWith("sts:")));
    check(sts.length === 1 && sameSet(actionsOf(sts[0]), ["sts:AssumeRole", "sts:SetSourceIdentity"]), `${name}: AssumeRole and SetSourceIdentity, one statement`);
    const cond = sts[0]?.Condition ?? {};
    check(Object.keys(cond).join() === "StringEquals" && cond.StringEquals["aws:ResourceOrgID"] === ORG, `${name}: AssumeRole without aws:ResourceOrgID`);
    check(Array.isArray(h.memberAccounts) ? sameSet(list(cond.StringEquals?.["aws:ResourceAccount"]), h.memberAccounts) : !("aws:ResourceAccount" in (cond.StringEquals ?? {})),
      `${name}: aws:ResourceAccount ${JSON.stringify(cond.StringEquals?.["aws:ResourceAccount"])}`);
    const org = statements.filter((st) => actionsOf(st).some((a) => a.startsWith("organizations:")));
    const lists = org.filter((st) => st.Resource === "*");
    const proves = org.filter((st) => st.Resource !== "*");
    check((listsOrganization && who === "planner"
      ? lists.length === 1 && sameSet(actionsOf(lists[0]), ["organizations:ListAccounts", "organizations:DescribeOrganization"])
      : lists.length === 0) &&
      (h.memberAccounts === "organization"
        ? proves.length === 1 && sameSet(actionsOf(proves[0]), ["organizations:DescribeAccount"]) &&
          JSON.stringify(proves[0].Resource).includes(`:organizations::*:account/${ORG}/*`)
        : proves.length === 0), `${name}: organizations statements ${JSON.stringify(org)}`);
    checkAliasKeys(name, statements, c.props.kmsKeyAlias, replicaAliases.map(([, a]) => a));
  }

  // Alarms: the DLQ's depth, the work queue's oldest message (6 h), to the topic when given.
  const alarms = Object.values(res).filter((r) => r.Type === "AWS::CloudWatch::Alarm").map((r) => r.Properties);
  const on = (a, id) => JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: "QueueName", Value: { "Fn::GetAtt": [id, "QueueName"] } }]);
  const depth = alarms.filter((a) => a.Namespace === "AWS/SQS" && a.MetricName === "ApproximateNumberOfMessagesVisible" && on(a, dlqId));
  const age = alarms.filter((a) => a.Namespace === "AWS/SQS" && a.MetricName === "ApproximateAgeOfOldestMessage" && on(a, workId));
  check(depth.length === 1 && depth[0].Threshold === 0 && depth[0].ComparisonOperator === "GreaterThanThreshold" && depth[0].TreatMissingData === "notBreaching",
    `${c.name}: the work DLQ depth alarm ${JSON.stringify(depth)}`);
  check(age.length === 1 && age[0].Threshold === 21600 && age[0].ComparisonOperator === "GreaterThanOrEqualToThreshold" && age[0].TreatMissingData === "notBreaching" &&
    age[0].Statistic === "Maximum", `${c.name}: the work queue's oldest-message alarm ${JSON.stringify(age)}`);
  for (const a of alarms) {
    check(JSON.stringify(a.AlarmActions) === JSON.stringify(c.props.alarmTopicArn ? [c.props.alarmTopicArn] : undefined),
      `${c.name}: alarm ${a.MetricName} actions ${JSON.stringify(a.AlarmActions)}`);
  }
  // The log line metrics count the worker's lines too.
  const filters = Object.values(res).filter((r) => r.Type === "AWS::Logs::MetricFilter").map((r) => r.Properties);
  for (const metric of ["UntrustedEvent", "SecretConflict", "ConfigurationError", "FlaggedSecrets", "RotationStuck", "PortChangesLeftToSweep"]) {
    const groups = filters.filter((f) => f.MetricTransformations[0].MetricName === metric).map((f) => f.LogGroupName.Ref);
    // An event's port-change wait is the planner's only.
    const expected = metric === "PortChangesLeftToSweep" ? [logGroupOf(fn)] : [logGroupOf(fn), logGroupOf(wfn)];
    check(groups.length === expected.length && sameSet(groups, expected), `${c.name}: metric ${metric} counts log groups ${groups}`);
  }

  // The hub bus: PutEvents by the members' forwarding roles only, of the forwarded sources.
  const hubBus = Object.entries(res).find(([, r]) => r.Type === "AWS::Events::EventBus" && JSON.stringify(r.Properties.Name).includes("-hub"))?.[0];
  const policies = Object.values(res).filter((r) => r.Type === "AWS::Events::EventBusPolicy" && JSON.stringify(r.Properties.EventBusName) === JSON.stringify({ Ref: hubBus }));
  const allows = policies.map((p) => p.Properties.Statement).filter((st) => st.Effect === "Allow");
  const denies = policies.map((p) => p.Properties.Statement).filter((st) => st.Effect === "Deny");
  const st = allows[0] ?? {};
  const forwardingRoles = (v) => JSON.stringify(v ?? "").includes(":iam::*:role/db-secret-provisioner/*");
  const sources = ["aws.rds", "aws.redshift", "aws.redshift-serverless", ...(c.props.userEventSources ?? ["com.example.provisioning"])];
  check(allows.length === 1 && st.Action === "events:PutEvents" && st.Principal === "*", `${c.name}: the hub bus policy`);
  check(st.Condition?.StringEquals?.["aws:PrincipalOrgID"] === ORG, `${c.name}: the hub bus policy without aws:PrincipalOrgID`);
  check(forwardingRoles(st.Condition?.ArnLike?.["aws:PrincipalArn"]), `${c.name}: the hub bus lets in principals other than the forwarding roles`);
  check(sameSet(list(st.Condition?.["ForAllValues:StringEquals"]?.["events:source"]), sources), `${c.name}: the hub bus policy's events:source ${JSON.stringify(st.Condition)}`);
  // The hub account's own principals are held back by an explicit Deny only.
  check(denies.length === 1 && denies[0].Action === "events:PutEvents" && forwardingRoles(denies[0].Condition?.ArnNotLike?.["aws:PrincipalArn"]) &&
    Object.keys(denies[0].Condition).length === 1, `${c.name}: no Deny of PutEvents to principals other than the forwarding roles`);
}
summary.push(`${refused.length} refusals (each named as template.yaml's Rules and init name it), ${accepted.length} accepted configurations (init agrees, cdk-nag clean; ` +
  `the ${acceptedHubs.length} hubs' worker environments too, and init needs WORK_QUEUE_URL and WORK_QUEUE_ARN), ` +
  `${hubTemplates.length} hub templates (AssumeRole within the organization, keys by alias, bus open to forwarding roles only; ` +
  "the work queue SSE-SQS, TLS-only, 1 day, visibility 6 x the worker's timeout, maxReceiveCount 5, its DLQ 14 days, SendMessage denied to all but the planner's role; " +
  "the worker the planner's artifact and place-sweep permissions with Receive/Delete/GetQueueAttributes on the work queue only, its mapping batch 1 with " +
  "ReportBatchItemFailures and MaximumConcurrency, reserved concurrency at least that; DLQ depth and oldest-message alarms)");

// The app in hub mode: the worker's context keys reach the construct, and the outputs name the
// work queue, its DLQ and the worker (a single account has none of them: cdk.out above).
function synthApp(context) {
  const outdir = mkdtempSync(join(tmpdir(), "dsp-app-"));
  try {
    execFileSync("node", ["dist/bin/app.js"], {
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ codePath: code, ...context }) },
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (e) {
    return { error: e.stderr.toString() };
  }
  const f = readdirSync(outdir).find((x) => x.endsWith(".template.json"));
  return { template: JSON.parse(readFileSync(join(outdir, f), "utf8")) };
}
const singleOutputs = Object.keys(JSON.parse(readFileSync(`cdk.out/${file}`, "utf8")).Outputs ?? {});
check(!["WorkQueueUrl", "WorkDLQUrl", "WorkerFunctionArn", "HubRoleArn", "WorkerRoleArn"].some((o) => singleOutputs.includes(o)), `a single account outputs ${singleOutputs}`);
const hubContext = { hubMode: "true", organizationId: ORG, memberAccounts: `${A},${B}`, workerTimeoutSeconds: "300", workerMaxConcurrency: "20", workerReservedConcurrency: "30" };
const app = synthApp(hubContext);
if (app.error) {
  check(false, `the app in hub mode: ${app.error}`);
} else {
  const res = app.template.Resources;
  const out = app.template.Outputs ?? {};
  const idOf = (pred) => Object.entries(res).find(([, r]) => pred(r))?.[0];
  // The role of the function `pred` picks by its environment (the planner, or the worker).
  const roleOf = (res, pred) => Object.values(res).find((r) => r.Type === "AWS::Lambda::Function" && r.Properties.Role?.["Fn::GetAtt"] && pred(r.Properties.Environment?.Variables ?? {}))?.Properties.Role["Fn::GetAtt"][0];
  const workId = idOf((r) => r.Type === "AWS::SQS::Queue" && r.Properties.RedrivePolicy);
  const dlqId = res[workId]?.Properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0];
  const workerId = idOf((r) => r.Type === "AWS::Lambda::Function" && r.Properties.Environment?.Variables?.HANDLER_MODE === "worker");
  check(JSON.stringify(out.WorkQueueUrl?.Value) === JSON.stringify({ Ref: workId }) && JSON.stringify(out.WorkDLQUrl?.Value) === JSON.stringify({ Ref: dlqId }) &&
    JSON.stringify(out.WorkerFunctionArn?.Value) === JSON.stringify({ "Fn::GetAtt": [workerId, "Arn"] }) &&
    JSON.stringify(out.HubRoleArn?.Value) === JSON.stringify({ "Fn::GetAtt": [roleOf(res, (v) => v.WORK_QUEUE_URL !== undefined), "Arn"] }) &&
    JSON.stringify(out.WorkerRoleArn?.Value) === JSON.stringify({ "Fn::GetAtt": [res[workerId]?.Properties.Role["Fn::GetAtt"][0], "Arn"] }),
  `the app in hub mode: outputs ${JSON.stringify(out)}`);
  const m = Object.values(res).find((r) => r.Type === "AWS::Lambda::EventSourceMapping")?.Properties;
  check(res[workerId]?.Properties.Timeout === 300 && res[workId]?.Properties.VisibilityTimeout === 1800 && m?.ScalingConfig?.MaximumConcurrency === 20 &&
    res[workerId]?.Properties.ReservedConcurrentExecutions === 30, "the app in hub mode: the worker context keys do not reach the construct");
}
const appRefused = synthApp({ ...hubContext, workerReservedConcurrency: "" });
check(appRefused.error?.includes("ConfigurationRefused") && appRefused.error.includes("WorkerReservedConcurrency"),
  `the app with workerMaxConcurrency 20 and the default reserved concurrency (10) must be refused, ${appRefused.error ? `but says: ${appRefused.error}` : "but synthesised"}`);
summary.push("app in hub mode: worker context keys, outputs WorkQueueUrl, WorkDLQUrl and WorkerFunctionArn (none in a single account); reserved below maximum refused");

// The member stack.
const member = (extra = {}) => ({
  hubAccountId: "123456789012",
  hubEventBusArn: "arn:aws:events:us-east-1:123456789012:event-bus/Hub-hub",
  organizationId: ORG,
  roleRegion: "eu-west-1",
  ...extra,
});
const memberRefused = [
  { name: "member without roleRegion", props: member({ roleRegion: undefined }), parameters: ["RoleRegion"] },
  { name: "member with a kmsKeyAlias that is not alias/NAME", props: member({ kmsKeyAlias: "db-secrets" }), parameters: ["KmsKeyAlias"] },
  { name: "member with a bad organization id", props: member({ organizationId: "o-x" }), parameters: ["OrganizationId"] },
  { name: "member with a hub role name without room for -worker", props: member({ hubRoleName: "r".repeat(58) }), parameters: ["HubRoleName"] },
];
for (const c of memberRefused) {
  const { refused: e } = synthMember(c.props);
  check(e && c.parameters.every((p) => e.refusals.some((r) => r.parameters.includes(p))), `${c.name}: not refused naming ${c.parameters}`);
}
const memberAccepted = [
  { name: "member with keys by alias and user-event senders",
    props: member({ kmsKeyAlias: "alias/db-secrets", replicaKmsKeyAliases: ["alias/db-secrets-eu", "alias/db-secrets"], userEventSenders: ["arn:aws:iam::*:role/pipeline"] }) },
  { name: "member with the AWS managed key", props: member() },
  { name: "member of a hub with its own role name", props: member({ hubRoleName: "r".repeat(57) }) },
];
/** A partition-joined ARN of the template as text (aws partition). */
const joined = (v) => (typeof v === "string" ? v
  : v?.["Fn::Join"] ? v["Fn::Join"][1].map((x) => (typeof x === "string" ? x : x.Ref === "AWS::Partition" ? "aws" : JSON.stringify(x))).join(v["Fn::Join"][0])
    : JSON.stringify(v));
for (const c of memberAccepted) {
  const out = synthMember(c.props);
  if (out.refused) {
    check(false, `${c.name}: refused: ${out.refused.message}`);
    continue;
  }
  check(out.nag.length === 0, `${c.name}: cdk-nag: ${out.nag.join("; ")}`);
  const res = out.template.Resources;
  const roles = Object.values(res).filter((r) => r.Type === "AWS::IAM::Role");
  const hubRoles = roles.filter((r) => !JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes("Service"));
  check(hubRoles.length === 1, `${c.name}: ${hubRoles.length} roles for the hub`);
  const role = hubRoles[0];
  check(JSON.stringify(out.template.Conditions?.[role?.Condition]) === JSON.stringify({ "Fn::Equals": [{ Ref: "AWS::Region" }, c.props.roleRegion] }),
    `${c.name}: the member role is not created in roleRegion only`);
  // The hub's role, by name, in the organization: AssumeRole, and SetSourceIdentity
  // db-secret-provisioner only.
  const trust = role?.Properties.AssumeRolePolicyDocument.Statement ?? [];
  check(trust.length === 2 && sameSet(trust.flatMap(actionsOf), ["sts:AssumeRole", "sts:SetSourceIdentity"]), `${c.name}: the trust policy ${JSON.stringify(trust)}`);
  // The hub's two roles: the function's (events) and the worker's (the organization sweep).
  const hubRoleArn = `arn:aws:iam::123456789012:role/${c.props.hubRoleName ?? "db-secret-provisioner-hub"}`;
  for (const t of trust) {
    check(t.Effect === "Allow" && actionsOf(t).length === 1 && JSON.stringify(t.Principal) === JSON.stringify({ AWS: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::123456789012:root"]] } }) &&
      JSON.stringify(list(t.Condition?.ArnEquals?.["aws:PrincipalArn"]).map(joined)) === JSON.stringify([hubRoleArn, `${hubRoleArn}-worker`]) &&
      t.Condition?.StringEquals?.["aws:PrincipalOrgID"] === ORG &&
      sameSet(Object.keys(t.Condition), ["ArnEquals", "StringEquals"]) &&
      // Every session carries the source identity, AssumeRole included.
      sameSet(Object.keys(t.Condition.StringEquals), ["aws:PrincipalOrgID", "sts:SourceIdentity"]) &&
      t.Condition.StringEquals["sts:SourceIdentity"] === "db-secret-provisioner",
    `${c.name}: the trust statement ${JSON.stringify(t)}`);
  }
  const statements = (role?.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement);
  check(statements.some((st) => actionsOf(st).join() === "organizations:DescribeOrganization" && st.Resource === "*" && !st.Condition),
    `${c.name}: no organizations:DescribeOrganization on *`);
  checkAliasKeys(c.name, statements, c.props.kmsKeyAlias, c.props.replicaKmsKeyAliases ?? []);
  const forward = roles.find((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes("events.amazonaws.com"))?.Properties ?? {};
  check(forward.Path === "/db-secret-provisioner/" &&
    JSON.stringify(forward.RoleName) === JSON.stringify({ "Fn::Join": ["", ["db-secret-provisioner-forward-", { Ref: "AWS::Region" }]] }),
    `${c.name}: the forwarding role is ${JSON.stringify([forward.Path, forward.RoleName])}`);
  const userBus = Object.entries(res).find(([, r]) => r.Type === "AWS::Events::EventBus")?.[0];
  const busPolicies = Object.values(res).filter((r) => r.Type === "AWS::Events::EventBusPolicy");
  if (c.props.userEventSenders) {
    const st = busPolicies[0]?.Properties.Statement ?? {};
    check(busPolicies.length === 1 && JSON.stringify(busPolicies[0].Properties.EventBusName) === JSON.stringify({ Ref: userBus }) &&
      st.Effect === "Deny" && st.Action === "events:PutEvents" && sameSet(list(st.Condition?.ArnNotLike?.["aws:PrincipalArn"]), c.props.userEventSenders),
      `${c.name}: the user bus policy ${JSON.stringify(busPolicies)}`);
  } else {
    check(busPolicies.length === 0, `${c.name}: a user bus policy without userEventSenders`);
  }
}
summary.push(`member: ${memberRefused.length} refusals, ${memberAccepted.length} configurations (trust by the hub's role and its worker's, SourceIdentity db-secret-provisioner only, keys by alias, ` +
  "DescribeOrganization, forwarding role under /db-secret-provisioner/, user-bus Deny, cdk-nag clean)");

if (failures.length) {
  failures.forEach((f) => console.log(`FAIL ${f}`));
  process.exit(1);
}
summary.forEach((s) => console.log(s));

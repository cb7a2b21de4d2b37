// Checks the synthesised template: the provisioner function (arm64, provided.al2023), its five
// rules each with a retry policy and a DLQ, an on-failure destination, no wildcard action,
// Secrets Manager writes conditioned on the managed-by tag, no permission of an option that is
// off, and the user events on their own bus. (tests/deploy/triggers.py ties the rules to the
// code's trigger table.)
//
// Then, in process, the hub and member constructs: each configuration the constructs refuse,
// compared with the function's init on the same environment (examples/check_config.rs; built
// with `cargo build --example check_config` unless CHECK_CONFIG names the binary), and the hub's
// and the member's IAM, bus policies and cdk-nag findings in several configurations.
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
const { DbSecretProvisioner, functionEnvironment } = require("../dist/lib/provisioner.js");
const { DbSecretProvisionerMember } = require("../dist/lib/member.js");
const { ConfigurationRefused } = require("../dist/lib/refusal.js");

const ORG = "o-exampleorgid";
const [A, B, C] = ["111111111111", "222222222222", "333333333333"];
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const REPLICA_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/5e6f7a8b-0000-4000-8000-00000000e001";
const ROTATE = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql";
const SEAL_KEY = "arn:aws:kms:us-east-1:123456789012:key/5ea15ea1-0000-4000-8000-00000000beef";
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

/** init's answer for each props' environment (examples/check_config.rs). */
function initAnswers(propsList) {
  let bin = process.env.CHECK_CONFIG;
  if (!bin) {
    execFileSync("cargo", ["build", "--quiet", "--example", "check_config"], { cwd: "..", stdio: "inherit" });
    bin = "../target/debug/examples/check_config";
  }
  const envs = propsList.map((p) => ({ ...functionEnvironment(p), SEAL_KEY_ID: SEAL_KEY, AWS_REGION: "us-east-1" }));
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
];
const answers = initAnswers([...refused, ...accepted].map((c) => c.props));
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
  const fn = Object.values(res).find((r) => r.Type === "AWS::Lambda::Function" && r.Properties.Handler === "bootstrap").Properties;
  const env = fn.Environment.Variables;
  check(env.ORGANIZATION_ID === ORG && env.MEMBER_ACCOUNTS === (h.memberAccounts === "organization" ? "organization" : h.memberAccounts.join(",")),
    `${c.name}: ORGANIZATION_ID / MEMBER_ACCOUNTS`);
  check(env.KMS_KEY_ID === c.props.kmsKeyAlias, `${c.name}: KMS_KEY_ID is ${env.KMS_KEY_ID}`);
  const replicaAliases = Object.entries(c.props.replicaKmsKeyAliases ?? {});
  check(env.REPLICA_KMS_KEY_ALIASES === (replicaAliases.length ? replicaAliases.map(([r, a]) => `${r}=${a}`).join(",") : undefined),
    `${c.name}: REPLICA_KMS_KEY_ALIASES is ${env.REPLICA_KMS_KEY_ALIASES}`);
  check(env.MAX_RETIRE_FRACTION === "0.2", `${c.name}: MAX_RETIRE_FRACTION is ${env.MAX_RETIRE_FRACTION}`);
  check(fn.ReservedConcurrentExecutions === (c.props.reservedConcurrency ?? 20), `${c.name}: reserved concurrency ${fn.ReservedConcurrentExecutions}`);

  const sts = policyStatements(res).filter((st) => actionsOf(st).some((a) => a.startsWith("sts:")));
  check(sts.length === 1 && sameSet(actionsOf(sts[0]), ["sts:AssumeRole", "sts:SetSourceIdentity"]), `${c.name}: AssumeRole and SetSourceIdentity, one statement`);
  const cond = sts[0]?.Condition ?? {};
  check(Object.keys(cond).join() === "StringEquals" && cond.StringEquals["aws:ResourceOrgID"] === ORG, `${c.name}: AssumeRole without aws:ResourceOrgID`);
  check(Array.isArray(h.memberAccounts) ? sameSet(list(cond.StringEquals?.["aws:ResourceAccount"]), h.memberAccounts) : !("aws:ResourceAccount" in (cond.StringEquals ?? {})),
    `${c.name}: aws:ResourceAccount ${JSON.stringify(cond.StringEquals?.["aws:ResourceAccount"])}`);
  const org = policyStatements(res).filter((st) => actionsOf(st).some((a) => a.startsWith("organizations:")));
  const listsOrganization = h.memberAccounts === "organization" || h.sweepAccounts === "organization";
  const lists = org.filter((st) => st.Resource === "*");
  const proves = org.filter((st) => st.Resource !== "*");
  check((listsOrganization
    ? lists.length === 1 && sameSet(actionsOf(lists[0]), ["organizations:ListAccounts", "organizations:DescribeOrganization"])
    : lists.length === 0) &&
    (h.memberAccounts === "organization"
      ? proves.length === 1 && sameSet(actionsOf(proves[0]), ["organizations:DescribeAccount"]) &&
        JSON.stringify(proves[0].Resource).includes(`:organizations::*:account/${ORG}/*`)
      : proves.length === 0), `${c.name}: organizations statements ${JSON.stringify(org)}`);
  checkAliasKeys(c.name, policyStatements(res), c.props.kmsKeyAlias, replicaAliases.map(([, a]) => a));

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
summary.push(`${refused.length} refusals (each named as template.yaml's Rules and init name it), ${accepted.length} accepted configurations (init agrees, cdk-nag clean), ` +
  `${hubTemplates.length} hub templates (AssumeRole within the organization, keys by alias, bus open to forwarding roles only)`);

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
];
for (const c of memberRefused) {
  const { refused: e } = synthMember(c.props);
  check(e && c.parameters.every((p) => e.refusals.some((r) => r.parameters.includes(p))), `${c.name}: not refused naming ${c.parameters}`);
}
const memberAccepted = [
  { name: "member with keys by alias and user-event senders",
    props: member({ kmsKeyAlias: "alias/db-secrets", replicaKmsKeyAliases: ["alias/db-secrets-eu", "alias/db-secrets"], userEventSenders: ["arn:aws:iam::*:role/pipeline"] }) },
  { name: "member with the AWS managed key", props: member() },
];
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
  for (const t of trust) {
    check(t.Effect === "Allow" && actionsOf(t).length === 1 && JSON.stringify(t.Principal) === JSON.stringify({ AWS: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::123456789012:root"]] } }) &&
      JSON.stringify(t.Condition?.ArnEquals?.["aws:PrincipalArn"] ?? "").includes(":iam::123456789012:role/db-secret-provisioner-hub") &&
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
summary.push(`member: ${memberRefused.length} refusals, ${memberAccepted.length} configurations (trust by the hub role, SourceIdentity db-secret-provisioner only, keys by alias, ` +
  "DescribeOrganization, forwarding role under /db-secret-provisioner/, user-bus Deny, cdk-nag clean)");

if (failures.length) {
  failures.forEach((f) => console.log(`FAIL ${f}`));
  process.exit(1);
}
summary.forEach((s) => console.log(s));

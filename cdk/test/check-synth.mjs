// Checks the synthesised template: the provisioner function (arm64, provided.al2023), its five
// rules each with a retry policy and a DLQ, an on-failure destination, no wildcard action,
// Secrets Manager writes conditioned on the managed-by tag, no permission of an option that is
// off, and the user events on their own bus. (tests/deploy/triggers.py ties the rules to the
// code's trigger table.)
import { readFileSync, readdirSync } from "node:fs";

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

if (failures.length) {
  failures.forEach((f) => console.log(`FAIL ${f}`));
  process.exit(1);
}
console.log(`cdk synth ok: 1 function, ${rules.length} rules with retry policy and DLQ, ${statements} IAM statements, no wildcard action, writes conditioned on managed-by, user events on their own bus, ${queues.length} encrypted TLS-only queues, ${alarms.length} alarms`);

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
    if (sm.length && !(sm.length === 1 && sm[0] === "secretsmanager:DescribeSecret")) {
      const key = sm.includes("secretsmanager:CreateSecret") ? "aws:RequestTag/managed-by" : "secretsmanager:ResourceTag/managed-by";
      check(conditions.includes(key), `${id}: ${sm} not conditioned on ${key}`);
    }
    for (const optional of ["ssm:DeleteParameter", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "lambda:InvokeFunction"]) {
      check(!actions.includes(optional), `${id}: ${optional} granted although its option is off`);
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

if (failures.length) {
  failures.forEach((f) => console.log(`FAIL ${f}`));
  process.exit(1);
}
console.log(`cdk synth ok: 1 function, ${rules.length} rules with retry policy and DLQ, ${statements} IAM statements, no wildcard action, writes conditioned on managed-by, user events on their own bus`);

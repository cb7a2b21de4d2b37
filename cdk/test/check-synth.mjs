// Checks the synthesised template: the provisioner function (arm64, provided.al2023), its five
// rules each with a retry policy and a DLQ, an on-failure destination, and no wildcard action.
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
    for (const a of [st.Action].flat()) {
      check(a !== "*" && !String(a).endsWith(":*"), `${id}: wildcard action ${a}`);
    }
  }
}
check(statements > 0, "no IAM statements");

if (failures.length) {
  failures.forEach((f) => console.log(`FAIL ${f}`));
  process.exit(1);
}
console.log(`cdk synth ok: 1 function, ${rules.length} rules with retry policy and DLQ, ${statements} IAM statements, no wildcard action`);

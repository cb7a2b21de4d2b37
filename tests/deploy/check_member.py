"""Checks deploy/member.yaml (plain CloudFormation, for StackSets): no transform and no YAML
anchors; the member role only in RoleRegion, trusted by the hub's role by name and by the
organization; every rule forwards to the hub bus with the forwarding role, a retry policy and a
dead-letter queue; the rules forward every trigger of the code's table (tests/deploy/triggers.py;
the sweep is the hub's own); the queue is encrypted and TLS-only, and alarmed.

Usage: python tests/deploy/check_member.py [deploy/member.yaml] [target/trigger-table.json]
"""

import json
import sys

import triggers
from check_template import yaml_anchors
from samtranslator.yaml_helper import yaml_parse


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "deploy/member.yaml"
    table_path = sys.argv[2] if len(sys.argv) > 2 else "target/trigger-table.json"
    with open(path) as f:
        text = f.read()
    failures = [f"YAML anchor or alias: {a}" for a in yaml_anchors(text)]
    template = yaml_parse(text)
    resources = template["Resources"]

    def check(ok, message):
        if not ok:
            failures.append(message)

    check("Transform" not in template, "a member stack for StackSets takes no transform")
    role = resources.get("MemberRole", {})
    check(role.get("Condition") == "IsRoleRegion", "the member role must be created in RoleRegion only")
    trust = json.dumps(role.get("Properties", {}).get("AssumeRolePolicyDocument"))
    check("aws:PrincipalArn" in trust and "${HubRoleName}" in trust and "aws:PrincipalOrgID" in trust,
          "the member role must trust the hub's role by name and the organization")
    check(not role.get("Properties", {}).get("ManagedPolicyArns"), "the member role has no managed policy")
    rules = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Events::Rule"}
    check(len(rules) == 4, f"expected 4 forwarding rules, found {sorted(rules)}")
    for name, rule in rules.items():
        for target in rule.get("Targets", []):
            check(target.get("Arn") == {"Ref": "HubEventBusArn"}, f"{name}: not forwarded to the hub bus")
            check("RoleArn" in target, f"{name}: no forwarding role")
            check("RetryPolicy" in target and "Arn" in target.get("DeadLetterConfig", {}), f"{name}: no retry policy or DLQ")
    with open(table_path) as f:
        table = [row for row in json.load(f) if row["name"] != "reconcile-sweep"]
    parameters = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    patterns = {"Resources": {k: v for k, v in resources.items() if v["Type"] == "AWS::Events::Rule"}}
    for failure in triggers.check(triggers.rules_of(patterns, parameters), table, parameters.get("UserEventSource")):
        if "scheduled-reconcile.json" not in failure:
            check(False, failure)
    queue = resources.get("ForwardDLQ", {}).get("Properties", {})
    check(queue.get("SqsManagedSseEnabled") is True, "the forwarding DLQ is not encrypted")
    check("aws:SecureTransport" in json.dumps(resources.get("ForwardDLQPolicy")), "the forwarding DLQ accepts non-TLS requests")
    check(any(v["Type"] == "AWS::CloudWatch::Alarm" for v in resources.values()), "no alarm on the forwarding DLQ")
    if failures:
        for f in failures:
            print(f"FAIL {f}")
        return 1
    print(f"member stack ok: role in RoleRegion trusted by the hub role and the organization, {len(rules)} forwarding rules "
          f"with role, retry policy and DLQ, every trigger forwarded")
    return 0


if __name__ == "__main__":
    sys.exit(main())

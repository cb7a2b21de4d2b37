"""Checks template.yaml after the SAM transform (offline, with samtranslator): one arm64
provided.al2023 function with JSON logs, rules that deliver exactly the code's triggers (the
trigger table from examples/trigger_table.rs, see triggers.py) each with a retry policy and a
dead-letter queue, an on-failure destination, every configuration variable wired, and IAM that
grants no wildcard action and scopes parameters and secrets to their prefixes.

Usage: python tests/deploy/check_template.py [template.yaml] [trigger-table.json]
"""

import json
import os
import sys

import triggers

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

CONFIG_VARIABLES = {
    "SECRET_NAME_TEMPLATE", "SECRET_NAME_PREFIX", "PASSWORD_PARAMETER_TEMPLATE", "PASSWORD_PARAMETER_PREFIX",
    "USER_EVENT_SOURCE", "SECRET_DESCRIPTION_TEMPLATE", "KMS_KEY_ID",
    "SECRET_TAGS", "REPLICA_REGIONS", "FORCE_OVERWRITE_REPLICA_SECRET", "RESOURCE_POLICY",
    "ROTATION_LAMBDA_ARN", "ROTATION_SCHEDULE", "EXISTING_SECRET", "DELETE_PASSWORD_PARAMETER",
    "WAIT_FOR_AVAILABLE_SECONDS",
}


class NoManagedPolicies:
    def load(self, *_args, **_kwargs):
        return {}

    def get(self, *_args, **_kwargs):
        return None


def statements(policy_document):
    """(condition, statement) of a policy: the CloudFormation condition an Fn::If puts the
    statement under (None when unconditional)."""
    out = []
    for st in policy_document.get("Statement", []):
        if isinstance(st, dict) and "Fn::If" in st:
            condition, *branches = st["Fn::If"]
            out.extend((condition, b) for b in branches if isinstance(b, dict) and "Effect" in b)
        else:
            out.append((None, st))
    return out


# Actions granted only when the option that needs them is on (CloudFormation condition).
OPTION_ACTIONS = {
    "ssm:DeleteParameter": "DeletesParameters",
    "secretsmanager:GetSecretValue": "UpdatesSecrets",
    "secretsmanager:PutSecretValue": "UpdatesSecrets",
    "secretsmanager:RotateSecret": "HasRotation",
    "secretsmanager:PutResourcePolicy": "HasResourcePolicy",
    "secretsmanager:ReplicateSecretToRegions": "HasReplicas",
    "lambda:InvokeFunction": "HasRotation",
}


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    table_path = sys.argv[2] if len(sys.argv) > 2 else "target/trigger-table.json"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        template = yaml_parse(f.read())
    template["Resources"]["ProvisionerFunction"]["Properties"]["CodeUri"] = "s3://bucket/code.zip"
    out = transform(template, {}, NoManagedPolicies())
    resources = out["Resources"]
    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    check(len(functions) == 1, f"expected one function, found {list(functions)}")
    fn = next(iter(functions.values()))["Properties"]
    check(fn.get("Runtime") == "provided.al2023", "Runtime must be provided.al2023")
    check(fn.get("Architectures") == ["arm64"], "Architectures must be [arm64]")
    check(fn.get("Handler") == "bootstrap", "Handler must be bootstrap")
    check(fn.get("Timeout", 0) >= 660, "Timeout must cover the availability wait")
    check(fn.get("LoggingConfig", {}).get("LogFormat") == "JSON", "logs must be JSON")
    env = set(fn.get("Environment", {}).get("Variables", {}))
    check(CONFIG_VARIABLES <= env, f"environment lacks {sorted(CONFIG_VARIABLES - env)}")

    rules = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Events::Rule"}
    check(len(rules) == 5, f"expected 5 rules (RDS, CloudTrail, Serverless, users, reconcile), found {sorted(rules)}")
    for name, rule in rules.items():
        for target in rule.get("Targets", []):
            check("RetryPolicy" in target, f"{name}: target without RetryPolicy")
            check("Arn" in target.get("DeadLetterConfig", {}), f"{name}: target without a dead-letter queue")
    with open(table_path) as f:
        table = json.load(f)
    parameters = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    for failure in triggers.check(triggers.rules_of(out, parameters), table,
                                  parameters.get("UserEventSource")):
        check(False, failure)
    check(any("ScheduleExpression" in r for r in rules.values()), "no reconcile schedule")

    invoke_configs = [v for v in resources.values() if v["Type"] == "AWS::Lambda::EventInvokeConfig"]
    check(len(invoke_configs) == 1 and "OnFailure" in invoke_configs[0]["Properties"].get("DestinationConfig", {}),
          "the async invocation config needs an on-failure destination")

    policies = []
    for v in resources.values():
        if v["Type"] == "AWS::IAM::Role":
            for p in v["Properties"].get("Policies", []):
                policies.extend(statements(p["PolicyDocument"]))
    check(policies, "no IAM statements found")
    for condition, st in policies:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        for a in actions:
            check(a != "*" and not a.endswith(":*"), f"wildcard action {a}")
            if a in OPTION_ACTIONS:
                check(condition == OPTION_ACTIONS[a],
                      f"{a} must be granted only under condition {OPTION_ACTIONS[a]}, found {condition}")
        resource = json.dumps(st.get("Resource"))
        conditions = json.dumps(st.get("Condition"))
        if any(a.startswith("ssm:") for a in actions):
            check("parameter${ParameterPrefix}*" in resource, f"SSM not scoped to the parameter prefix: {resource}")
        if any(a.startswith("secretsmanager:") for a in actions):
            check("secret:${SecretNamePrefix}*" in resource, f"Secrets Manager not scoped to the name prefix: {resource}")
            if actions != ["secretsmanager:DescribeSecret"]:
                check("managed-by" in conditions,
                      f"{actions} not conditioned on the managed-by tag: {conditions}")
            if "secretsmanager:CreateSecret" in actions:
                check("aws:RequestTag/managed-by" in conditions, "CreateSecret without aws:RequestTag/managed-by")
            elif actions != ["secretsmanager:DescribeSecret"]:
                check("secretsmanager:ResourceTag/managed-by" in conditions,
                      f"{actions} not conditioned on secretsmanager:ResourceTag/managed-by")
        if any(a.startswith("kms:") for a in actions) and "KmsKeyArn" not in resource:
            check("kms:ViaService" in conditions, "KMS use without kms:ViaService")

    # "Database User Created" only on its own bus, from this account, with an optional Deny.
    buses = [k for k, v in resources.items() if v["Type"] == "AWS::Events::EventBus"]
    check(len(buses) == 1, f"expected the user-event bus, found {buses}")
    user_rules = [r for r in rules.values() if "Database User Created" in json.dumps(r.get("EventPattern"))]
    check(len(user_rules) == 1 and user_rules[0].get("EventBusName") == {"Ref": buses[0]} and
          "account" in user_rules[0]["EventPattern"],
          "the user rule must be on the user-event bus and match the stack's account")
    policies_on_bus = [v for v in resources.values() if v["Type"] == "AWS::Events::EventBusPolicy"]
    check(len(policies_on_bus) == 1 and policies_on_bus[0].get("Condition") == "HasUserEventSenders" and
          policies_on_bus[0]["Properties"]["Statement"]["Effect"] == "Deny" and
          "ArnNotLike" in policies_on_bus[0]["Properties"]["Statement"]["Condition"],
          "the user-event bus needs a Deny for principals outside UserEventSenders")
    fn_props = next(iter(functions.values()))["Properties"]
    check("Fn::If" in json.dumps(fn_props.get("ReservedConcurrentExecutions")),
          "reserved concurrency must come from the optional ReservedConcurrency parameter")

    if failures:
        for f in failures:
            print(f"FAIL {f}")
        return 1
    print(f"template ok: 1 function, {len(rules)} rules with retry policy and DLQ, {len(policies)} IAM statements "
          f"(each option's actions under its condition, Secrets Manager writes conditioned on managed-by), "
          f"user events on their own bus")
    return 0


if __name__ == "__main__":
    sys.exit(main())

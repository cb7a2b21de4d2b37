"""Checks template.yaml after the SAM transform (offline, with samtranslator): one arm64
provided.al2023 function with JSON logs, rules that deliver exactly the code's triggers (the
trigger table from examples/trigger_table.rs, see triggers.py) each with a retry policy and a
dead-letter queue, an on-failure destination, every configuration variable wired, and IAM that
grants no wildcard action and scopes parameters and secrets to their prefixes.

Usage: python tests/deploy/check_template.py [template.yaml] [trigger-table.json]
"""

import json
import os
import re
import sys

import triggers

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

CONFIG_VARIABLES = {
    "SECRET_NAME_TEMPLATE", "SECRET_NAME_PREFIX", "PASSWORD_PARAMETER_TEMPLATE", "PASSWORD_PARAMETER_PREFIX",
    "USER_EVENT_SOURCE", "SECRET_DESCRIPTION_TEMPLATE", "KMS_KEY_ID",
    "SECRET_TAGS", "REPLICA_REGIONS", "REPLICA_KMS_KEY_ARNS", "FORCE_OVERWRITE_REPLICA_SECRET",
    "RESOURCE_POLICY", "ROTATION_LAMBDA_ARNS", "ROTATION_SCHEDULE", "EXISTING_SECRET",
    "DELETE_PASSWORD_PARAMETER", "MISSING_PASSWORD_PARAMETER", "WAIT_FOR_AVAILABLE_SECONDS",
    "FOLLOW_CONNECTION_CHANGES", "ON_DATABASE_DELETED", "RECOVERY_WINDOW_DAYS", "MAX_RETIRE_PER_RUN",
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
    # GetSecretValue / PutSecretValue: any database created again under an existing secret's
    # name needs them (docs/triggers.md, "Recreations and restores"), whatever the options.
    "secretsmanager:RemoveRegionsFromReplication": "RemovesReplicas",
    "secretsmanager:RestoreSecret": "RetiresSecrets",
    "sts:AssumeRole": "IsHub",
    "organizations:ListAccounts": "SweepsOrganizationAccounts",
    "secretsmanager:RotateSecret": "HasRotation",
    "secretsmanager:PutResourcePolicy": "HasResourcePolicy",
    "secretsmanager:ReplicateSecretToRegions": "HasReplicas",
    "lambda:InvokeFunction": "HasRotation",
    "kms:Encrypt": "HasReplicaKmsKeys",
}


def yaml_anchors(text):
    """Lines with a YAML anchor (&name) or alias (*name): the CloudFormation service rejects them
    (only the SAM CLI expands them)."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split(" #", 1)[0]
        if code.lstrip().startswith("#"):
            continue
        code = re.sub(r'"[^"]*"|\'[^\']*\'', "", code)
        if re.search(r"(^|[\s\[,:-])[&*][A-Za-z_]", code):
            found.append(f"{n}: {line.strip()}")
    return found


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    table_path = sys.argv[2] if len(sys.argv) > 2 else "target/trigger-table.json"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        text = f.read()
    anchors = yaml_anchors(text)
    if anchors:
        for line in anchors:
            print(f"FAIL YAML anchor or alias (CloudFormation rejects them): {line}")
        return 1
    template = yaml_parse(text)
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

    rules = {k: v["Properties"] for k, v in resources.items()
             if v["Type"] == "AWS::Events::Rule" and "Condition" not in v}
    hub_rules = {k: v["Properties"] for k, v in resources.items()
                 if v["Type"] == "AWS::Events::Rule" and v.get("Condition") == "IsHub"}
    check(len(rules) == 5, f"expected 5 rules (RDS, CloudTrail, Serverless, users, reconcile), found {sorted(rules)}")
    for name, rule in rules.items():
        for target in rule.get("Targets", []):
            check("RetryPolicy" in target, f"{name}: target without RetryPolicy")
            check("Arn" in target.get("DeadLetterConfig", {}), f"{name}: target without a dead-letter queue")
    with open(table_path) as f:
        table = json.load(f)
    parameters = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    base = {"Resources": {k: v for k, v in resources.items() if "Condition" not in v}}
    for failure in triggers.check(triggers.rules_of(base, parameters), table,
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
            if a == "secretsmanager:DeleteSecret":
                check((st["Effect"] == "Allow" and condition == "SchedulesDeletion") or
                      (st["Effect"] == "Deny" and "ForceDeleteWithoutRecovery" in json.dumps(st.get("Condition"))),
                      "DeleteSecret only with schedule-deletion, and never ForceDeleteWithoutRecovery")
            if a in OPTION_ACTIONS:
                check(condition == OPTION_ACTIONS[a],
                      f"{a} must be granted only under condition {OPTION_ACTIONS[a]}, found {condition}")
        resource = json.dumps(st.get("Resource"))
        conditions = json.dumps(st.get("Condition"))
        if "secretsmanager:TagResource" in actions and "secretsmanager:CreateSecret" not in actions:
            check("aws:TagKeys" in conditions, f"{st.get('Sid')}: tagging not limited to the function's tag keys")
        if any(a.startswith("ssm:") for a in actions):
            check("parameter${ParameterPrefix}*" in resource, f"SSM not scoped to the parameter prefix: {resource}")
        if st.get("Sid") == "NeverRepointOwnedSecrets":
            # Ownership tags at creation only: no TagResource of them on a managed-by secret.
            check(st["Effect"] == "Deny" and actions == ["secretsmanager:TagResource"] and
                  "secretsmanager:ResourceTag/managed-by" in conditions and "db-secret-provisioner:database" in conditions,
                  "NeverRepointOwnedSecrets must deny TagResource of the ownership keys on managed-by secrets")
        elif st["Effect"] == "Deny" or actions == ["secretsmanager:ListSecrets"]:
            # The Deny of ForceDeleteWithoutRecovery; ListSecrets, which AWS allows only on "*".
            check(st.get("Resource") == "*", f"{st.get('Sid')}: expected Resource '*'")
        elif any(a.startswith("secretsmanager:") for a in actions):
            check("secret:${SecretNamePrefix}*" in resource, f"Secrets Manager not scoped to the name prefix: {resource}")
            if actions != ["secretsmanager:DescribeSecret"]:
                check("managed-by" in conditions,
                      f"{actions} not conditioned on the managed-by tag: {conditions}")
            if "secretsmanager:CreateSecret" in actions:
                check("aws:RequestTag/managed-by" in conditions, "CreateSecret without aws:RequestTag/managed-by")
            elif st.get("Sid") == "ReplicateNewSecrets":
                # Part of CreateSecret with AddReplicaRegions: the request's tags.
                check(actions == ["secretsmanager:ReplicateSecretToRegions"] and
                      "aws:RequestTag/managed-by" in conditions, "ReplicateNewSecrets: only replication, on the request's tag")
            elif actions != ["secretsmanager:DescribeSecret"]:
                check("secretsmanager:ResourceTag/managed-by" in conditions,
                      f"{actions} not conditioned on secretsmanager:ResourceTag/managed-by")
        if st.get("Sid") == "DescribeSecretsKey":
            # The key check calls DescribeKey itself (no service in between): no ViaService.
            check(actions == ["kms:DescribeKey"] and condition == "HasKmsKeyArn",
                  f"DescribeSecretsKey: only kms:DescribeKey, under HasKmsKeyArn: {actions} {condition}")
        elif any(a.startswith("kms:") for a in actions) and st.get("Sid") != "SealOwnSecrets":
            check("kms:ViaService" in conditions, f"KMS use without kms:ViaService: {actions}")
            check(condition in ("HasKmsKeyArn", "HasReplicaKmsKeys", "HasParameterKmsKeyArn"),
                  f"KMS granted without a key parameter: {actions} under {condition}")
        if actions in (["redshift:DescribeClusters"],) or "redshift-serverless:ListWorkgroups" in actions:
            check(st.get("Resource") == "*", f"listing calls need Resource '*': {actions}")

    # The seal key: HMAC, used by the function's role only (its key policy, and the policy
    # SealKeyUse of the role: GenerateMac and VerifyMac on that key, nothing else).
    key = resources.get("SealKey", {})
    kp = key.get("Properties", {})
    check(kp.get("KeySpec") == "HMAC_256" and kp.get("KeyUsage") == "GENERATE_VERIFY_MAC",
          "SealKey must be HMAC_256 with GENERATE_VERIFY_MAC")
    for st in kp.get("KeyPolicy", {}).get("Statement", []):
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        uses = any(a in ("kms:*", "kms:GenerateMac", "kms:VerifyMac", "kms:Generate*", "kms:Verify*") for a in acts)
        if uses:
            check(st["Principal"] == {"AWS": {"Fn::GetAtt": ["ProvisionerRole", "Arn"]}},
                  f"SealKey policy {st.get('Sid')}: only the function's role may use the key")
    use = resources.get("SealKeyUse", {}).get("Properties", {})
    check(use.get("Roles") == [{"Ref": "ProvisionerRole"}], "SealKeyUse must be the function role's")
    for st in use.get("PolicyDocument", {}).get("Statement", []):
        check(sorted(st["Action"]) == ["kms:GenerateMac", "kms:VerifyMac"] and
              st["Resource"] == {"Fn::GetAtt": ["SealKey", "Arn"]},
              f"SealKeyUse: only GenerateMac and VerifyMac on SealKey: {st}")

    # "Database User Created" only on its own bus, from this account, with an optional Deny.
    buses = [k for k, v in resources.items() if v["Type"] == "AWS::Events::EventBus" and "Condition" not in v]
    check(len(buses) == 1, f"expected the user-event bus, found {buses}")
    user_rules = [r for r in rules.values() if "Database User Created" in json.dumps(r.get("EventPattern"))]
    check(len(user_rules) == 1 and user_rules[0].get("EventBusName") == {"Ref": buses[0]} and
          "account" in user_rules[0]["EventPattern"],
          "the user rule must be on the user-event bus and match the stack's account")
    policies_on_bus = [v for v in resources.values() if v["Type"] == "AWS::Events::EventBusPolicy"
                       and v.get("Condition") != "IsHub"]
    check(len(policies_on_bus) == 1 and policies_on_bus[0].get("Condition") == "HasUserEventSenders" and
          policies_on_bus[0]["Properties"]["Statement"]["Effect"] == "Deny" and
          "ArnNotLike" in policies_on_bus[0]["Properties"]["Statement"]["Condition"],
          "the user-event bus needs a Deny for principals outside UserEventSenders")
    fn_props = next(iter(functions.values()))["Properties"]
    check("Fn::If" in json.dumps(fn_props.get("ReservedConcurrentExecutions")),
          "reserved concurrency must come from the optional ReservedConcurrency parameter")

    # CloudTrail rules are switchable (they need a trail); the Serverless rule matches only the
    # documented detail-type of its creation event.
    cloudtrail_rules = [r for r in rules.values() if "AWS API Call via CloudTrail" in json.dumps(r.get("EventPattern"))]
    check(cloudtrail_rules and all("Fn::If" in json.dumps(r.get("State")) for r in cloudtrail_rules),
          "the CloudTrail rule must follow the CloudTrailTriggers parameter")
    serverless_rules = [r for r in rules.values()
                        if r.get("EventPattern", {}).get("source") == ["aws.redshift-serverless"]]
    check(len(serverless_rules) == 1 and
          serverless_rules[0]["EventPattern"].get("detail-type") == ["Redshift Serverless Management"],
          "the Serverless rule must match detail-type Redshift Serverless Management only")

    # Queues encrypted and TLS-only; alarms on each queue and on the alarming error types.
    queues = [k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"]
    for q in queues:
        props = resources[q]["Properties"]
        check(props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, f"{q} is not encrypted")
        policies_of_q = [v for v in resources.values() if v["Type"] == "AWS::SQS::QueuePolicy"
                         and {"Ref": q} in v["Properties"]["Queues"]]
        check(any("aws:SecureTransport" in json.dumps(p) for p in policies_of_q), f"{q} accepts non-TLS requests")
    alarms = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::CloudWatch::Alarm"]
    for q in queues:
        check(any(a.get("MetricName") == "ApproximateNumberOfMessagesVisible" and
                  json.dumps(a.get("Dimensions")).find(q) >= 0 for a in alarms), f"no depth alarm on {q}")
    filters = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::Logs::MetricFilter"]
    for error_type in ["UntrustedEvent", "SecretConflict", "ConfigurationError"]:
        check(any(error_type in f["FilterPattern"] and "$.fields.error_type" in f["FilterPattern"] for f in filters),
              f"no metric filter on error_type {error_type}")
        check(any(a.get("MetricName") == error_type for a in alarms), f"no alarm on {error_type}")
    check(any('"rotation stuck"' in f["FilterPattern"] for f in filters) and
          any(a.get("MetricName") == "RotationStuck" for a in alarms), "no alarm on stuck rotations")
    check(all("AlarmTopicArn" in json.dumps(a.get("AlarmActions")) for a in alarms),
          "every alarm must notify the optional AlarmTopicArn")

    # Hub mode: a bus the organization may put events on, the same rules on it (without the
    # account match: members' events), each with its retry policy, DLQ and invoke permission.
    hub_buses = [k for k, v in resources.items() if v["Type"] == "AWS::Events::EventBus" and v.get("Condition") == "IsHub"]
    check(len(hub_buses) == 1, f"expected one hub bus under IsHub, found {hub_buses}")
    hub_policies = [v for v in resources.values() if v["Type"] == "AWS::Events::EventBusPolicy" and v.get("Condition") == "IsHub"]
    check(len(hub_policies) == 1 and "aws:PrincipalOrgID" in json.dumps(hub_policies[0]["Properties"]),
          "the hub bus must let in the organization only (aws:PrincipalOrgID)")
    check(len(hub_rules) == 4, f"expected 4 hub rules, found {sorted(hub_rules)}")
    base_patterns = [json.dumps({k: v for k, v in r.get("EventPattern", {}).items() if k != "account"}, sort_keys=True)
                     for r in rules.values()]
    for name, rule in hub_rules.items():
        check(rule.get("EventBusName") == {"Ref": hub_buses[0] if hub_buses else ""}, f"{name} is not on the hub bus")
        check(json.dumps(rule.get("EventPattern"), sort_keys=True) in base_patterns, f"{name} differs from its rule in the account")
        for target in rule.get("Targets", []):
            check("RetryPolicy" in target and "Arn" in target.get("DeadLetterConfig", {}), f"{name}: no retry policy or DLQ")
        check(any(v["Type"] == "AWS::Lambda::Permission" and v["Properties"].get("SourceArn") == {"Fn::GetAtt": [name, "Arn"]}
                  for v in resources.values()), f"{name}: no permission to invoke the function")

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

"""Checks deploy/member.yaml (plain CloudFormation, for StackSets): no transform and no YAML
anchors; the member role only in RoleRegion (which has no default), trusted by the hub's two roles
by name (the events function's HubRoleName and the worker's HubRoleName-worker, the name short
enough for the suffix) and by the organization, for sts:AssumeRole and for sts:SetSourceIdentity
with the hub's source identity only; its keys by alias (kms:ResourceAliases, through Secrets Manager) and
organizations:DescribeOrganization; every rule forwards to the hub bus with the forwarding role
(at the path the hub bus lets in), a retry policy and a dead-letter queue; the rules forward every
trigger of the code's table (tests/deploy/triggers.py; the sweep is the hub's own); the user-event
bus has template.yaml's UserEventSenders Deny; the queue is encrypted and TLS-only, and alarmed.

Usage: python tests/deploy/check_member.py [deploy/member.yaml] [target/trigger-table.json]
"""

import fnmatch
import json
import os
import sys

import triggers
from check_template import Request, yaml_anchors
from iam_contract import Resolver, allowed, condition_holds
from samtranslator.yaml_helper import yaml_parse

HUB_ACCOUNT = "111122223333"
MEMBER_ACCOUNT = "444455556666"
ORG = "o-exampleorgid"
VALUES = {"HubAccountId": HUB_ACCOUNT, "OrganizationId": ORG, "RoleRegion": "us-east-1",
          "HubEventBusArn": f"arn:aws:events:us-east-1:{HUB_ACCOUNT}:event-bus/db-secret-provisioner-hub",
          "KmsKeyAlias": "alias/db-secrets", "ReplicaKmsKeyAliases": "alias/db-secrets-replica"}
SOURCE_IDENTITY = "db-secret-provisioner"


def trust_allows(statements, action, context):
    """Whether a role trust policy lets a principal of the hub account (`context`) do `action`."""
    for st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        principals = st.get("Principal", {}).get("AWS", [])
        principals = principals if isinstance(principals, list) else [principals]
        if (st["Effect"] == "Allow" and action in actions
                and any(p in (f"arn:aws:iam::{HUB_ACCOUNT}:root", context["aws:PrincipalArn"]) for p in principals)
                and condition_holds(st.get("Condition", {}), context)):
            return True
    return False


def role_failures(template):
    """The member role, resolved: trust, keys by alias, DescribeOrganization."""
    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    spec = template["Parameters"].get("RoleRegion", {})
    check("Default" not in spec, "RoleRegion must have no default: a region the StackSet skips leaves no member role")
    r = Resolver(template, VALUES, account=MEMBER_ACCOUNT)
    props = r.resolve(template["Resources"]["MemberRole"]["Properties"])
    trust = props["AssumeRolePolicyDocument"]["Statement"]
    for role in ("db-secret-provisioner-hub", "db-secret-provisioner-hub-worker"):
        hub = {"aws:PrincipalArn": f"arn:aws:iam::{HUB_ACCOUNT}:role/{role}", "aws:PrincipalOrgID": ORG}
        check(trust_allows(trust, "sts:AssumeRole", {**hub, "sts:SourceIdentity": SOURCE_IDENTITY}),
              f"the member role must trust the hub's role {role} (sts:AssumeRole)")
        check(not trust_allows(trust, "sts:AssumeRole", hub),
              f"a session of {role} without the source identity must be refused (sts:AssumeRole without SourceIdentity)")
        check(trust_allows(trust, "sts:SetSourceIdentity", {**hub, "sts:SourceIdentity": SOURCE_IDENTITY}),
              f"the hub's role {role} must be allowed sts:SetSourceIdentity {SOURCE_IDENTITY}")
        check(not trust_allows(trust, "sts:SetSourceIdentity", {**hub, "sts:SourceIdentity": "someone"}),
              f"the hub's role {role} may set no other source identity")
        others = [{**hub, "aws:PrincipalArn": f"arn:aws:iam::{HUB_ACCOUNT}:role/{name}"}
                  for name in ("someone-else", "db-secret-provisioner-hub-other", "db-secret-provisioner-hub-worker2")]
        for who in others + [{**hub, "aws:PrincipalOrgID": "o-otherorg000"}]:
            for action, extra in (("sts:AssumeRole", {"sts:SourceIdentity": SOURCE_IDENTITY}),
                                  ("sts:SetSourceIdentity", {"sts:SourceIdentity": SOURCE_IDENTITY})):
                check(not trust_allows(trust, action, {**who, **extra}), f"the member role trusts {who} for {action}")
    check(all(a in ("sts:AssumeRole", "sts:SetSourceIdentity")
              for st in trust for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])),
          "the trust policy allows only sts:AssumeRole and sts:SetSourceIdentity")

    statements = []
    for p in props["Policies"]:
        for st in p["PolicyDocument"]["Statement"]:
            st["Action"] = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            st["Resource"] = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            statements.append(st)
    check(allowed(statements, Request("organizations:DescribeOrganization", "*", {})),
          "the member role must allow organizations:DescribeOrganization (the hub checks the member's organization)")
    key = f"arn:aws:kms:eu-west-1:{MEMBER_ACCOUNT}:key/0b0b0b0b-0000-4000-8000-000000000001"
    via = {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    for action, alias in [("kms:GenerateDataKey", "alias/db-secrets"), ("kms:Decrypt", "alias/db-secrets"),
                          ("kms:GenerateDataKey", "alias/db-secrets-replica"), ("kms:Encrypt", "alias/db-secrets-replica")]:
        check(allowed(statements, Request(action, key, {**via, "kms:ResourceAliases": [alias]})),
              f"{action} refused on this account's key with {alias} through Secrets Manager (any region)")
        check(not allowed(statements, Request(action, key, {"kms:ViaService": "ssm.eu-west-1.amazonaws.com",
                                                            "kms:ResourceAliases": [alias]})),
              f"{action} allowed outside Secrets Manager")
        check(not allowed(statements, Request(action, key, {**via, "kms:ResourceAliases": ["alias/other"]})),
              f"{action} allowed on a key without the alias")
        check(not allowed(statements, Request(action, key.replace(MEMBER_ACCOUNT, HUB_ACCOUNT),
                                              {**via, "kms:ResourceAliases": [alias]})),
              f"{action} allowed on another account's key")
    check(not allowed(statements, Request("kms:Encrypt", key, {**via, "kms:ResourceAliases": ["alias/db-secrets"]})),
          "kms:Encrypt is for the replica keys only")
    check(allowed(statements, Request("kms:DescribeKey", key, {"kms:ResourceAliases": ["alias/db-secrets"]})) and
          not allowed(statements, Request("kms:DescribeKey", key, {"kms:ResourceAliases": ["alias/other"]})),
          "kms:DescribeKey must be allowed (directly, no ViaService) on the alias's key only")
    for st in statements:
        if any(a.startswith("kms:") for a in st["Action"]):
            text = json.dumps(st)
            check("kms:RequestAlias" not in text, f"{st.get('Sid')}: no kms:RequestAlias (Decrypt names no alias)")
            check(list(st.get("Condition", {}).get("ForAnyValue:StringEquals", {})) == ["kms:ResourceAliases"],
                  f"{st.get('Sid')}: kms:ResourceAliases (multi-valued) needs ForAnyValue:StringEquals")
            if st["Action"] != ["kms:DescribeKey"]:
                check(st["Condition"].get("StringLike", {}).get("kms:ViaService") == "secretsmanager.*.amazonaws.com",
                      f"{st.get('Sid')}: kms:ViaService must be Secrets Manager in any region (one role serves them all)")
    # Without aliases (the AWS managed key aws/secretsmanager): no KMS grant at all.
    bare = Resolver(template, {**VALUES, "KmsKeyAlias": "", "ReplicaKmsKeyAliases": ""}, account=MEMBER_ACCOUNT)
    kms = [st for p in bare.resolve(template["Resources"]["MemberRole"]["Properties"])["Policies"]
           for st in p["PolicyDocument"]["Statement"] if "kms:" in json.dumps(st.get("Action"))]
    check(not kms, f"without KmsKeyAlias and ReplicaKmsKeyAliases the member role needs no KMS grant: {kms}")
    return failures


def forwarding_failures(template, hub_template):
    """The forwarding role is at the path the hub bus lets in, one per region; the user-event bus
    has the hub stack's UserEventSenders Deny."""
    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    r = Resolver(template, VALUES, account=MEMBER_ACCOUNT, region="eu-west-1")
    role = r.resolve(template["Resources"]["ForwardRole"]["Properties"])
    check(role.get("Path") == "/db-secret-provisioner/", f"ForwardRole's path: {role.get('Path')}")
    check(role.get("RoleName") == "db-secret-provisioner-forward-eu-west-1", f"ForwardRole's name: {role.get('RoleName')}")
    hub = Resolver(hub_template, {"HubMode": "true", "OrganizationId": ORG, "MemberAccounts": "organization"})
    patterns = [hub.resolve(v["Properties"]["Statement"]["Condition"]).get("ArnLike", {}).get("aws:PrincipalArn")
                for v in hub_template["Resources"].values() if v["Type"] == "AWS::Events::EventBusPolicy"
                and v.get("Condition") == "IsHub" and v["Properties"]["Statement"]["Effect"] == "Allow"]
    arn = f"arn:aws:iam::{MEMBER_ACCOUNT}:role{role.get('Path', '/')}{role.get('RoleName')}"
    check(patterns and all(p and fnmatch.fnmatchcase(arn, p) for p in patterns),
          f"the hub bus policy (aws:PrincipalArn {patterns}) does not let the forwarding role {arn} in")
    mine = template["Resources"].get("UserEventBusPolicy")
    theirs = hub_template["Resources"].get("UserEventBusPolicy")
    check(mine is not None and mine == theirs,
          "the user-event bus needs the same UserEventSenders Deny as template.yaml's UserEventBusPolicy")
    check(template["Conditions"].get("HasUserEventSenders") == hub_template["Conditions"].get("HasUserEventSenders")
          and template["Parameters"].get("UserEventSenders", {}).get("Type") == "CommaDelimitedList",
          "UserEventSenders must be the hub stack's parameter, under the same HasUserEventSenders condition")
    return failures


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
    check("aws:PrincipalArn" in trust and "${HubRoleName}" in trust and "${HubRoleName}-worker" in trust
          and "aws:PrincipalOrgID" in trust,
          "the member role must trust the hub's roles (HubRoleName, HubRoleName-worker) by name and the organization")
    # IAM role names are at most 64 characters: the worker's is HubRoleName with -worker (7).
    hub_names = {"member": template["Parameters"]["HubRoleName"]}
    with open(os.path.join(triggers.ROOT, "template.yaml")) as f:
        hub_names["hub"] = yaml_parse(f.read())["Parameters"]["HubRoleName"]
    for stack, spec in hub_names.items():
        check(spec.get("AllowedPattern", "").endswith("{1,57}$"),
              f"HubRoleName ({stack} stack) must allow 1 to 57 characters, leaving room for -worker: {spec.get('AllowedPattern')}")
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
    with open(os.path.join(triggers.ROOT, "template.yaml")) as f:
        hub_template = yaml_parse(f.read())
    failures.extend(role_failures(template))
    failures.extend(forwarding_failures(template, hub_template))
    queue = resources.get("ForwardDLQ", {}).get("Properties", {})
    check(queue.get("SqsManagedSseEnabled") is True, "the forwarding DLQ is not encrypted")
    check("aws:SecureTransport" in json.dumps(resources.get("ForwardDLQPolicy")), "the forwarding DLQ accepts non-TLS requests")
    check(any(v["Type"] == "AWS::CloudWatch::Alarm" for v in resources.values()), "no alarm on the forwarding DLQ")
    if failures:
        for f in failures:
            print(f"FAIL {f}")
        return 1
    print(f"member stack ok: role in RoleRegion (no default) trusted by the hub's two roles (HubRoleName, "
          f"HubRoleName-worker, at most 57 characters) and the organization "
          f"(AssumeRole, SetSourceIdentity {SOURCE_IDENTITY} only), keys by alias through Secrets Manager, "
          f"DescribeOrganization; {len(rules)} forwarding rules with the forwarding role (at the hub bus's path), "
          f"retry policy and DLQ, every trigger forwarded; UserEventSenders Deny on the user-event bus")
    return 0


if __name__ == "__main__":
    sys.exit(main())

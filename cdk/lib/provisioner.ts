import { Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";
import { ACCOUNT_ID, aliasKeyStatements, jobStatements, KMS_ALIAS, ORGANIZATION_ID, onlyUserEventSenders } from "./permissions";
import { refuse, Refusal } from "./refusal";
import { serviceTriggers } from "./triggers";

/** Engine keys of ROTATION_LAMBDA_ARNS: `engine` (single user) or `engine:multi` (alternating users). */
export type RotationKey =
  | "mysql" | "mysql:multi" | "postgres" | "postgres:multi" | "mariadb" | "mariadb:multi"
  | "oracle" | "oracle:multi" | "sqlserver" | "sqlserver:multi" | "db2:multi"
  | "mongo" | "mongo:multi" | "redshift" | "redshift:multi";

/** template.yaml's parameter for each rotation key. */
export const ROTATION_PARAMETERS: Record<RotationKey, string> = {
  "mysql": "RotationLambdaMySQL", "mysql:multi": "RotationLambdaMySQLMulti",
  "postgres": "RotationLambdaPostgreSQL", "postgres:multi": "RotationLambdaPostgreSQLMulti",
  "mariadb": "RotationLambdaMariaDB", "mariadb:multi": "RotationLambdaMariaDBMulti",
  "oracle": "RotationLambdaOracle", "oracle:multi": "RotationLambdaOracleMulti",
  "sqlserver": "RotationLambdaSQLServer", "sqlserver:multi": "RotationLambdaSQLServerMulti",
  "db2:multi": "RotationLambdaDb2Multi",
  "mongo": "RotationLambdaMongoDB", "mongo:multi": "RotationLambdaMongoDBMulti",
  "redshift": "RotationLambdaRedshift", "redshift:multi": "RotationLambdaRedshiftMulti",
};

/** The function's configuration, as construct props (see docs/configuration.md). */
export interface DbSecretProvisionerProps {
  /** Directory holding the arm64 `bootstrap` (`cargo lambda build --release --arm64` output). */
  readonly codePath: string;
  /** Fixed start of every secret name; IAM is scoped to it. */
  readonly secretNamePrefix?: string;
  readonly secretNameTemplate?: string;
  /** Fixed start of every initial-password parameter name; IAM is scoped to it. */
  readonly parameterPrefix?: string;
  readonly passwordParameterTemplate?: string;
  readonly secretDescriptionTemplate?: string;
  /**
   * Key ARN of the secrets in this region (KMS_KEY_ID). Default: the AWS managed key, which needs
   * no grant. Not in hub mode: a key ARN names one account's key (use kmsKeyAlias).
   */
  readonly kmsKeyArn?: string;
  /**
   * Hub mode only: the secrets' key as `alias/NAME` (KMS_KEY_ID), the same alias in every member
   * account and region, each resolving it to its own key. Its key policy must let IAM policies
   * grant its use (docs/organization.md); whoever may UpdateAlias chooses the key.
   */
  readonly kmsKeyAlias?: string;
  /** Key ARN of the SecureString initial-password parameters. Default: the AWS managed key aws/ssm. */
  readonly parameterKmsKeyArn?: string;
  readonly secretTags?: Record<string, string>;
  /** Replica regions (REPLICA_REGIONS). */
  readonly replicaRegions?: string[];
  /**
   * Key ARNs for replica regions that use a customer managed key, one per region
   * (REPLICA_KMS_KEY_ARNS). Not in hub mode (use replicaKmsKeyAliases).
   */
  readonly replicaKmsKeyArns?: string[];
  /**
   * Hub mode only: the key of a replica region as `alias/NAME`, by region (REPLICA_KMS_KEY_ALIASES,
   * `region=alias/NAME,...`); each region one of replicaRegions.
   */
  readonly replicaKmsKeyAliases?: Record<string, string>;
  readonly forceOverwriteReplicaSecret?: boolean;
  /** A resource policy document attached with BlockPublicPolicy. */
  readonly resourcePolicy?: object;
  /**
   * Rotation: the schedule and one function per engine family and strategy (ROTATION_LAMBDA_ARNS).
   * Not in hub mode: a rotation function would be needed in every member account and region.
   */
  readonly rotation?: { schedule: string; functions: Partial<Record<RotationKey, string>> };
  readonly existingSecret?: "keep" | "update";
  readonly deletePasswordParameter?: boolean;
  /** A database without an initial-password parameter: skipped (default) or an error. */
  readonly missingPasswordParameter?: "skip" | "error";
  /** Port changes and the sweep's drift check update the database's secrets (default true). */
  readonly followConnectionChanges?: boolean;
  /** What a database's deletion does to its secrets (default `tag`). */
  readonly onDatabaseDeleted?: "tag" | "schedule-deletion" | "ignore";
  /** Recovery window of a scheduled deletion, 7–30 days (default 30). */
  readonly recoveryWindowDays?: number;
  /**
   * The most secrets one sweep retires in one account and region (MAX_RETIRE_PER_RUN, default
   * 10). In hub mode each account-region has this cap: there is no organization-wide one.
   */
  readonly maxRetirePerRun?: number;
  /**
   * A sweep retires at most max(1, floor(fraction × managed secrets)) in one account and region
   * (MAX_RETIRE_FRACTION, in (0, 1], default 0.2), and at most maxRetirePerRun.
   */
  readonly maxRetireFraction?: number;
  /**
   * The most drifted secrets one sweep rewrites in one account and region (MAX_REWRITES_PER_RUN,
   * 0–10000, default 100): endpoint changes first; PutSecretValue allows 50 requests per second.
   */
  readonly maxRewritesPerRun?: number;
  /**
   * Regional connection keys of databases with cross-region read replicas
   * (REGIONAL_CONNECTION_KEYS, default true).
   */
  readonly regionalConnectionKeys?: boolean;
  readonly waitForAvailableSeconds?: number;
  /** Sources of your "Database User Created" events (USER_EVENT_SOURCE). Default: com.example.provisioning. */
  readonly userEventSources?: string[];
  /**
   * Principal ARN patterns allowed to put events on the user-event bus. When given, the bus
   * policy denies events:PutEvents to every other principal.
   */
  readonly userEventSenders?: string[];
  /**
   * Act on CloudTrail's "AWS API Call via CloudTrail" events (default true). EventBridge
   * delivers them only where a CloudTrail trail logs management events in the region.
   */
  readonly cloudTrailTriggers?: boolean;
  /**
   * Reserved concurrent executions. Default: 20 in hub mode (one member's flood of events cannot
   * take the account's whole concurrency), none otherwise (a reservation can fail to deploy).
   */
  readonly reservedConcurrency?: number;
  /** Reconcile sweep schedule; `null` turns the sweep off. Default: rate(1 day). */
  readonly reconcileSchedule?: string | null;
  /** Retention of the function's log group. Default: three months. */
  readonly logRetention?: logs.RetentionDays;
  /** An SNS topic the alarms notify. Default: alarms without actions. */
  readonly alarmTopicArn?: string;
  /**
   * Hub mode: serve the member accounts of an organization (deploy/member.yaml or
   * `DbSecretProvisionerMember` in each) from this stack.
   */
  readonly hub?: HubProps;
}

/** Hub mode (see docs/organization.md). */
export interface HubProps {
  /**
   * The organization (ORGANIZATION_ID): whose forwarding roles may put events on the hub bus
   * (aws:PrincipalOrgID), whose member roles the function may assume (aws:ResourceOrgID), and
   * which the function checks each member session against.
   */
  readonly organizationId: string;
  /** MEMBER_ACCOUNTS: account ids, or "organization" (the organization's accounts). */
  readonly memberAccounts: string[] | "organization";
  /** MEMBER_ROLE_NAME (default db-secret-provisioner-member). */
  readonly memberRoleName?: string;
  /** The fixed name of the function's role, which member roles trust (default db-secret-provisioner-hub). */
  readonly roleName?: string;
  /**
   * SWEEP_ACCOUNTS: account ids (within a memberAccounts list), or "organization" (the
   * organization's active accounts, from organizations:ListAccounts, which only a delegated
   * administrator or the management account may call; refused, the sweep covers the own account
   * and the listed members). Default: memberAccounts when a list.
   */
  readonly sweepAccounts?: string[] | "organization";
  /** SWEEP_REGIONS. Default: the stack's region. */
  readonly sweepRegions?: string[];
  /**
   * The worker function's timeout in seconds, an integer from 60 to 900 (default 120; SAM's
   * WorkerTimeoutSeconds offers a ladder of these). The work queue's visibility timeout is six
   * times it.
   */
  readonly workerTimeoutSeconds?: number;
  /**
   * The most workers at once: the event source mapping's ScalingConfig.MaximumConcurrency, an
   * integer from 2 to 1,000 (default 10).
   */
  readonly workerMaxConcurrency?: number;
  /** The worker's reserved concurrency, at least workerMaxConcurrency (default 10). */
  readonly workerReservedConcurrency?: number;
}

/** The hub's worker settings, defaults applied. */
export function workerSettings(hub: HubProps): { timeoutSeconds: number; maxConcurrency: number; reservedConcurrency: number } {
  return {
    timeoutSeconds: hub.workerTimeoutSeconds ?? 120,
    maxConcurrency: hub.workerMaxConcurrency ?? 10,
    reservedConcurrency: hub.workerReservedConcurrency ?? 10,
  };
}

/** The hub's role name (HubRoleName); the worker's is this with `-worker`. */
export const DEFAULT_HUB_ROLE_NAME = "db-secret-provisioner-hub";
/**
 * An IAM role name that leaves room for `-worker` (IAM allows 64 characters: 57 + 7), as
 * template.yaml's HubRoleName allows.
 */
export const HUB_ROLE_NAME = /^[A-Za-z0-9+=,.@_-]{1,57}$/;

/**
 * The path of each member stack's forwarding role (db-secret-provisioner-forward-REGION), which
 * the hub bus policy lets in.
 */
export const FORWARD_ROLE_PATH = "/db-secret-provisioner/";

/** A prefix IAM is scoped to: at least 2 characters other than `/`. */
function checkPrefix(name: string, prefix: string): string {
  if (prefix.replace(/\//g, "").length < 2) {
    throw new Error(`${name} ${JSON.stringify(prefix)} is too broad: it needs at least 2 characters other than '/'`);
  }
  return prefix;
}

/**
 * What the deployment refuses (template.yaml's Rules and AllowedPatterns refuse the same), each
 * with the variable the function's init would name, or none where only the deployment can tell.
 */
export function refusalsOf(props: DbSecretProvisionerProps): Refusal[] {
  const out: Refusal[] = [];
  const hub = props.hub;
  const replicaAliases = Object.entries(props.replicaKmsKeyAliases ?? {});
  const rotation = Object.entries(props.rotation?.functions ?? {}).filter(([, arn]) => arn);
  if (props.kmsKeyAlias !== undefined && !KMS_ALIAS.test(props.kmsKeyAlias)) {
    out.push({ props: ["kmsKeyAlias"], parameters: ["KmsKeyAlias"], variable: "KMS_KEY_ID",
      reason: `${JSON.stringify(props.kmsKeyAlias)} is not alias/NAME (letters, digits, /, _ and -)` });
  }
  for (const [region, alias] of replicaAliases) {
    if (!KMS_ALIAS.test(alias)) {
      out.push({ props: ["replicaKmsKeyAliases"], parameters: ["ReplicaKmsKeyAliases"], variable: "REPLICA_KMS_KEY_ALIASES",
        reason: `${JSON.stringify(alias)} (for ${region}) is not alias/NAME` });
    } else if (!props.replicaRegions?.includes(region)) {
      out.push({ props: ["replicaKmsKeyAliases", "replicaRegions"], parameters: ["ReplicaKmsKeyAliases", "ReplicaRegions"],
        variable: "REPLICA_KMS_KEY_ALIASES", reason: `${region} is not one of replicaRegions` });
    }
  }
  if (props.kmsKeyAlias && props.kmsKeyArn) {
    out.push({ props: ["kmsKeyAlias", "kmsKeyArn"], parameters: ["KmsKeyAlias", "KmsKeyArn"],
      reason: "the secrets have one key: give an alias in hub mode, a key ARN otherwise" });
  }
  // Template only: outside hub mode the grants name key ARNs (init would start, KMS refuse).
  if (!hub && props.kmsKeyAlias) {
    out.push({ props: ["kmsKeyAlias", "no hub"], parameters: ["KmsKeyAlias", "HubMode"],
      reason: "a key by alias needs hub mode; in a single account give kmsKeyArn (the role's grant names the key ARN)" });
  }
  if (!hub && replicaAliases.length) {
    out.push({ props: ["replicaKmsKeyAliases", "no hub"], parameters: ["ReplicaKmsKeyAliases", "HubMode"],
      reason: "keys by alias need hub mode; in a single account give replicaKmsKeyArns (the role's grant names the key ARNs)" });
  }
  if (props.maxRetireFraction !== undefined &&
    !(Number.isFinite(props.maxRetireFraction) && props.maxRetireFraction >= 1e-6 && props.maxRetireFraction <= 1)) {
    out.push({ props: ["maxRetireFraction"], parameters: ["MaxRetireFraction"], variable: "MAX_RETIRE_FRACTION",
      reason: `${props.maxRetireFraction} is not a fraction greater than 0 (at least 0.000001) and at most 1` });
  }
  if (!hub) return out;
  // Hub mode: every key and function must exist in every member account and region.
  if (props.kmsKeyArn) {
    // With an alias too, KMS_KEY_ID is the alias and init starts: the template refuses it alone.
    out.push({ props: ["hub", "kmsKeyArn"], parameters: ["HubMode", "KmsKeyArn"], variable: props.kmsKeyAlias ? undefined : "KMS_KEY_ID",
      reason: "a key ARN names one account's key: give kmsKeyAlias (the same alias/NAME in every member account and region)" });
  }
  if (props.replicaKmsKeyArns?.length) {
    out.push({ props: ["hub", "replicaKmsKeyArns"], parameters: ["HubMode", "ReplicaKmsKeyArns"], variable: "REPLICA_KMS_KEY_ARNS",
      reason: "a key ARN names one account's key: give replicaKmsKeyAliases (region=alias/NAME)" });
  }
  if (rotation.length) {
    out.push({
      props: ["hub", "rotation"],
      parameters: ["HubMode", ...rotation.map(([k]) => ROTATION_PARAMETERS[k as RotationKey] ?? k)],
      variable: "ROTATION_LAMBDA_ARNS",
      reason: "a rotation function would be needed in every member account and region (docs/organization.md): turn rotation on per account",
    });
  }
  if (!ORGANIZATION_ID.test(hub.organizationId)) {
    out.push({ props: ["hub.organizationId"], parameters: ["HubMode", "OrganizationId"], variable: "ORGANIZATION_ID",
      reason: `${JSON.stringify(hub.organizationId)} is not an organization id (o- and 10 to 32 lowercase letters or digits)` });
  }
  if (hub.roleName !== undefined && !HUB_ROLE_NAME.test(hub.roleName)) {
    out.push({ props: ["hub.roleName"], parameters: ["HubRoleName"],
      reason: `${JSON.stringify(hub.roleName)} is not a role name of 1 to 57 characters (A-Z a-z 0-9 +=,.@_-): the worker's role is named it with -worker` });
  }
  // The workers: template.yaml offers these as AllowedValues and a Rule; any integer in range here.
  const worker = workerSettings(hub);
  const integer = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (!integer(worker.timeoutSeconds, 60, 900)) {
    out.push({ props: ["hub.workerTimeoutSeconds"], parameters: ["WorkerTimeoutSeconds"],
      reason: `${worker.timeoutSeconds} is not a whole number of seconds from 60 to 900` });
  }
  if (!integer(worker.maxConcurrency, 2, 1000)) {
    // ScalingConfig.MaximumConcurrency: "Minimum value of 2. Maximum value of 1000."
    // (https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html)
    out.push({ props: ["hub.workerMaxConcurrency"], parameters: ["WorkerMaxConcurrency"],
      reason: `${worker.maxConcurrency} is not an integer from 2 to 1,000 (the event source mapping's maximum concurrency)` });
  }
  if (!Number.isInteger(worker.reservedConcurrency) || worker.reservedConcurrency < 1) {
    out.push({ props: ["hub.workerReservedConcurrency"], parameters: ["WorkerReservedConcurrency"],
      reason: `${worker.reservedConcurrency} is not a positive integer` });
  } else if (integer(worker.maxConcurrency, 2, 1000) && worker.reservedConcurrency < worker.maxConcurrency) {
    // AWS: make sure the function's reserved concurrency is at least the total maximum
    // concurrency of its SQS event sources, or Lambda may throttle the messages
    // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). The function
    // cannot tell (it reads neither): only the deployment refuses it.
    out.push({ props: ["hub.workerReservedConcurrency", "hub.workerMaxConcurrency"],
      parameters: ["WorkerReservedConcurrency", "WorkerMaxConcurrency"],
      reason: `${worker.reservedConcurrency} is below workerMaxConcurrency ${worker.maxConcurrency} (both default to 10): ` +
        "Lambda would throttle the queue's messages, each throttled receive counting towards the DLQ" });
  }
  const badIds = (ids: string[]) => ids.filter((a) => !ACCOUNT_ID.test(a));
  if (hub.memberAccounts !== "organization") {
    if (!hub.memberAccounts.length) {
      // An empty MEMBER_ACCOUNTS is an unset one: init starts, outside hub mode.
      out.push({ props: ["hub.memberAccounts"], parameters: ["HubMode", "MemberAccounts"],
        reason: "lists no account (give account ids, or \"organization\")" });
    } else if (badIds(hub.memberAccounts).length) {
      out.push({ props: ["hub.memberAccounts"], parameters: ["MemberAccounts"], variable: "MEMBER_ACCOUNTS",
        reason: `${badIds(hub.memberAccounts).join(", ")} not 12-digit account ids` });
    }
  }
  if (Array.isArray(hub.sweepAccounts)) {
    if (!hub.sweepAccounts.length || badIds(hub.sweepAccounts).length) {
      out.push({ props: ["hub.sweepAccounts"], parameters: ["SweepAccounts"], variable: "SWEEP_ACCOUNTS",
        reason: hub.sweepAccounts.length ? `${badIds(hub.sweepAccounts).join(", ")} not 12-digit account ids` : "lists no account" });
    } else if (Array.isArray(hub.memberAccounts)) {
      // The sweep trusts what events trust: it acts only where an event would be accepted from.
      const members = hub.memberAccounts;
      const outside = hub.sweepAccounts.filter((a) => !members.includes(a));
      if (outside.length) {
        out.push({ props: ["hub.sweepAccounts", "hub.memberAccounts"], parameters: ["SweepAccounts", "MemberAccounts"],
          variable: "SWEEP_ACCOUNTS", reason: `${outside.join(", ")} not in memberAccounts: the sweep acts only in accounts whose events are accepted` });
      }
    }
  }
  return out;
}

/**
 * The (planner) function's environment (SEAL_KEY_ID aside, which names the stack's key). In hub
 * mode `workQueueUrl` is WORK_QUEUE_URL, the queue the scheduled sweep plans into.
 */
export function functionEnvironment(props: DbSecretProvisionerProps, workQueueUrl?: string): Record<string, string> {
  const secretPrefix = props.secretNamePrefix ?? "db-secrets/";
  const parameterPrefix = props.parameterPrefix ?? "/db-secrets/";
  const rotationFunctions = Object.entries(props.rotation?.functions ?? {}).filter(([, arn]) => arn);
  const env: Record<string, string> = {
    SECRET_NAME_TEMPLATE: props.secretNameTemplate ?? "db-secrets/{service}/{identifier}/{username}",
    SECRET_NAME_PREFIX: secretPrefix,
    PASSWORD_PARAMETER_TEMPLATE: props.passwordParameterTemplate ?? "/db-secrets/{service}/{identifier}/{username}",
    PASSWORD_PARAMETER_PREFIX: parameterPrefix,
    USER_EVENT_SOURCE: (props.userEventSources ?? ["com.example.provisioning"]).join(","),
    EXISTING_SECRET: props.existingSecret ?? "keep",
    DELETE_PASSWORD_PARAMETER: String(props.deletePasswordParameter ?? false),
    MISSING_PASSWORD_PARAMETER: props.missingPasswordParameter ?? "skip",
    FORCE_OVERWRITE_REPLICA_SECRET: String(props.forceOverwriteReplicaSecret ?? false),
    WAIT_FOR_AVAILABLE_SECONDS: String(props.waitForAvailableSeconds ?? 600),
    FOLLOW_CONNECTION_CHANGES: String(props.followConnectionChanges ?? true),
    ON_DATABASE_DELETED: props.onDatabaseDeleted ?? "tag",
    RECOVERY_WINDOW_DAYS: String(props.recoveryWindowDays ?? 30),
    MAX_RETIRE_PER_RUN: String(props.maxRetirePerRun ?? 10),
    MAX_RETIRE_FRACTION: String(props.maxRetireFraction ?? 0.2),
    MAX_REWRITES_PER_RUN: String(props.maxRewritesPerRun ?? 100),
    REGIONAL_CONNECTION_KEYS: String(props.regionalConnectionKeys ?? true),
  };
  const hub = props.hub;
  const listOf = (v: string[] | "organization") => (v === "organization" ? v : v.join(","));
  if (hub) {
    env.MEMBER_ACCOUNTS = listOf(hub.memberAccounts);
    env.MEMBER_ROLE_NAME = hub.memberRoleName ?? "db-secret-provisioner-member";
    env.ORGANIZATION_ID = hub.organizationId;
    if (hub.sweepAccounts) env.SWEEP_ACCOUNTS = listOf(hub.sweepAccounts);
    if (hub.sweepRegions?.length) env.SWEEP_REGIONS = hub.sweepRegions.join(",");
    // Only hub mode plans (init refuses WORK_QUEUE_URL outside it; an empty member list is no hub).
    if (env.MEMBER_ACCOUNTS && workQueueUrl) env.WORK_QUEUE_URL = workQueueUrl;
  }
  if (props.secretDescriptionTemplate) env.SECRET_DESCRIPTION_TEMPLATE = props.secretDescriptionTemplate;
  // The alias when given (hub mode), else the key ARN.
  const key = props.kmsKeyAlias || props.kmsKeyArn;
  if (key) env.KMS_KEY_ID = key;
  if (props.secretTags) {
    env.SECRET_TAGS = Object.entries(props.secretTags).map(([k, v]) => `${k}=${v}`).join(",");
  }
  if (props.replicaRegions?.length) env.REPLICA_REGIONS = props.replicaRegions.join(",");
  if (props.replicaKmsKeyArns?.length) env.REPLICA_KMS_KEY_ARNS = props.replicaKmsKeyArns.join(",");
  const replicaAliases = Object.entries(props.replicaKmsKeyAliases ?? {});
  if (replicaAliases.length) env.REPLICA_KMS_KEY_ALIASES = replicaAliases.map(([r, a]) => `${r}=${a}`).join(",");
  if (props.resourcePolicy) env.RESOURCE_POLICY = JSON.stringify(props.resourcePolicy);
  if (rotationFunctions.length) {
    env.ROTATION_LAMBDA_ARNS = rotationFunctions.map(([k, arn]) => `${k}=${arn}`).join(",");
    env.ROTATION_SCHEDULE = props.rotation!.schedule;
  }
  return env;
}

/**
 * The worker's environment (hub mode): the planner's without WORK_QUEUE_URL (the worker sends
 * nothing), with HANDLER_MODE=worker and WORK_QUEUE_ARN, the one queue whose messages it accepts.
 */
export function workerEnvironment(plannerEnvironment: Record<string, string>, workQueueArn: string): Record<string, string> {
  const { WORK_QUEUE_URL: _planned, ...env } = plannerEnvironment;
  return { ...env, HANDLER_MODE: "worker", WORK_QUEUE_ARN: workQueueArn };
}

/** The error types whose log line raises an alarm: an attack or a misconfiguration. */
export const ALARMING_ERROR_TYPES = ["UntrustedEvent", "SecretConflict", "ConfigurationError"];

/**
 * The provisioner function with its own role (each statement proven necessary and sufficient by
 * tests/deploy/iam_contract.py), one EventBridge rule per trigger family, encrypted TLS-only
 * dead-letter queues, and alarms.
 */
export class DbSecretProvisioner extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  /** The HMAC key that seals every secret the function creates (only the function's role can use it). */
  readonly sealKey: kms.Key;
  readonly userEventBus: events.EventBus;
  /** Hub mode: the bus member stacks forward to. */
  readonly hubEventBus?: events.EventBus;
  readonly eventDeliveryDlq: sqs.Queue;
  readonly failedInvocationQueue: sqs.Queue;
  /** Hub mode: the queue the scheduled sweep plans into, one message per account-region. */
  readonly workQueue?: sqs.Queue;
  /** Hub mode: the work queue's dead-letter queue. */
  readonly workDlq?: sqs.Queue;
  /** Hub mode: the function that sweeps one account-region per message of the work queue. */
  readonly workerFunction?: lambda.Function;
  /** Hub mode: the worker's role (`${roleName}-worker`), which member roles also trust. */
  readonly workerRole?: iam.Role;
  /** Hub mode: the databases', secrets' and seal key's statements, shared by both roles. */
  readonly databaseSecretsPolicy?: iam.Policy;
  readonly rules: events.Rule[] = [];
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: DbSecretProvisionerProps) {
    super(scope, id);
    refuse(refusalsOf(props));
    const stack = Stack.of(this);
    const secretPrefix = checkPrefix("secretNamePrefix", props.secretNamePrefix ?? "db-secrets/");
    const parameterPrefix = checkPrefix("parameterPrefix", props.parameterPrefix ?? "/db-secrets/");
    const userEventSources = props.userEventSources ?? ["com.example.provisioning"];
    const rotationFunctions = Object.entries(props.rotation?.functions ?? {}).filter(([, arn]) => arn);

    const queue = (name: string) =>
      new sqs.Queue(this, name, {
        retentionPeriod: Duration.days(14),
        // SSE-SQS: EventBridge cannot deliver to a queue under the AWS managed key aws/sqs.
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
    this.eventDeliveryDlq = queue("EventDeliveryDLQ");
    this.failedInvocationQueue = queue("FailedInvocationQueue");
    for (const q of [this.eventDeliveryDlq, this.failedInvocationQueue]) {
      NagSuppressions.addResourceSuppressions(q, [
        { id: "AwsSolutions-SQS3", reason: "This queue is itself a dead-letter queue (EventBridge's, or Lambda's on-failure destination); an alarm watches its depth." },
      ]);
    }

    const logGroup = new logs.LogGroup(this, "LogGroup", {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });

    const hub = props.hub;
    const memberRoleName = hub?.memberRoleName ?? "db-secret-provisioner-member";
    const hubRoleName = hub?.roleName ?? DEFAULT_HUB_ROLE_NAME;
    const worker = hub ? workerSettings(hub) : undefined;

    // Hub mode: the work queue. The scheduled sweep (the planner) sends one message per
    // account-region; the worker consumes them through an event source mapping.
    if (worker) {
      // Longer retention than the work queue's: "it is a best practice to always set the
      // retention period of a dead-letter queue to be longer than the retention period of the
      // original queue" (SQS Developer Guide, setting-up-dead-letter-queue-retention.html).
      this.workDlq = new sqs.Queue(this, "WorkDLQ", {
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      NagSuppressions.addResourceSuppressions(this.workDlq, [
        { id: "AwsSolutions-SQS3", reason: "This queue is itself the work queue's dead-letter queue; an alarm watches its depth." },
      ]);
      this.workQueue = new sqs.Queue(this, "WorkQueue", {
        // A place message is worth a day: the next plan (daily by default) takes the place up again.
        retentionPeriod: Duration.days(1),
        // "set the source queue's visibility timeout to at least six times the configuration
        // timeout on your function" (Lambda Developer Guide, services-sqs-configure.html).
        visibilityTimeout: Duration.seconds(6 * worker.timeoutSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // 5, not the issue's 3: "We recommend setting the maxReceiveCount on your source queue's
        // redrive policy to at least 5. This gives Lambda a few chances to retry before sending
        // failed messages directly to the dead-letter queue" (services-sqs-configure.html);
        // throttled receives count too.
        deadLetterQueue: { queue: this.workDlq, maxReceiveCount: 5 },
      });
    }

    const env = functionEnvironment(props, this.workQueue?.queueUrl);

    // The function's own role, without managed policies: what Lambda and the function do, no more.
    this.role = new iam.Role(this, "Role", {
      // A fixed name in hub mode: the member roles trust it by name (aws:PrincipalArn).
      roleName: hub ? hubRoleName : undefined,
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "db-secret-provisioner function role",
    });
    // Hub mode: the worker's role, named after the hub's (member roles trust both by name): the
    // planner's permissions for a place sweep, without the planner's own (the on-failure
    // destination, sending to the work queue, listing the organization), with the event source
    // mapping's.
    this.workerRole = hub
      ? new iam.Role(this, "WorkerRole", {
        roleName: `${hubRoleName}-worker`,
        assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
        description: "db-secret-provisioner worker role (one account-region per work queue message)",
      })
      : undefined;
    const roles = [this.role, ...(this.workerRole ? [this.workerRole] : [])];
    // Hub mode: the databases', secrets' and seal key's statements are one policy both roles
    // share (template.yaml's DatabaseSecretsPolicy): a place sweep runs the same jobs as the
    // planner's events, and the IAM contract checks each shared statement against both roles'
    // operations. Single account: the role's own policy.
    this.databaseSecretsPolicy = this.workerRole
      ? new iam.Policy(this, "DatabaseSecretsPolicy", { policyName: "db-secret-provisioner-databases", roles })
      : undefined;
    const shared = this.databaseSecretsPolicy;
    // `allow` grants the planner and (hub mode) the worker, whose place sweep needs the same;
    // `allowPlanner` the planner only.
    const statement = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      new iam.PolicyStatement({ sid, actions, resources, conditions });
    const allowPlanner = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPolicy(statement(sid, actions, resources, conditions));
    const allowStatement = (st: iam.PolicyStatement) => {
      if (shared) shared.addStatements(st);
      else this.role.addToPolicy(st);
    };
    const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      allowStatement(statement(sid, actions, resources, conditions));
    // The seal key (as template.yaml's SealKey): the account's administrators manage it but
    // cannot use it; only the function's role (and the worker's, hub mode) makes and checks MACs
    // with it. KMS does not rotate HMAC keys. Multi-Region when secrets are replicated.
    const macAlgorithm = { StringEquals: { "kms:MacAlgorithm": "HMAC_SHA_256" } };
    this.sealKey = new kms.Key(this, "SealKey", {
      description: "db-secret-provisioner seal key (GenerateMac / VerifyMac over each secret it creates)",
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      multiRegion: !!props.replicaRegions?.length,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: "AdministerWithoutUse",
            principals: [new iam.AccountRootPrincipal()],
            actions: [
              "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
              "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
              "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:ReplicateKey",
            ],
            resources: ["*"],
          }),
          new iam.PolicyStatement({
            sid: "SealWithTheFunctionOnly",
            // The worker seals and checks the secrets of the places it sweeps.
            principals: roles,
            actions: ["kms:GenerateMac", "kms:VerifyMac"],
            resources: ["*"],
            conditions: macAlgorithm,
          }),
        ],
      }),
    });
    env.SEAL_KEY_ID = this.sealKey.keyArn;
    this.function = new lambda.Function(this, "Function", {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: "bootstrap",
      code: lambda.Code.fromAsset(props.codePath),
      role: this.role,
      memorySize: 128,
      timeout: Duration.seconds(900),
      // Hub mode: one member's flood of events (each a failed invocation) cannot take the
      // account's whole unreserved concurrency, nor grow without bound.
      reservedConcurrentExecutions: props.reservedConcurrency ?? (hub ? 20 : undefined),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: env,
    });
    // Its permissions exist before it does (the role's own policy is a dependency already).
    if (this.databaseSecretsPolicy) this.function.node.addDependency(this.databaseSecretsPolicy);
    // The on-failure destination without the grant SqsDestination adds (it also grants
    // GetQueueAttributes and GetQueueUrl, which Lambda does not use): SendMessage below.
    const failedQueueArn = this.failedInvocationQueue.queueArn;
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: { bind: () => ({ destination: failedQueueArn }) },
    });
    const workerLogGroup = this.workerRole
      ? new logs.LogGroup(this, "WorkerLogGroup", { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS })
      : undefined;
    if (this.workQueue && this.workerRole && workerLogGroup && worker) {
      const workQueue = this.workQueue;
      // The same artifact as the planner, one account-region per message.
      this.workerFunction = new lambda.Function(this, "WorkerFunction", {
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.ARM_64,
        handler: "bootstrap",
        code: lambda.Code.fromAsset(props.codePath),
        role: this.workerRole,
        memorySize: 128,
        timeout: Duration.seconds(worker.timeoutSeconds),
        // At least the mapping's maximum concurrency, or Lambda may throttle the messages.
        reservedConcurrentExecutions: worker.reservedConcurrency,
        logGroup: workerLogGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
        systemLogLevelV2: lambda.SystemLogLevel.WARN,
        environment: workerEnvironment(env, workQueue.queueArn),
      });
      if (this.databaseSecretsPolicy) this.workerFunction.node.addDependency(this.databaseSecretsPolicy);
      // Only the planner's role may send place messages: an explicit Deny of every other
      // principal (an Allow alone does not restrict the account's own principals).
      // aws:PrincipalArn of a role session is the role's ARN, path included (IAM User Guide,
      // aws:PrincipalArn). It also blocks an operator's DLQ redrive into this queue (a redrive is
      // a SendMessage to the destination): the next plan takes the places up, or redrive as the
      // planner's role. SQS's own move of a message into the DLQ is no principal's SendMessage.
      workQueue.addToResourcePolicy(new iam.PolicyStatement({
        sid: "OnlyThePlannerSends",
        effect: iam.Effect.DENY,
        principals: [new iam.StarPrincipal()],
        actions: ["sqs:SendMessage"],
        resources: [workQueue.queueArn],
        conditions: { ArnNotEquals: { "aws:PrincipalArn": this.role.roleArn } },
      }));
      // The plan: SendMessageBatch authorizes as sqs:SendMessage.
      allowPlanner("PlanIntoWorkQueue", ["sqs:SendMessage"], [workQueue.queueArn]);
      this.workerRole.addToPolicy(statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [workerLogGroup.logGroupArn]));
      // What the event source mapping does with the worker's role, and no more: AWS lists
      // ReceiveMessage, DeleteMessage and GetQueueAttributes (the AWSLambdaSQSQueueExecutionRole
      // managed policy holds these three). No ChangeMessageVisibility, which the issue lists: the
      // mapping does not need it and the worker never calls SQS itself (grantConsumeMessages and
      // SqsEventSource would add it, and GetQueueUrl). No kms:Decrypt: the queue is SSE-SQS.
      this.workerRole.addToPolicy(statement("ConsumeWorkQueue",
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], [workQueue.queueArn]));
      // A plain mapping: batch size 1 (one place per invocation), partial batch responses, and
      // the most workers at once.
      const mapping = new lambda.EventSourceMapping(this, "WorkerEventSourceMapping", {
        target: this.workerFunction,
        eventSourceArn: workQueue.queueArn,
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: worker.maxConcurrency,
      });
      // Lambda checks the role's SQS permissions when it creates the mapping.
      mapping.node.addDependency(this.workerRole);
    }

    // In hub mode the function works in every region of its own account too.
    const secrets = [`arn:${stack.partition}:secretsmanager:${hub ? "*" : stack.region}:${stack.account}:secret:${secretPrefix}*`];
    const own = { StringEquals: { "secretsmanager:ResourceTag/managed-by": "db-secret-provisioner" } };

    allowPlanner("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${logGroup.logGroupArn}`]);
    allowPlanner("SendFailedInvocations", ["sqs:SendMessage"], [failedQueueArn]);
    for (const st of jobStatements({
      partition: stack.partition,
      account: stack.account,
      region: hub ? "*" : stack.region,
      secretNamePrefix: secretPrefix,
      parameterPrefix,
      deletePasswordParameter: props.deletePasswordParameter,
      replicas: !!props.replicaRegions?.length,
      resourcePolicy: !!props.resourcePolicy,
      existingSecret: props.existingSecret,
      followConnectionChanges: props.followConnectionChanges,
      onDatabaseDeleted: props.onDatabaseDeleted,
    })) {
      allowStatement(st);
    }
    if (rotationFunctions.length) allow("RotateOwnSecrets", ["secretsmanager:RotateSecret"], secrets, own);
    allow("SealOwnSecrets", ["kms:GenerateMac", "kms:VerifyMac"], [this.sealKey.keyArn], {
      StringEquals: { "kms:MacAlgorithm": "HMAC_SHA_256" },
    });
    // KMS exactly where the API reference names it, through the service only.
    if (props.kmsKeyArn) {
      allow("UseSecretsKey", ["kms:GenerateDataKey", "kms:Decrypt"], [props.kmsKeyArn], {
        StringEquals: { "kms:ViaService": `secretsmanager.${stack.region}.amazonaws.com` },
      });
      // The key check before a password goes into an existing secret (kms:DescribeKey).
      allow("DescribeSecretsKey", ["kms:DescribeKey"], [props.kmsKeyArn]);
    }
    if (props.replicaKmsKeyArns?.length) {
      allow("UseReplicaKeys", ["kms:GenerateDataKey", "kms:Encrypt"], props.replicaKmsKeyArns, {
        StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" },
      });
    }
    if (props.parameterKmsKeyArn) {
      allow("UseParameterKey", ["kms:Decrypt"], [props.parameterKmsKeyArn], {
        StringEquals: { "kms:ViaService": `ssm.${stack.region}.amazonaws.com` },
      });
    }
    if (rotationFunctions.length) {
      allow("UseRotationFunctions", ["lambda:InvokeFunction"], rotationFunctions.map(([, a]) => a));
    }
    // Hub mode: keys by alias, in every region of the own account (the member role has the same
    // in each member account).
    for (const st of aliasKeyStatements({
      partition: stack.partition,
      account: stack.account,
      keyAlias: props.kmsKeyAlias,
      replicaKeyAliases: Object.values(props.replicaKmsKeyAliases ?? {}),
    })) {
      allowStatement(st);
    }
    if (hub) {
      // The member role of the organization's accounts, nothing else. AssumeRole sets
      // SourceIdentity (sts:SetSourceIdentity), so that a member's CloudTrail shows the hub's
      // calls as db-secret-provisioner's. aws:ResourceOrgID is the organization of the account
      // that owns the role; aws:ResourceAccount that account (IAM User Guide, "AWS global
      // condition context keys":
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid;
      // STS API Reference, AssumeRole, SourceIdentity:
      // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
      allow("AssumeMemberRoles", ["sts:AssumeRole", "sts:SetSourceIdentity"], [`arn:${stack.partition}:iam::*:role/${memberRoleName}`], {
        StringEquals: {
          "aws:ResourceOrgID": hub.organizationId,
          ...(Array.isArray(hub.memberAccounts) ? { "aws:ResourceAccount": hub.memberAccounts } : {}),
        },
      });
      // organization: the organization's accounts (ListAccounts, which only the management
      // account or a delegated administrator may call: the function degrades when refused) and
      // its management account (DescribeOrganization, callable from any member account). Both
      // authorize on "*" only (Service Authorization Reference, AWS Organizations).
      if (hub.memberAccounts === "organization" || hub.sweepAccounts === "organization") {
        // The planner only: it lists the places (the worker sweeps the one its message names, and
        // proves membership with DescribeAccount below or in the member session).
        allowPlanner("ListOrganizationAccounts", ["organizations:ListAccounts", "organizations:DescribeOrganization"], ["*"]);
      }
      // The membership proof with memberAccounts "organization": DescribeAccount of the event's
      // account before AssumeRole, on the organization's accounts only (the ARN's account part is
      // the management account's).
      if (hub.memberAccounts === "organization") {
        allow("DescribeOrganizationAccounts", ["organizations:DescribeAccount"], [
          `arn:${Stack.of(this).partition}:organizations::*:account/${hub.organizationId}/*`,
        ]);
      }
    }
    // Each wildcard cdk-nag finds, named: the narrowest AWS allows.
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const wildcard = (service: string, resource: string) => ({
      regex: `/^Resource::arn:<AWS::Partition>:${service}:(<AWS::Region>|[a-z0-9-]+|\\*):(<AWS::AccountId>|[0-9]{12}):${escape(resource)}\\*$/g`,
    });
    for (const role of [...roles, ...(shared ? [shared] : [])]) NagSuppressions.addResourceSuppressions(role, [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Listings (DescribeDBInstances, DescribeDBClusters, DescribeClusters, ListWorkgroups, ListNamespaces) and DescribeEvents and Redshift DescribeClusterSnapshots name no single resource and authorize on '*'" +
          (hub && role === this.role ? "; so do organizations:ListAccounts and DescribeOrganization (hub mode, the organization's accounts)" : "") +
          "; tests/deploy/iam_contract.py proves each statement necessary.",
        appliesTo: ["Resource::*"],
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Restore evidence: the snapshot a database was restored from is named by the restore call (any name the operator chose); " +
          "describe-only, in the function's own account and region.",
        appliesTo: [wildcard("rds", "snapshot:"), wildcard("rds", "cluster-snapshot:")],
      },
      {
        id: "AwsSolutions-IAM5",
        reason: "Workgroups and namespaces are named in IAM by IDs AWS assigns at creation; the function knows their names only.",
        appliesTo: [wildcard("redshift-serverless", "workgroup/"), wildcard("redshift-serverless", "namespace/")],
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Secret and parameter names derive from each database and user through the operator's templates; IAM is scoped to their fixed prefixes, " +
          "and Secrets Manager writes are further conditioned on the managed-by tag.",
        appliesTo: [wildcard("secretsmanager", `secret:${secretPrefix}`), wildcard("ssm", `parameter${parameterPrefix}`)],
      },
      ...(hub
        ? [{
          id: "AwsSolutions-IAM5",
          reason:
            "Hub mode: the member role has one fixed name in every member account, and the account is the event's. aws:ResourceOrgID limits " +
            "AssumeRole and SetSourceIdentity to roles of the organization's accounts" +
            (Array.isArray(hub.memberAccounts) ? ", and aws:ResourceAccount to the MEMBER_ACCOUNTS listed" : "") +
            ". With MEMBER_ACCOUNTS=organization the function also proves membership itself: before AssumeRole with DescribeAccount when " +
            "the hub may call it, else right after it with DescribeOrganization in the member session (the organization id must be ORGANIZATION_ID).",
          appliesTo: [`Resource::arn:<AWS::Partition>:iam::*:role/${memberRoleName}`],
        }]
        : []),
      ...(hub?.memberAccounts === "organization"
        ? [{
          id: "AwsSolutions-IAM5",
          reason:
            "Hub mode with memberAccounts organization: DescribeAccount of the event's account proves its membership before AssumeRole. The ARN " +
            "names the organization (only its accounts); its account part is the management account's and the last part the event's account.",
          appliesTo: [`Resource::arn:<AWS::Partition>:organizations::*:account/${hub.organizationId}/*`],
        }]
        : []),
      ...(props.kmsKeyAlias || Object.keys(props.replicaKmsKeyAliases ?? {}).length
        ? [{
          id: "AwsSolutions-IAM5",
          reason:
            "Hub mode: the secrets' keys are given by alias (one alias/NAME resolves to another key in each region); IAM names KMS keys only by " +
            "key ARN, so the grants are on the account's keys and ForAnyValue:StringEquals kms:ResourceAliases limits them to keys that carry " +
            "the aliases, kms:ViaService to Secrets Manager (DescribeKey, which the function calls itself: the alias only).",
          appliesTo: [wildcard("kms", "key/")],
        }]
        : []),
    ], true);

    const target = () =>
      new targets.LambdaFunction(this.function, {
        deadLetterQueue: this.eventDeliveryDlq,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      });
    // In hub mode each rule of the account has a twin on the hub bus, for the members' events.
    this.hubEventBus = hub
      ? new events.EventBus(this, "HubEventBus", { eventBusName: `${stack.stackName}-hub` })
      : undefined;
    if (this.hubEventBus && hub) {
      // Only the member stacks' forwarding roles (path /db-secret-provisioner/, which a member's
      // administrator can also give a role: each member speaks for its own account only, an
      // event's account being the sender's), of the organization's accounts, and only the
      // forwarded sources. aws:PrincipalArn of a role session is the role's ARN, path included;
      // events:source is multi-valued (one per entry of PutEvents), hence ForAllValues:, as in
      // EventBridge's cross-account example. (EventBridge User Guide, "Using IAM policy
      // conditions" and "Example policy: Send events to a custom bus in a different account":
      // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html,
      // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-example-policy-cross-account-custom-bus-source.html;
      // IAM User Guide, aws:PrincipalArn:
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn.)
      const forwardedSources = [...new Set(serviceTriggers.flatMap((t) => t.pattern.source ?? []))];
      const forwardingRoles = `arn:${stack.partition}:iam::*:role${FORWARD_ROLE_PATH}*`;
      const allow = new events.CfnEventBusPolicy(this, "HubEventBusPolicy", {
        eventBusName: this.hubEventBus.eventBusName,
        statementId: "OrganizationForwardingRoles",
        statement: {
          Effect: "Allow",
          Principal: "*",
          Action: "events:PutEvents",
          Resource: this.hubEventBus.eventBusArn,
          Condition: {
            StringEquals: { "aws:PrincipalOrgID": hub.organizationId },
            ArnLike: { "aws:PrincipalArn": forwardingRoles },
            "ForAllValues:StringEquals": { "events:source": [...forwardedSources, ...userEventSources] },
          },
        },
      });
      // An Allow alone does not restrict principals of the hub's own account: an explicit Deny does.
      const deny = new events.CfnEventBusPolicy(this, "HubEventBusDenyOthers", {
        eventBusName: this.hubEventBus.eventBusName,
        statementId: "OnlyForwardingRoles",
        statement: {
          Effect: "Deny",
          Principal: "*",
          Action: "events:PutEvents",
          Resource: this.hubEventBus.eventBusArn,
          Condition: { ArnNotLike: { "aws:PrincipalArn": forwardingRoles } },
        },
      });
      // One change of the bus's policy at a time.
      deny.addDependency(allow);
    }
    const rule = (id: string, eventPattern: events.EventPattern, enabled = true) => {
      this.rules.push(new events.Rule(this, id, { eventPattern, enabled, targets: [target()] }));
      if (this.hubEventBus) {
        this.rules.push(new events.Rule(this, `Hub${id}`, {
          eventBus: this.hubEventBus, eventPattern, enabled, targets: [target()],
        }));
      }
    };

    for (const t of serviceTriggers) {
      rule(t.id, t.pattern, t.cloudTrail ? props.cloudTrailTriggers ?? true : true);
    }
    // "Database User Created" on its own bus: permission to put events on the default bus is
    // not enough to send one, and userEventSenders can restrict who may.
    this.userEventBus = new events.EventBus(this, "UserEventBus", {
      eventBusName: `${stack.stackName}-user-events`,
    });
    if (props.userEventSenders?.length) {
      onlyUserEventSenders(this, this.userEventBus, props.userEventSenders);
    }
    this.rules.push(
      new events.Rule(this, "DatabaseUserCreated", {
        eventBus: this.userEventBus,
        eventPattern: {
          source: userEventSources,
          detailType: ["Database User Created"],
          account: [stack.account],
        },
        targets: [target()],
      }),
    );
    if (this.hubEventBus) {
      // Members' user events, forwarded by their member stacks (the bus policy lets only the
      // forwarding roles in; the function checks the account against MEMBER_ACCOUNTS).
      this.rules.push(
        new events.Rule(this, "HubDatabaseUserCreated", {
          eventBus: this.hubEventBus,
          eventPattern: { source: userEventSources, detailType: ["Database User Created"] },
          targets: [target()],
        }),
      );
    }
    const schedule = props.reconcileSchedule === undefined ? "rate(1 day)" : props.reconcileSchedule;
    if (schedule !== null) {
      this.rules.push(
        new events.Rule(this, "Reconcile", {
          schedule: events.Schedule.expression(schedule),
          description: "db-secret-provisioner reconcile sweep (heals missed events)",
          targets: [target()],
        }),
      );
    }

    // Alarms: a message waiting in either queue, and an error type that means an attack or a
    // misconfiguration in the function's JSON log line.
    const topic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, "AlarmTopic", props.alarmTopicArn) : undefined;
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string, threshold = 0,
      comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (topic) a.addAlarmAction(new cwActions.SnsAction(topic));
      this.alarms.push(a);
    };
    for (const [id, q] of [["EventDeliveryDLQ", this.eventDeliveryDlq], ["FailedInvocationQueue", this.failedInvocationQueue]] as const) {
      alarm(`${id}NotEmptyAlarm`,
        q.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: Duration.minutes(5) }),
        `Events wait in ${id}: fix the cause their errorType names, then redrive them (scripts/redrive.sh).`);
    }
    if (this.workQueue && this.workDlq) {
      // Places whose sweep failed maxReceiveCount times (MemberAccessDenied, throttling, an
      // unexpected error): the worker's log lines name each. The next plan takes them up again.
      alarm("WorkDLQNotEmptyAlarm",
        this.workDlq.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: Duration.minutes(5) }),
        "Places whose sweep failed 5 times wait in the work queue's DLQ: the worker's log line \"place failed\" names each one's error_type " +
        "(MemberAccessDenied: the member stack's role is missing or does not trust the worker's role). Fix the cause; the next plan sweeps " +
        "the places again (a redrive into the work queue is refused: only the planner sends there).");
      // On the work queue, not the DLQ: a move into the DLQ resets a message's age. The metric
      // skips messages received three or more times (SQS moves them to the back of the queue).
      alarm("WorkQueueOldestMessageAlarm",
        this.workQueue.metricApproximateAgeOfOldestMessage({ statistic: "Maximum", period: Duration.minutes(5) }),
        "A place has waited 6 hours in the work queue: the workers do not keep up with the plan. Raise workerMaxConcurrency " +
        "(and workerReservedConcurrency), or look for throttles of the worker function.",
        21600, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD);
    }
    // The log line metrics, of the planner's log group and (hub mode, `worker` true) the
    // worker's, into the same metrics: one alarm each.
    const metricFilters = (name: string, filterPattern: logs.IFilterPattern, worker = true): cloudwatch.IMetric => {
      const logGroups: [string, logs.ILogGroup][] = [["", logGroup], ...(worker && workerLogGroup ? [["Worker", workerLogGroup] as [string, logs.ILogGroup]] : [])];
      const filters = logGroups.map(([prefix, group]) => new logs.MetricFilter(this, `${prefix}${name}Metric`, {
        logGroup: group,
        filterPattern,
        metricNamespace: "db-secret-provisioner",
        metricName: name,
        metricValue: "1",
        unit: cloudwatch.Unit.COUNT,
      }));
      return filters[0].metric({ statistic: "Sum", period: Duration.minutes(5) });
    };
    for (const errorType of ALARMING_ERROR_TYPES) {
      alarm(`${errorType}Alarm`, metricFilters(errorType, logs.FilterPattern.stringValue("$.fields.error_type", "=", errorType)),
        `${errorType}: see the function's log line with this error_type (docs/operations.md).`);
    }
    // One "secret flagged" line per secret the function would not write a password into.
    alarm("FlaggedSecretsAlarm", metricFilters("FlaggedSecrets", logs.FilterPattern.stringValue("$.fields.message", "=", "secret flagged")),
      "FlaggedSecrets: a secret exists for a database but carries no seal, so no password was written into it (docs/outcomes.md).");
    // Port changes whose wait ran out: the sweep finishes them (counted apart, no alarm). An
    // event's wait: the planner's only.
    metricFilters("PortChangesLeftToSweep", logs.FilterPattern.stringValue("$.fields.message", "=", "port change left to the sweep"), false);
    // One "rotation stuck" line per secret, version and UTC day.
    alarm("RotationStuckAlarm", metricFilters("RotationStuck", logs.FilterPattern.stringValue("$.fields.message", "=", "rotation stuck")),
      "RotationStuck: a failed rotation left AWSPENDING on a secret past its rotation window; remove the label once fixed (docs/outcomes.md).");
  }
}

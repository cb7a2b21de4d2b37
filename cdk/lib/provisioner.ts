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
import { jobStatements } from "./permissions";
import { serviceTriggers } from "./triggers";

/** Engine keys of ROTATION_LAMBDA_ARNS: `engine` (single user) or `engine:multi` (alternating users). */
export type RotationKey =
  | "mysql" | "mysql:multi" | "postgres" | "postgres:multi" | "mariadb" | "mariadb:multi"
  | "oracle" | "oracle:multi" | "sqlserver" | "sqlserver:multi" | "db2:multi"
  | "mongo" | "mongo:multi" | "redshift" | "redshift:multi";

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
  /** Key ARN of the secrets in this region (KMS_KEY_ID). Default: the AWS managed key, which needs no grant. */
  readonly kmsKeyArn?: string;
  /** Key ARN of the SecureString initial-password parameters. Default: the AWS managed key aws/ssm. */
  readonly parameterKmsKeyArn?: string;
  readonly secretTags?: Record<string, string>;
  /** Replica regions (REPLICA_REGIONS). */
  readonly replicaRegions?: string[];
  /** Key ARNs for replica regions that use a customer managed key, one per region (REPLICA_KMS_KEY_ARNS). */
  readonly replicaKmsKeyArns?: string[];
  readonly forceOverwriteReplicaSecret?: boolean;
  /** A resource policy document attached with BlockPublicPolicy. */
  readonly resourcePolicy?: object;
  /** Rotation: the schedule and one function per engine family and strategy (ROTATION_LAMBDA_ARNS). */
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
  /** The most secrets one sweep retires (default 10). */
  readonly maxRetirePerRun?: number;
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
  /** Reserved concurrent executions; none by default (a reservation can fail to deploy). */
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
  /** The organization whose accounts may put events on the hub bus (aws:PrincipalOrgID). */
  readonly organizationId: string;
  /** MEMBER_ACCOUNTS: account ids, or "organization" (any account the bus lets in). */
  readonly memberAccounts: string[] | "organization";
  /** MEMBER_ROLE_NAME (default db-secret-provisioner-member). */
  readonly memberRoleName?: string;
  /** The fixed name of the function's role, which member roles trust (default db-secret-provisioner-hub). */
  readonly roleName?: string;
  /** SWEEP_ACCOUNTS: account ids, or "organization" (organizations:ListAccounts). Default: memberAccounts when a list. */
  readonly sweepAccounts?: string[] | "organization";
  /** SWEEP_REGIONS. Default: the stack's region. */
  readonly sweepRegions?: string[];
}

/** A prefix IAM is scoped to: at least 2 characters other than `/`. */
function checkPrefix(name: string, prefix: string): string {
  if (prefix.replace(/\//g, "").length < 2) {
    throw new Error(`${name} ${JSON.stringify(prefix)} is too broad: it needs at least 2 characters other than '/'`);
  }
  return prefix;
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
  readonly rules: events.Rule[] = [];
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: DbSecretProvisionerProps) {
    super(scope, id);
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

    const env: Record<string, string> = {
      SECRET_NAME_TEMPLATE: props.secretNameTemplate ?? "db-secrets/{service}/{identifier}/{username}",
      SECRET_NAME_PREFIX: secretPrefix,
      PASSWORD_PARAMETER_TEMPLATE: props.passwordParameterTemplate ?? "/db-secrets/{service}/{identifier}/{username}",
      PASSWORD_PARAMETER_PREFIX: parameterPrefix,
      USER_EVENT_SOURCE: userEventSources.join(","),
      EXISTING_SECRET: props.existingSecret ?? "keep",
      DELETE_PASSWORD_PARAMETER: String(props.deletePasswordParameter ?? false),
      MISSING_PASSWORD_PARAMETER: props.missingPasswordParameter ?? "skip",
      FORCE_OVERWRITE_REPLICA_SECRET: String(props.forceOverwriteReplicaSecret ?? false),
      WAIT_FOR_AVAILABLE_SECONDS: String(props.waitForAvailableSeconds ?? 600),
      FOLLOW_CONNECTION_CHANGES: String(props.followConnectionChanges ?? true),
      ON_DATABASE_DELETED: props.onDatabaseDeleted ?? "tag",
      RECOVERY_WINDOW_DAYS: String(props.recoveryWindowDays ?? 30),
      MAX_RETIRE_PER_RUN: String(props.maxRetirePerRun ?? 10),
    };
    const hub = props.hub;
    const memberRoleName = hub?.memberRoleName ?? "db-secret-provisioner-member";
    const listOf = (v: string[] | "organization") => (v === "organization" ? v : v.join(","));
    if (hub) {
      env.MEMBER_ACCOUNTS = listOf(hub.memberAccounts);
      env.MEMBER_ROLE_NAME = memberRoleName;
      if (hub.sweepAccounts) env.SWEEP_ACCOUNTS = listOf(hub.sweepAccounts);
      if (hub.sweepRegions?.length) env.SWEEP_REGIONS = hub.sweepRegions.join(",");
    }
    if (props.secretDescriptionTemplate) env.SECRET_DESCRIPTION_TEMPLATE = props.secretDescriptionTemplate;
    if (props.kmsKeyArn) env.KMS_KEY_ID = props.kmsKeyArn;
    if (props.secretTags) {
      env.SECRET_TAGS = Object.entries(props.secretTags).map(([k, v]) => `${k}=${v}`).join(",");
    }
    if (props.replicaRegions?.length) env.REPLICA_REGIONS = props.replicaRegions.join(",");
    if (props.replicaKmsKeyArns?.length) env.REPLICA_KMS_KEY_ARNS = props.replicaKmsKeyArns.join(",");
    if (props.resourcePolicy) env.RESOURCE_POLICY = JSON.stringify(props.resourcePolicy);
    if (rotationFunctions.length) {
      env.ROTATION_LAMBDA_ARNS = rotationFunctions.map(([k, arn]) => `${k}=${arn}`).join(",");
      env.ROTATION_SCHEDULE = props.rotation!.schedule;
    }

    // The function's own role, without managed policies: what Lambda and the function do, no more.
    this.role = new iam.Role(this, "Role", {
      // A fixed name in hub mode: the member roles trust it by name (aws:PrincipalArn).
      roleName: hub ? (hub.roleName ?? "db-secret-provisioner-hub") : undefined,
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "db-secret-provisioner function role",
    });
    // The seal key (as template.yaml's SealKey): the account's administrators manage it but
    // cannot use it; only the function's role makes and checks MACs with it. KMS does not
    // rotate HMAC keys. Multi-Region when secrets are replicated.
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
            principals: [this.role],
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
      reservedConcurrentExecutions: props.reservedConcurrency,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: env,
    });
    // The on-failure destination without the grant SqsDestination adds (it also grants
    // GetQueueAttributes and GetQueueUrl, which Lambda does not use): SendMessage below.
    const failedQueueArn = this.failedInvocationQueue.queueArn;
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: { bind: () => ({ destination: failedQueueArn }) },
    });

    // In hub mode the function works in every region of its own account too.
    const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
    const secrets = [`arn:${stack.partition}:secretsmanager:${hub ? "*" : stack.region}:${stack.account}:secret:${secretPrefix}*`];
    const own = { StringEquals: { "secretsmanager:ResourceTag/managed-by": "db-secret-provisioner" } };

    allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${logGroup.logGroupArn}`]);
    allow("SendFailedInvocations", ["sqs:SendMessage"], [failedQueueArn]);
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
      this.role.addToPolicy(st);
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
    if (hub) {
      // The member role in each member account, nothing else.
      allow("AssumeMemberRoles", ["sts:AssumeRole"], [`arn:${stack.partition}:iam::*:role/${memberRoleName}`]);
      if (hub.sweepAccounts === "organization") {
        allow("ListOrganizationAccounts", ["organizations:ListAccounts"], ["*"]);
      }
    }
    // Each wildcard cdk-nag finds, named: the narrowest AWS allows.
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const wildcard = (service: string, resource: string) => ({
      regex: `/^Resource::arn:<AWS::Partition>:${service}:(<AWS::Region>|[a-z0-9-]+|\\*):(<AWS::AccountId>|[0-9]{12}):${escape(resource)}\\*$/g`,
    });
    NagSuppressions.addResourceSuppressions(this.role, [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Listings (DescribeDBInstances, DescribeDBClusters, DescribeClusters, ListWorkgroups, ListNamespaces) and DescribeEvents and Redshift DescribeClusterSnapshots name no single resource and authorize on '*'; " +
          "tests/deploy/iam_contract.py proves the statement necessary.",
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
          reason: "Hub mode: the member role has one fixed name in every member account; the account is the event's, which the function checks against MEMBER_ACCOUNTS.",
          appliesTo: [`Resource::arn:<AWS::Partition>:iam::*:role/${memberRoleName}`],
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
      new events.CfnEventBusPolicy(this, "HubEventBusPolicy", {
        eventBusName: this.hubEventBus.eventBusName,
        statementId: "OrganizationMembers",
        statement: {
          Effect: "Allow",
          Principal: "*",
          Action: "events:PutEvents",
          Resource: this.hubEventBus.eventBusArn,
          Condition: { StringEquals: { "aws:PrincipalOrgID": hub.organizationId } },
        },
      });
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
      // An Allow alone does not restrict principals of the same account: an explicit Deny does.
      new events.CfnEventBusPolicy(this, "UserEventBusPolicy", {
        eventBusName: this.userEventBus.eventBusName,
        statementId: "OnlyUserEventSenders",
        statement: {
          Effect: "Deny",
          Principal: "*",
          Action: "events:PutEvents",
          Resource: this.userEventBus.eventBusArn,
          Condition: { ArnNotLike: { "aws:PrincipalArn": props.userEventSenders } },
        },
      });
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
      // Members' user events: from any member account (the function checks MEMBER_ACCOUNTS).
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
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        alarmDescription: description,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
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
    for (const errorType of ALARMING_ERROR_TYPES) {
      const filter = new logs.MetricFilter(this, `${errorType}Metric`, {
        logGroup,
        filterPattern: logs.FilterPattern.stringValue("$.fields.error_type", "=", errorType),
        metricNamespace: "db-secret-provisioner",
        metricName: errorType,
        metricValue: "1",
        unit: cloudwatch.Unit.COUNT,
      });
      alarm(`${errorType}Alarm`, filter.metric({ statistic: "Sum", period: Duration.minutes(5) }),
        `${errorType}: see the function's log line with this error_type (docs/operations.md).`);
    }
    // One "secret flagged" line per secret the function would not write a password into.
    const flagged = new logs.MetricFilter(this, "FlaggedSecretsMetric", {
      logGroup,
      filterPattern: logs.FilterPattern.stringValue("$.fields.message", "=", "secret flagged"),
      metricNamespace: "db-secret-provisioner",
      metricName: "FlaggedSecrets",
      metricValue: "1",
      unit: cloudwatch.Unit.COUNT,
    });
    alarm("FlaggedSecretsAlarm", flagged.metric({ statistic: "Sum", period: Duration.minutes(5) }),
      "FlaggedSecrets: a secret exists for a database but carries no seal, so no password was written into it (docs/outcomes.md).");
    // Port changes whose wait ran out: the sweep finishes them (counted apart, no alarm).
    new logs.MetricFilter(this, "PortChangesLeftToSweepMetric", {
      logGroup,
      filterPattern: logs.FilterPattern.stringValue("$.fields.message", "=", "port change left to the sweep"),
      metricNamespace: "db-secret-provisioner",
      metricName: "PortChangesLeftToSweep",
      metricValue: "1",
      unit: cloudwatch.Unit.COUNT,
    });
    // One "rotation stuck" line per secret, version and UTC day.
    const stuck = new logs.MetricFilter(this, "RotationStuckMetric", {
      logGroup,
      filterPattern: logs.FilterPattern.stringValue("$.fields.message", "=", "rotation stuck"),
      metricNamespace: "db-secret-provisioner",
      metricName: "RotationStuck",
      metricValue: "1",
      unit: cloudwatch.Unit.COUNT,
    });
    alarm("RotationStuckAlarm", stuck.metric({ statistic: "Sum", period: Duration.minutes(5) }),
      "RotationStuck: a failed rotation left AWSPENDING on a secret past its rotation window; remove the label once fixed (docs/outcomes.md).");
  }
}

import { Duration, Stack } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** The function's configuration, as construct props (see the README's configuration table). */
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
  /** KMS key for the secrets (id, ARN or alias). Default: the AWS managed key. */
  readonly kmsKeyId?: string;
  /** Key ARN the function may use; without it KMS use is limited to SSM and Secrets Manager. */
  readonly kmsKeyArn?: string;
  readonly secretTags?: Record<string, string>;
  /** Replica regions, each with an optional KMS key. */
  readonly replicaRegions?: { region: string; kmsKeyId?: string }[];
  readonly forceOverwriteReplicaSecret?: boolean;
  /** A resource policy document attached with BlockPublicPolicy. */
  readonly resourcePolicy?: object;
  readonly rotation?: { lambdaArn: string; schedule: string };
  readonly existingSecret?: "keep" | "update";
  readonly deletePasswordParameter?: boolean;
  readonly waitForAvailableSeconds?: number;
  /** Sources of your "Database User Created" events (USER_EVENT_SOURCE). Default: com.example.provisioning. */
  readonly userEventSources?: string[];
  /**
   * Principal ARN patterns allowed to put events on the user-event bus. When given, the bus
   * policy denies events:PutEvents to every other principal.
   */
  readonly userEventSenders?: string[];
  /** Reserved concurrent executions; none by default (a reservation can fail to deploy). */
  readonly reservedConcurrency?: number;
  /** Reconcile sweep schedule; `null` turns the sweep off. Default: rate(1 day). */
  readonly reconcileSchedule?: string | null;
}

/** The provisioner function, one EventBridge rule per trigger family, DLQs and least-privilege IAM. */
/** A prefix IAM is scoped to: at least 2 characters other than `/`. */
function checkPrefix(name: string, prefix: string): string {
  if (prefix.replace(/\//g, "").length < 2) {
    throw new Error(`${name} ${JSON.stringify(prefix)} is too broad: it needs at least 2 characters other than '/'`);
  }
  return prefix;
}

export class DbSecretProvisioner extends Construct {
  readonly function: lambda.Function;
  readonly userEventBus: events.EventBus;
  readonly eventDeliveryDlq: sqs.Queue;
  readonly failedInvocationQueue: sqs.Queue;
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: DbSecretProvisionerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const secretPrefix = checkPrefix("secretNamePrefix", props.secretNamePrefix ?? "db-secrets/");
    const parameterPrefix = checkPrefix("parameterPrefix", props.parameterPrefix ?? "/db-secrets/");
    const userEventSources = props.userEventSources ?? ["com.example.provisioning"];

    this.eventDeliveryDlq = new sqs.Queue(this, "EventDeliveryDLQ", {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.failedInvocationQueue = new sqs.Queue(this, "FailedInvocationQueue", {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });

    const env: Record<string, string> = {
      SECRET_NAME_TEMPLATE: props.secretNameTemplate ?? "db-secrets/{service}/{identifier}/{username}",
      SECRET_NAME_PREFIX: secretPrefix,
      PASSWORD_PARAMETER_TEMPLATE: props.passwordParameterTemplate ?? "/db-secrets/{service}/{identifier}/{username}",
      PASSWORD_PARAMETER_PREFIX: parameterPrefix,
      USER_EVENT_SOURCE: userEventSources.join(","),
      EXISTING_SECRET: props.existingSecret ?? "keep",
      DELETE_PASSWORD_PARAMETER: String(props.deletePasswordParameter ?? false),
      FORCE_OVERWRITE_REPLICA_SECRET: String(props.forceOverwriteReplicaSecret ?? false),
      WAIT_FOR_AVAILABLE_SECONDS: String(props.waitForAvailableSeconds ?? 600),
    };
    if (props.secretDescriptionTemplate) env.SECRET_DESCRIPTION_TEMPLATE = props.secretDescriptionTemplate;
    if (props.kmsKeyId) env.KMS_KEY_ID = props.kmsKeyId;
    if (props.secretTags) {
      env.SECRET_TAGS = Object.entries(props.secretTags).map(([k, v]) => `${k}=${v}`).join(",");
    }
    if (props.replicaRegions?.length) {
      env.REPLICA_REGIONS = props.replicaRegions
        .map((r) => (r.kmsKeyId ? `${r.region}=${r.kmsKeyId}` : r.region))
        .join(",");
    }
    if (props.resourcePolicy) env.RESOURCE_POLICY = JSON.stringify(props.resourcePolicy);
    if (props.rotation) {
      env.ROTATION_LAMBDA_ARN = props.rotation.lambdaArn;
      env.ROTATION_SCHEDULE = props.rotation.schedule;
    }

    this.function = new lambda.Function(this, "Function", {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: "bootstrap",
      code: lambda.Code.fromAsset(props.codePath),
      memorySize: 128,
      timeout: Duration.seconds(900),
      reservedConcurrentExecutions: props.reservedConcurrency,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: env,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.failedInvocationQueue),
    });

    const arn = (service: string, resource: string, region = stack.region) =>
      `arn:${stack.partition}:${service}:${region}:${stack.account}:${resource}`;
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    allow(["rds:DescribeDBInstances", "rds:DescribeDBClusters"], [arn("rds", "db:*"), arn("rds", "cluster:*")]);
    allow(["redshift:DescribeClusters"], [arn("redshift", "cluster:*")]);
    allow(
      ["redshift-serverless:GetWorkgroup", "redshift-serverless:GetNamespace"],
      [arn("redshift-serverless", "workgroup/*"), arn("redshift-serverless", "namespace/*")],
    );
    allow(["redshift-serverless:ListWorkgroups"], ["*"]);
    const parameters = [arn("ssm", `parameter${parameterPrefix}*`)];
    allow(["ssm:GetParameter", "ssm:GetParametersByPath"], parameters);
    if (props.deletePasswordParameter) allow(["ssm:DeleteParameter"], parameters);
    const secrets = [arn("secretsmanager", `secret:${secretPrefix}*`)];
    // Any secret in the prefix may be described (a foreign one answers SecretConflict); replicas
    // live in other regions under the same name.
    allow(["secretsmanager:DescribeSecret"], [arn("secretsmanager", `secret:${secretPrefix}*`, "*")]);
    // New secrets only with the managed-by tag (CreateSecret with Tags implies TagResource).
    allow(["secretsmanager:CreateSecret", "secretsmanager:TagResource"], secrets, {
      StringEquals: { "aws:RequestTag/managed-by": "db-secret-provisioner" },
    });
    // Changes only to secrets that carry the managed-by tag, and only those an option needs.
    const own = { StringEquals: { "secretsmanager:ResourceTag/managed-by": "db-secret-provisioner" } };
    if (props.rotation) allow(["secretsmanager:RotateSecret"], secrets, own);
    if (props.replicaRegions?.length) allow(["secretsmanager:ReplicateSecretToRegions"], secrets, own);
    if (props.resourcePolicy) allow(["secretsmanager:PutResourcePolicy"], secrets, own);
    if (props.existingSecret === "update") {
      allow(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], secrets, own);
    }
    if (props.kmsKeyArn) {
      allow(["kms:Decrypt", "kms:GenerateDataKey"], [props.kmsKeyArn]);
    } else {
      allow(["kms:Decrypt", "kms:GenerateDataKey"], [arn("kms", "key/*", "*")], {
        StringLike: { "kms:ViaService": [`ssm.${stack.region}.amazonaws.com`, "secretsmanager.*.amazonaws.com"] },
      });
    }
    if (props.rotation) allow(["lambda:InvokeFunction"], [props.rotation.lambdaArn]);

    const target = () =>
      new targets.LambdaFunction(this.function, {
        deadLetterQueue: this.eventDeliveryDlq,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      });
    const rule = (id: string, eventPattern: events.EventPattern) =>
      this.rules.push(new events.Rule(this, id, { eventPattern, targets: [target()] }));

    rule("RdsCreated", {
      source: ["aws.rds"],
      detailType: ["RDS DB Instance Event", "RDS DB Cluster Event"],
      detail: { EventID: ["RDS-EVENT-0005", "RDS-EVENT-0043", "RDS-EVENT-0019", "RDS-EVENT-0170"] },
    });
    rule("CloudTrailCreateCalls", {
      source: ["aws.rds", "aws.redshift", "aws.redshift-serverless"],
      detailType: ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["rds.amazonaws.com", "redshift.amazonaws.com", "redshift-serverless.amazonaws.com"],
        eventName: ["CreateDBInstance", "CreateDBCluster", "CreateCluster", "CreateWorkgroup"],
      },
    });
    rule("ServerlessWorkgroupCreated", {
      source: ["aws.redshift-serverless"],
      detailType: events.Match.anythingBut("AWS API Call via CloudTrail"),
    });
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
  }
}

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
  /** Source of your "Database User Created" events. */
  readonly userEventSource?: string;
  /** Reconcile sweep schedule; `null` turns the sweep off. Default: rate(1 day). */
  readonly reconcileSchedule?: string | null;
}

/** The provisioner function, one EventBridge rule per trigger family, DLQs and least-privilege IAM. */
export class DbSecretProvisioner extends Construct {
  readonly function: lambda.Function;
  readonly eventDeliveryDlq: sqs.Queue;
  readonly failedInvocationQueue: sqs.Queue;
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: DbSecretProvisionerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const secretPrefix = props.secretNamePrefix ?? "db-secrets/";
    const parameterPrefix = props.parameterPrefix ?? "/db-secrets/";

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
      PASSWORD_PARAMETER_TEMPLATE: props.passwordParameterTemplate ?? "/db-secrets/{service}/{identifier}/{username}",
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
    allow(
      ["ssm:GetParameter", "ssm:GetParametersByPath", "ssm:DeleteParameter"],
      [arn("ssm", `parameter${parameterPrefix}*`)],
    );
    allow(
      [
        "secretsmanager:CreateSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:TagResource",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:ReplicateSecretToRegions",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:RotateSecret",
      ],
      [arn("secretsmanager", `secret:${secretPrefix}*`, "*")],
    );
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
    rule("DatabaseUserCreated", {
      source: [props.userEventSource ?? "com.example.provisioning"],
      detailType: ["Database User Created"],
    });
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

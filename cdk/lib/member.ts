import { Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";
import { jobStatements } from "./permissions";
import { serviceTriggers } from "./triggers";

/** A member account of a hub (deploy/member.yaml as a construct; see docs/organization.md). */
export interface DbSecretProvisionerMemberProps {
  /** The hub stack's account. */
  readonly hubAccountId: string;
  /** The hub stack's HubEventBusArn. */
  readonly hubEventBusArn: string;
  /** The organization the hub's role must belong to (aws:PrincipalOrgID). */
  readonly organizationId: string;
  /** The fixed name of the hub function's role (default db-secret-provisioner-hub). */
  readonly hubRoleName?: string;
  /** The role the hub assumes here (default db-secret-provisioner-member). */
  readonly memberRoleName?: string;
  /** Create the member role in this stack: in one region's stack only (IAM is global). */
  readonly createRole: boolean;
  readonly secretNamePrefix?: string;
  readonly parameterPrefix?: string;
  readonly userEventSources?: string[];
  /** What the hub does here (match the hub's configuration). */
  readonly existingSecret?: "keep" | "update";
  readonly deletePasswordParameter?: boolean;
  readonly followConnectionChanges?: boolean;
  readonly onDatabaseDeleted?: "tag" | "schedule-deletion" | "ignore";
  readonly replicas?: boolean;
  readonly resourcePolicy?: boolean;
  readonly cloudTrailTriggers?: boolean;
}

/** Forwards this account's database events to the hub bus; the role the hub assumes here. */
export class DbSecretProvisionerMember extends Construct {
  readonly role?: iam.Role;
  readonly userEventBus: events.EventBus;
  readonly forwardDlq: sqs.Queue;
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: DbSecretProvisionerMemberProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const secretPrefix = props.secretNamePrefix ?? "db-secrets/";
    const parameterPrefix = props.parameterPrefix ?? "/db-secrets/";

    if (props.createRole) {
      // The function's own permissions, in this account, in every region.
      const statements = jobStatements({
        partition: stack.partition,
        account: stack.account,
        region: "*",
        secretNamePrefix: secretPrefix,
        parameterPrefix,
        deletePasswordParameter: props.deletePasswordParameter,
        replicas: props.replicas,
        resourcePolicy: props.resourcePolicy,
        existingSecret: props.existingSecret,
        followConnectionChanges: props.followConnectionChanges,
        onDatabaseDeleted: props.onDatabaseDeleted,
      });
      const hubRole = `arn:${stack.partition}:iam::${props.hubAccountId}:role/${props.hubRoleName ?? "db-secret-provisioner-hub"}`;
      this.role = new iam.Role(this, "MemberRole", {
        roleName: props.memberRoleName ?? "db-secret-provisioner-member",
        description: "db-secret-provisioner member role, assumed by the hub function",
        maxSessionDuration: Duration.hours(1),
        // By name: the condition survives the hub role being replaced.
        assumedBy: new iam.AccountPrincipal(props.hubAccountId).withConditions({
          ArnEquals: { "aws:PrincipalArn": hubRole },
          StringEquals: { "aws:PrincipalOrgID": props.organizationId },
        }),
        inlinePolicies: { "db-secret-provisioner": new iam.PolicyDocument({ statements }) },
      });
      NagSuppressions.addResourceSuppressions(this.role, [
        {
          id: "AwsSolutions-IAM5",
          reason:
            "The hub works in every region of this account ('*' region); listings authorize on '*'; secret and parameter names derive " +
            "from each database under the operator's prefixes; Serverless ids are assigned by AWS. tests/deploy/iam_contract.py proves each statement necessary.",
        },
      ]);
    }

    // Events EventBridge could not forward.
    this.forwardDlq = new sqs.Queue(this, "ForwardDLQ", {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    NagSuppressions.addResourceSuppressions(this.forwardDlq, [
      { id: "AwsSolutions-SQS3", reason: "This queue is itself the dead-letter queue of the forwarding rules; an alarm watches its depth." },
    ]);
    new cloudwatch.Alarm(this, "ForwardDLQNotEmptyAlarm", {
      metric: this.forwardDlq.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: Duration.minutes(5) }),
      alarmDescription: "Database events could not be forwarded to the hub.",
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // A role for EventBridge to put events on the hub's bus (required when the permission
    // comes from the organization).
    const forwardRole = new iam.Role(this, "ForwardRole", {
      assumedBy: new iam.ServicePrincipal("events.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
      }),
      inlinePolicies: {
        "put-events-on-hub-bus": new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ["events:PutEvents"], resources: [props.hubEventBusArn] })],
        }),
      },
    });
    const hubBus = events.EventBus.fromEventBusArn(this, "HubEventBus", props.hubEventBusArn);
    const target = () =>
      new targets.EventBus(hubBus, { role: forwardRole, deadLetterQueue: this.forwardDlq });
    const forward = (id: string, eventPattern: events.EventPattern, enabled = true, eventBus?: events.IEventBus) => {
      const rule = new events.Rule(this, id, { eventPattern, enabled, eventBus, targets: [target()] });
      // The EventBus target has no retry-policy prop: set it on the rule's target.
      (rule.node.defaultChild as events.CfnRule).addPropertyOverride("Targets.0.RetryPolicy", {
        MaximumRetryAttempts: 185,
        MaximumEventAgeInSeconds: 86400,
      });
      this.rules.push(rule);
    };
    for (const t of serviceTriggers) {
      forward(t.id, t.pattern, t.cloudTrail ? props.cloudTrailTriggers ?? true : true);
    }
    // This account's pipelines put "Database User Created" here; they are forwarded to the hub.
    this.userEventBus = new events.EventBus(this, "UserEventBus", {
      eventBusName: `${stack.stackName}-user-events`,
    });
    forward("DatabaseUserCreated", {
      source: props.userEventSources ?? ["com.example.provisioning"],
      detailType: ["Database User Created"],
      account: [stack.account],
    }, true, this.userEventBus);
  }
}

import { Aws, CfnCondition, CfnResource, Duration, Fn, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";
import { ACCOUNT_ID, aliasKeyStatements, jobStatements, KMS_ALIAS, ORGANIZATION_ID, REGION, onlyUserEventSenders } from "./permissions";
import { DEFAULT_HUB_ROLE_NAME, FORWARD_ROLE_PATH, HUB_ROLE_NAME } from "./provisioner";
import { refuse, Refusal } from "./refusal";
import { serviceTriggers } from "./triggers";

/** The SourceIdentity the hub sets on every member session (the only one the member role lets it set). */
export const SOURCE_IDENTITY = "db-secret-provisioner";

/** A member account of a hub (deploy/member.yaml as a construct; see docs/organization.md). */
export interface DbSecretProvisionerMemberProps {
  /** The hub stack's account. */
  readonly hubAccountId: string;
  /** The hub stack's HubEventBusArn. */
  readonly hubEventBusArn: string;
  /** The organization the hub's role must belong to (aws:PrincipalOrgID): the hub's ORGANIZATION_ID. */
  readonly organizationId: string;
  /**
   * The fixed name of the hub function's role (default db-secret-provisioner-hub), at most 57
   * characters: the hub's worker role is named it with `-worker`, and both are trusted.
   */
  readonly hubRoleName?: string;
  /** The role the hub assumes here (default db-secret-provisioner-member). */
  readonly memberRoleName?: string;
  /**
   * The one region whose stack creates the member role (IAM is global: a fixed-name role would
   * collide in the other regions' stacks). No default: a StackSet of other regions would create no
   * role at all, and every event would answer MemberAccessDenied.
   */
  readonly roleRegion: string;
  readonly secretNamePrefix?: string;
  readonly parameterPrefix?: string;
  readonly userEventSources?: string[];
  /**
   * Principal ARN patterns allowed to put events on this account's user-event bus; when given,
   * the bus policy denies events:PutEvents to every other principal (as the hub's own
   * userEventSenders).
   */
  readonly userEventSenders?: string[];
  /** The hub's kmsKeyAlias (`alias/NAME`), which names this account's key in each region. */
  readonly kmsKeyAlias?: string;
  /** The aliases of the hub's replicaKmsKeyAliases (`alias/NAME` each). */
  readonly replicaKmsKeyAliases?: string[];
  /** What the hub does here (match the hub's configuration). */
  readonly existingSecret?: "keep" | "update";
  readonly deletePasswordParameter?: boolean;
  readonly followConnectionChanges?: boolean;
  readonly onDatabaseDeleted?: "tag" | "schedule-deletion" | "ignore";
  readonly replicas?: boolean;
  readonly resourcePolicy?: boolean;
  readonly cloudTrailTriggers?: boolean;
}

/** What the member stack refuses (deploy/member.yaml's AllowedPatterns refuse the same). */
export function memberRefusalsOf(props: DbSecretProvisionerMemberProps): Refusal[] {
  const out: Refusal[] = [];
  const bad = (prop: string, parameter: string, reason: string) => out.push({ props: [prop], parameters: [parameter], reason });
  if (!ACCOUNT_ID.test(props.hubAccountId)) bad("hubAccountId", "HubAccountId", `${JSON.stringify(props.hubAccountId)} is not a 12-digit account id`);
  if (!ORGANIZATION_ID.test(props.organizationId)) {
    bad("organizationId", "OrganizationId", `${JSON.stringify(props.organizationId)} is not an organization id (o- and 10 to 32 lowercase letters or digits)`);
  }
  if (!REGION.test(props.roleRegion ?? "")) bad("roleRegion", "RoleRegion", `${JSON.stringify(props.roleRegion)} is not a region name`);
  if (props.hubRoleName !== undefined && !HUB_ROLE_NAME.test(props.hubRoleName)) {
    bad("hubRoleName", "HubRoleName", `${JSON.stringify(props.hubRoleName)} is not a role name of 1 to 57 characters (A-Z a-z 0-9 +=,.@_-): the hub's worker role is named it with -worker`);
  }
  if (props.kmsKeyAlias !== undefined && !KMS_ALIAS.test(props.kmsKeyAlias)) {
    bad("kmsKeyAlias", "KmsKeyAlias", `${JSON.stringify(props.kmsKeyAlias)} is not alias/NAME`);
  }
  for (const alias of (props.replicaKmsKeyAliases ?? []).filter((a) => !KMS_ALIAS.test(a))) {
    bad("replicaKmsKeyAliases", "ReplicaKmsKeyAliases", `${JSON.stringify(alias)} is not alias/NAME`);
  }
  return out;
}

/**
 * The trust of the member role: the hub's roles, by name (the condition survives a role being
 * replaced): the hub function's (events) and its worker's (the organization sweep, one
 * account-region per message), within the organization, may assume it, and may set SourceIdentity
 * db-secret-provisioner only, so that this account's CloudTrail shows which calls were the hub's
 * (and RoleSessionName which event's). AssumeRole with SourceIdentity needs sts:SetSourceIdentity
 * in the trust policy (IAM User Guide, "Monitor and control actions taken with assumed roles":
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html).
 */
class HubRolePrincipal extends iam.AccountPrincipal {
  constructor(hubAccountId: string, private readonly hubRole: iam.Conditions) {
    super(hubAccountId);
  }

  addToAssumeRolePolicy(doc: iam.PolicyDocument): void {
    const principals = [new iam.AccountPrincipal(this.accountId)];
    // Every session must carry the source identity (the function always sets it), so none
    // acts in this account without naming who it is.
    const conditions = {
      ...this.hubRole,
      StringEquals: { ...(this.hubRole.StringEquals as object), "sts:SourceIdentity": SOURCE_IDENTITY },
    };
    doc.addStatements(
      new iam.PolicyStatement({ sid: "HubRole", actions: ["sts:AssumeRole"], principals, conditions }),
      new iam.PolicyStatement({
        sid: "HubRoleSourceIdentity",
        actions: ["sts:SetSourceIdentity"],
        principals,
        conditions,
      }),
    );
  }
}

/** Forwards this account's database events to the hub bus; the role the hub assumes here. */
export class DbSecretProvisionerMember extends Construct {
  /** The role the hub assumes (created in roleRegion's stack only: see roleCondition). */
  readonly role: iam.Role;
  /** True in roleRegion's stack: the role and its output exist there only. */
  readonly roleCondition: CfnCondition;
  readonly userEventBus: events.EventBus;
  readonly forwardDlq: sqs.Queue;
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: DbSecretProvisionerMemberProps) {
    super(scope, id);
    refuse(memberRefusalsOf(props));
    const stack = Stack.of(this);
    const secretPrefix = props.secretNamePrefix ?? "db-secrets/";
    const parameterPrefix = props.parameterPrefix ?? "/db-secrets/";

    this.roleCondition = new CfnCondition(this, "IsRoleRegion", {
      expression: Fn.conditionEquals(Aws.REGION, props.roleRegion),
    });
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
    // The hub's keys by alias, this account's keys in every region.
    statements.push(...aliasKeyStatements({
      partition: stack.partition,
      account: stack.account,
      keyAlias: props.kmsKeyAlias,
      replicaKeyAliases: props.replicaKmsKeyAliases,
    }));
    // Right after AssumeRole the function asks, in this session, which organization this
    // account belongs to, and refuses one other than ORGANIZATION_ID. Any account of an
    // organization may call it; it authorizes on "*" only (Organizations API Reference,
    // DescribeOrganization:
    // https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeOrganization.html).
    statements.push(new iam.PolicyStatement({
      sid: "DescribeOwnOrganization",
      actions: ["organizations:DescribeOrganization"],
      resources: ["*"],
    }));
    const hubRole = `arn:${stack.partition}:iam::${props.hubAccountId}:role/${props.hubRoleName ?? DEFAULT_HUB_ROLE_NAME}`;
    this.role = new iam.Role(this, "MemberRole", {
      roleName: props.memberRoleName ?? "db-secret-provisioner-member",
      description: "db-secret-provisioner member role, assumed by the hub function",
      maxSessionDuration: Duration.hours(1),
      assumedBy: new HubRolePrincipal(props.hubAccountId, {
        ArnEquals: { "aws:PrincipalArn": [hubRole, `${hubRole}-worker`] },
        StringEquals: { "aws:PrincipalOrgID": props.organizationId },
      }),
      inlinePolicies: { "db-secret-provisioner": new iam.PolicyDocument({ statements }) },
    });
    (this.role.node.defaultChild as CfnResource).cfnOptions.condition = this.roleCondition;
    NagSuppressions.addResourceSuppressions(this.role, [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "The hub works in every region of this account ('*' region); listings and organizations:DescribeOrganization authorize on '*'; " +
          "secret and parameter names derive from each database under the operator's prefixes; Serverless ids are assigned by AWS; " +
          "keys given by alias are granted on this account's keys that carry the alias (kms:ResourceAliases; IAM names keys only by key ARN), " +
          "through Secrets Manager. tests/deploy/iam_contract.py proves each statement necessary.",
      },
    ]);

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
    // comes from the organization). The hub bus lets in only roles under this path; one per
    // region, since the stack is.
    const forwardRole = new iam.Role(this, "ForwardRole", {
      path: FORWARD_ROLE_PATH,
      roleName: `db-secret-provisioner-forward-${stack.region}`,
      description: "db-secret-provisioner forwarding of database events to the hub bus",
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
    if (props.userEventSenders?.length) {
      onlyUserEventSenders(this, this.userEventBus, props.userEventSenders);
    }
    forward("DatabaseUserCreated", {
      source: props.userEventSources ?? ["com.example.provisioning"],
      detailType: ["Database User Created"],
      account: [stack.account],
    }, true, this.userEventBus);
  }
}

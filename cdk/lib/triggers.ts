import * as events from "aws-cdk-lib/aws-events";

/** One EventBridge rule for AWS service events; `cloudTrail` rules follow the cloudTrailTriggers prop. */
export interface ServiceTrigger {
  id: string;
  pattern: events.EventPattern;
  cloudTrail?: boolean;
}

/**
 * The AWS service events that trigger the function, shared by the provisioner (its own account
 * and the hub bus) and the member construct (forwarded to the hub). `make cdk-check` compares the
 * synthesized rules with the code's trigger table.
 */
export const serviceTriggers: ServiceTrigger[] = [
  // Created (0005, 0043, 0019, 0170) and deleted (0003, 0171); renames and Blue/Green events
  // are not triggers.
  {
    id: "RdsEvents",
    pattern: {
      source: ["aws.rds"],
      detailType: ["RDS DB Instance Event", "RDS DB Cluster Event"],
      detail: {
        EventID: ["RDS-EVENT-0005", "RDS-EVENT-0043", "RDS-EVENT-0019", "RDS-EVENT-0170", "RDS-EVENT-0003", "RDS-EVENT-0171", "RDS-EVENT-0016"],
      },
    },
  },
  // EventBridge delivers CloudTrail events only where a trail logs management events.
  {
    id: "CloudTrailCalls",
    cloudTrail: true,
    pattern: {
      source: ["aws.rds", "aws.redshift", "aws.redshift-serverless"],
      detailType: ["AWS API Call via CloudTrail"],
      detail: {
        eventSource: ["rds.amazonaws.com", "redshift.amazonaws.com", "redshift-serverless.amazonaws.com"],
        // Modify/Update calls without a port change answer ignored.
        eventName: [
          "CreateDBInstance", "CreateDBCluster", "CreateCluster", "CreateWorkgroup",
          "ModifyDBInstance", "ModifyDBCluster", "ModifyCluster", "UpdateWorkgroup", "UpdateNamespace",
          "DeleteDBInstance", "DeleteDBCluster", "DeleteCluster", "DeleteWorkgroup",
          "RestoreDBInstanceFromDBSnapshot", "RestoreDBInstanceToPointInTime",
          "RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime",
          "RestoreFromClusterSnapshot", "RestoreFromSnapshot",
          "RestoreDBInstanceFromS3", "RestoreDBClusterFromS3",
        ],
      },
    },
  },
  // REDSHIFT-SERVERLESS-EVENT-1008 (created) and 1009 (deleted) are in the Management category.
  {
    id: "ServerlessEvents",
    pattern: {
      source: ["aws.redshift-serverless"],
      detailType: ["Redshift Serverless Management"],
    },
  },
];

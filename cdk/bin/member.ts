#!/usr/bin/env node
// The member stack of a hub, as CDK (deploy/member.yaml is the StackSets form). Context:
//   npx cdk deploy --app "node dist/bin/member.js" -c hubAccountId=... -c hubEventBusArn=... \
//       -c organizationId=o-... -c createRole=true
// cdk-nag's AwsSolutions pack runs on every synth: an unsuppressed finding fails it.
import { App, Aspects, CfnOutput, Stack } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { DbSecretProvisionerMember } from "../lib/member";

const app = new App();
const ctx = (key: string): string | undefined => app.node.tryGetContext(key) || undefined;
const required = (key: string): string => {
  const v = ctx(key);
  if (!v) throw new Error(`context ${key} is required (-c ${key}=...)`);
  return v;
};
const stack = new Stack(app, ctx("stackName") ?? "DbSecretProvisionerMember", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
const member = new DbSecretProvisionerMember(stack, "Member", {
  hubAccountId: required("hubAccountId"),
  hubEventBusArn: required("hubEventBusArn"),
  organizationId: required("organizationId"),
  hubRoleName: ctx("hubRoleName"),
  memberRoleName: ctx("memberRoleName"),
  createRole: ctx("createRole") === "true",
  secretNamePrefix: ctx("secretNamePrefix"),
  parameterPrefix: ctx("parameterPrefix"),
  userEventSources: ctx("userEventSources")?.split(","),
  existingSecret: ctx("existingSecret") === "update" ? "update" : "keep",
  deletePasswordParameter: ctx("deletePasswordParameter") === "true",
  followConnectionChanges: ctx("followConnectionChanges") !== "false",
  onDatabaseDeleted: (ctx("onDatabaseDeleted") ?? "tag") as "tag" | "schedule-deletion" | "ignore",
  replicas: ctx("replicas") === "true",
  resourcePolicy: ctx("resourcePolicy") === "true",
  cloudTrailTriggers: ctx("cloudTrailTriggers") !== "false",
});
if (member.role) new CfnOutput(stack, "MemberRoleArn", { value: member.role.roleArn });
new CfnOutput(stack, "UserEventBusName", { value: member.userEventBus.eventBusName });
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));

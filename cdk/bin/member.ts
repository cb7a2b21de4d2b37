#!/usr/bin/env node
// The member stack of a hub, as CDK (deploy/member.yaml is the StackSets form). Context:
//   npx cdk deploy --app "node dist/bin/member.js" -c hubAccountId=... -c hubEventBusArn=... \
//       -c organizationId=o-... -c roleRegion=us-east-1 [-c kmsKeyAlias=alias/db-secrets]
// One stack per region of the account; the one in roleRegion also creates the member role.
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
const list = (key: string): string[] | undefined => ctx(key)?.split(",").filter((s) => s);
const stack = new Stack(app, ctx("stackName") ?? "DbSecretProvisionerMember", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
const member = new DbSecretProvisionerMember(stack, "Member", {
  hubAccountId: required("hubAccountId"),
  hubEventBusArn: required("hubEventBusArn"),
  organizationId: required("organizationId"),
  hubRoleName: ctx("hubRoleName"),
  memberRoleName: ctx("memberRoleName"),
  roleRegion: required("roleRegion"),
  secretNamePrefix: ctx("secretNamePrefix"),
  parameterPrefix: ctx("parameterPrefix"),
  userEventSources: list("userEventSources"),
  userEventSenders: list("userEventSenders"),
  kmsKeyAlias: ctx("kmsKeyAlias"),
  replicaKmsKeyAliases: list("replicaKmsKeyAliases"),
  existingSecret: ctx("existingSecret") === "update" ? "update" : "keep",
  deletePasswordParameter: ctx("deletePasswordParameter") === "true",
  followConnectionChanges: ctx("followConnectionChanges") !== "false",
  onDatabaseDeleted: (ctx("onDatabaseDeleted") ?? "tag") as "tag" | "schedule-deletion" | "ignore",
  replicas: ctx("replicas") === "true",
  resourcePolicy: ctx("resourcePolicy") === "true",
  cloudTrailTriggers: ctx("cloudTrailTriggers") !== "false",
});
new CfnOutput(stack, "MemberRoleArn", { value: member.role.roleArn }).condition = member.roleCondition;
new CfnOutput(stack, "UserEventBusName", { value: member.userEventBus.eventBusName });
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));

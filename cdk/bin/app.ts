#!/usr/bin/env node
// Deploys db-secret-provisioner. Configuration comes from CDK context, e.g.
//   npx cdk deploy -c replicaRegions=us-west-2,eu-west-1 -c kmsKeyArn=arn:aws:kms:...:key/...
// or, as the hub of an organization (docs/organization.md), keys by alias:
//   npx cdk deploy -c hubMode=true -c organizationId=o-... -c memberAccounts=organization \
//       -c kmsKeyAlias=alias/db-secrets -c replicaRegions=eu-west-1 -c replicaKmsKeyAliases=eu-west-1=alias/db-secrets \
//       [-c workerTimeoutSeconds=120 -c workerMaxConcurrency=10 -c workerReservedConcurrency=10]
// A configuration the function would refuse at init (or whose IAM could not work) fails the synth.
// cdk-nag's AwsSolutions pack runs on every synth: an unsuppressed finding fails it.
import { App, Aspects, CfnOutput, Stack } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { DbSecretProvisioner, RotationKey } from "../lib/provisioner";

const app = new App();
const ctx = (key: string): string | undefined => app.node.tryGetContext(key) || undefined;
const list = (key: string): string[] | undefined => ctx(key)?.split(",").filter((s) => s);
/** `a=b,c=d` as a map; a key given twice is refused. */
const pairs = (key: string): Record<string, string> | undefined => {
  const v = list(key);
  if (!v) return undefined;
  const out: Record<string, string> = {};
  for (const kv of v) {
    const i = kv.indexOf("=");
    const [k, val] = i < 0 ? [kv, ""] : [kv.slice(0, i), kv.slice(i + 1)];
    if (k in out) throw new Error(`context ${key}: ${k} is given twice`);
    out[k] = val;
  }
  return out;
};
const number = (key: string): number | undefined => (ctx(key) ? Number(ctx(key)) : undefined);

const stack = new Stack(app, ctx("stackName") ?? "DbSecretProvisioner", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
const rotationFunctions = pairs("rotationLambdaArns") as Partial<Record<RotationKey, string>> | undefined;
const resourcePolicy = ctx("resourcePolicy");
const provisioner = new DbSecretProvisioner(stack, "Provisioner", {
  codePath: ctx("codePath") ?? "../target/lambda/db-secret-provisioner",
  secretNameTemplate: ctx("secretNameTemplate"),
  passwordParameterTemplate: ctx("passwordParameterTemplate"),
  kmsKeyArn: ctx("kmsKeyArn"),
  kmsKeyAlias: ctx("kmsKeyAlias"),
  parameterKmsKeyArn: ctx("parameterKmsKeyArn"),
  secretTags: pairs("secretTags"),
  replicaRegions: list("replicaRegions"),
  replicaKmsKeyArns: list("replicaKmsKeyArns"),
  replicaKmsKeyAliases: pairs("replicaKmsKeyAliases"),
  resourcePolicy: resourcePolicy ? JSON.parse(resourcePolicy) : undefined,
  rotation: rotationFunctions
    ? { functions: rotationFunctions, schedule: ctx("rotationSchedule") ?? "rate(30 days)" }
    : undefined,
  existingSecret: ctx("existingSecret") === "update" ? "update" : "keep",
  deletePasswordParameter: ctx("deletePasswordParameter") === "true",
  missingPasswordParameter: ctx("missingPasswordParameter") === "error" ? "error" : "skip",
  followConnectionChanges: ctx("followConnectionChanges") !== "false",
  onDatabaseDeleted: (ctx("onDatabaseDeleted") ?? "tag") as "tag" | "schedule-deletion" | "ignore",
  recoveryWindowDays: number("recoveryWindowDays"),
  maxRetirePerRun: number("maxRetirePerRun"),
  maxRetireFraction: number("maxRetireFraction"),
  maxRewritesPerRun: number("maxRewritesPerRun"),
  regionalConnectionKeys: ctx("regionalConnectionKeys") !== "false",
  secretNamePrefix: ctx("secretNamePrefix"),
  parameterPrefix: ctx("parameterPrefix"),
  userEventSources: list("userEventSources"),
  userEventSenders: list("userEventSenders"),
  cloudTrailTriggers: ctx("cloudTrailTriggers") !== "false",
  reservedConcurrency: number("reservedConcurrency"),
  reconcileSchedule: ctx("reconcileSchedule") === "off" ? null : ctx("reconcileSchedule"),
  alarmTopicArn: ctx("alarmTopicArn"),
  hub: ctx("hubMode") === "true"
    ? {
      organizationId: ctx("organizationId") ?? "",
      memberAccounts: ctx("memberAccounts") === "organization" ? "organization" : (list("memberAccounts") ?? []),
      memberRoleName: ctx("memberRoleName"),
      roleName: ctx("hubRoleName"),
      sweepAccounts: ctx("sweepAccounts") === "organization" ? "organization" : list("sweepAccounts"),
      sweepRegions: list("sweepRegions"),
      workerTimeoutSeconds: number("workerTimeoutSeconds"),
      workerMaxConcurrency: number("workerMaxConcurrency"),
      workerReservedConcurrency: number("workerReservedConcurrency"),
    }
    : undefined,
});
if (provisioner.hubEventBus) new CfnOutput(stack, "HubEventBusArn", { value: provisioner.hubEventBus.eventBusArn });
new CfnOutput(stack, "SealKeyArn", { value: provisioner.sealKey.keyArn });
new CfnOutput(stack, "FunctionArn", { value: provisioner.function.functionArn });
new CfnOutput(stack, "UserEventBusName", { value: provisioner.userEventBus.eventBusName });
new CfnOutput(stack, "EventDeliveryDLQUrl", { value: provisioner.eventDeliveryDlq.queueUrl });
new CfnOutput(stack, "FailedInvocationQueueUrl", { value: provisioner.failedInvocationQueue.queueUrl });
if (provisioner.workQueue) new CfnOutput(stack, "WorkQueueUrl", { value: provisioner.workQueue.queueUrl });
if (provisioner.workDlq) new CfnOutput(stack, "WorkDLQUrl", { value: provisioner.workDlq.queueUrl });
// Hub mode: the two roles the member roles trust (SAM's HubRoleArn and WorkerRoleArn).
if (provisioner.workerRole) new CfnOutput(stack, "HubRoleArn", { value: provisioner.role.roleArn });
if (provisioner.workerRole) new CfnOutput(stack, "WorkerRoleArn", { value: provisioner.workerRole.roleArn });
if (provisioner.workerFunction) new CfnOutput(stack, "WorkerFunctionArn", { value: provisioner.workerFunction.functionArn });
provisioner.rules.forEach((r, i) => new CfnOutput(stack, `Rule${i}`, { value: r.ruleName }));
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));

#!/usr/bin/env node
// Deploys db-secret-provisioner. Configuration comes from CDK context, e.g.
//   npx cdk deploy -c replicaRegions=us-west-2,eu-west-1 -c kmsKeyId=alias/db-secrets
import { App, CfnOutput, Stack } from "aws-cdk-lib";
import { DbSecretProvisioner } from "../lib/provisioner";

const app = new App();
const ctx = (key: string): string | undefined => app.node.tryGetContext(key) || undefined;

const stack = new Stack(app, ctx("stackName") ?? "DbSecretProvisioner", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
const tags = ctx("secretTags");
const rotationArn = ctx("rotationLambdaArn");
const provisioner = new DbSecretProvisioner(stack, "Provisioner", {
  codePath: ctx("codePath") ?? "../target/lambda/db-secret-provisioner",
  secretNameTemplate: ctx("secretNameTemplate"),
  passwordParameterTemplate: ctx("passwordParameterTemplate"),
  kmsKeyId: ctx("kmsKeyId"),
  kmsKeyArn: ctx("kmsKeyArn"),
  secretTags: tags ? Object.fromEntries(tags.split(",").map((kv) => kv.split("=", 2) as [string, string])) : undefined,
  replicaRegions: ctx("replicaRegions")
    ?.split(",")
    .map((r) => {
      const [region, kmsKeyId] = r.split("=", 2);
      return { region, kmsKeyId };
    }),
  rotation: rotationArn ? { lambdaArn: rotationArn, schedule: ctx("rotationSchedule") ?? "rate(30 days)" } : undefined,
  existingSecret: ctx("existingSecret") === "update" ? "update" : "keep",
  deletePasswordParameter: ctx("deletePasswordParameter") === "true",
  secretNamePrefix: ctx("secretNamePrefix"),
  parameterPrefix: ctx("parameterPrefix"),
  userEventSources: ctx("userEventSources")?.split(","),
  userEventSenders: ctx("userEventSenders")?.split(","),
  reservedConcurrency: ctx("reservedConcurrency") ? Number(ctx("reservedConcurrency")) : undefined,
  reconcileSchedule: ctx("reconcileSchedule") === "off" ? null : ctx("reconcileSchedule"),
});
new CfnOutput(stack, "FunctionArn", { value: provisioner.function.functionArn });
new CfnOutput(stack, "EventDeliveryDLQUrl", { value: provisioner.eventDeliveryDlq.queueUrl });
new CfnOutput(stack, "FailedInvocationQueueUrl", { value: provisioner.failedInvocationQueue.queueUrl });
provisioner.rules.forEach((r, i) => new CfnOutput(stack, `Rule${i}`, { value: r.ruleName }));

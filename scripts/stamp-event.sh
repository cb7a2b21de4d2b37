#!/usr/bin/env bash
# Stamps your account and region into a sample event, for a manual invocation in a real
# account (the function acts only on events of its own account and region).
#
#   scripts/stamp-event.sh events/rds-instance-created.json > /tmp/event.json
#
# The samples in events/ use account 123456789012 and region us-east-1 everywhere (envelope,
# ARNs, CloudTrail's awsRegion): every occurrence is replaced. ACCOUNT and REGION default to the
# caller's (aws sts get-caller-identity) and AWS_REGION.
set -euo pipefail
sample=${1:?SAMPLE_EVENT}
account=${ACCOUNT:-$(aws sts get-caller-identity --query Account --output text)}
region=${REGION:-${AWS_REGION:?set AWS_REGION or REGION}}
sed -e "s/123456789012/${account}/g" -e "s/us-east-1/${region}/g" "$sample"

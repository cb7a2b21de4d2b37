#!/usr/bin/env bash
# Re-drives failed events to the function, then deletes them from the queue.
#
#   scripts/redrive.sh QUEUE_URL FUNCTION_NAME
#
# Works on both queues of the SAM/CDK stack: the on-failure destination
# (FailedInvocationQueueUrl, messages carry the event as .requestPayload) and the EventBridge
# dead-letter queue (EventDeliveryDLQUrl, the message body is the event). Each event is invoked
# asynchronously (InvocationType Event), so it gets Lambda's retries and destination again.
set -euo pipefail
queue=${1:?QUEUE_URL}
function=${2:?FUNCTION_NAME}
command -v jq >/dev/null || { echo "needs jq" >&2; exit 1; }
moved=0
while :; do
  batch=$(aws sqs receive-message --queue-url "$queue" --max-number-of-messages 10 --wait-time-seconds 2 --output json)
  count=$(jq '(.Messages // []) | length' <<<"${batch:-null}")
  [ "${count:-0}" -gt 0 ] || break
  for i in $(seq 0 $((count - 1))); do
    body=$(jq -r ".Messages[$i].Body" <<<"$batch")
    receipt=$(jq -r ".Messages[$i].ReceiptHandle" <<<"$batch")
    event=$(jq -c 'if has("requestPayload") then .requestPayload else . end' <<<"$body")
    aws lambda invoke --function-name "$function" --invocation-type Event \
      --cli-binary-format raw-in-base64-out --payload "$event" /dev/null >/dev/null
    aws sqs delete-message --queue-url "$queue" --receipt-handle "$receipt"
    moved=$((moved + 1))
  done
done
echo "re-drove $moved event(s) to $function"

"""Ties the code's trigger table (examples/trigger_table.rs) to a template's EventBridge rules.

For every row of the table, a minimal event is built and must be matched by a rule; every rule
must match some row (no rule delivers events the code ignores); every sample in events/ that the
code acts on must match a rule, and every `ignored-*` sample must match none. Patterns are
evaluated with EventBridge's semantics for the operators the templates use (exact values,
anything-but, prefix, exists).

Used by check_template.py (the SAM template after the transform) and, on its own, for the CDK app:
    python tests/deploy/triggers.py TRIGGER_TABLE.json CDK_TEMPLATE.json
"""

import glob
import json
import os
import sys

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def resolve(value, parameters):
    """CloudFormation intrinsics in a pattern, resolved with parameter defaults."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            name = value["Ref"]
            return {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}.get(
                name, parameters.get(name, name))
        if set(value) == {"Fn::Split"}:
            sep, text = value["Fn::Split"]
            return str(resolve(text, parameters)).split(sep)
        if set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"]
            for k, v in {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws",
                         **parameters}.items():
                text = text.replace("${" + k + "}", str(v))
            return text
        return {k: resolve(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, parameters) for v in value]
    return value


def _value_matches(condition, value):
    if isinstance(condition, dict):
        if "anything-but" in condition:
            excluded = condition["anything-but"]
            excluded = excluded if isinstance(excluded, list) else [excluded]
            return value is not None and value not in excluded
        if "prefix" in condition:
            return isinstance(value, str) and value.startswith(condition["prefix"])
        if "exists" in condition:
            return (value is not None) == condition["exists"]
        raise ValueError(f"unsupported pattern operator {condition}")
    return value == condition


def matches(pattern, event):
    """Whether an EventBridge pattern matches an event."""
    for key, condition in pattern.items():
        value = event.get(key) if isinstance(event, dict) else None
        if isinstance(condition, dict):
            if not isinstance(value, dict) or not matches(condition, value):
                return False
            continue
        values = value if isinstance(value, list) else [value]
        if not any(_value_matches(c, v) for c in condition for v in values):
            return False
    return True


def rules_of(template, parameters):
    """{logical id: pattern} for every AWS::Events::Rule; a schedule rule is the pattern of the
    events it sends."""
    out = {}
    for name, res in template["Resources"].items():
        if res["Type"] != "AWS::Events::Rule":
            continue
        props = res["Properties"]
        if "EventPattern" in props:
            out[name] = resolve(props["EventPattern"], parameters)
        elif "ScheduleExpression" in props:
            out[name] = {"source": ["aws.events"], "detail-type": ["Scheduled Event"]}
    return out


def event_of(row, user_source):
    return {"source": row["source"] or user_source, "detail-type": row["detailType"],
            "account": ACCOUNT, "region": REGION, "detail": row["detail"]}


def check(rules, table, user_source):
    """Failures (strings) of tying `rules` to the trigger table and the samples."""
    failures = []
    for row in table:
        if row["name"] == "reconcile-sweep" and row["source"] == "aws.scheduler":
            continue  # EventBridge Scheduler targets the function directly, without a rule
        event = event_of(row, user_source)
        if not any(matches(p, event) for p in rules.values()):
            failures.append(f"no rule delivers the code's trigger {row['name']} ({row['detail']})")
    for name, pattern in rules.items():
        if not any(matches(pattern, event_of(row, user_source)) for row in table):
            failures.append(f"rule {name} matches no trigger of the code")
    for path in sorted(glob.glob(os.path.join(ROOT, "events", "*.json"))):
        with open(path) as f:
            sample = json.load(f)
        sample.setdefault("account", ACCOUNT)
        hit = [n for n, p in rules.items() if matches(p, sample)]
        base = os.path.basename(path)
        if base.startswith("ignored-") and hit:
            failures.append(f"sample {base} is ignored by the code but rule(s) {hit} deliver it")
        if not base.startswith("ignored-") and not hit:
            failures.append(f"sample {base} is matched by no rule")
    return failures


def main():
    table_path, template_path = sys.argv[1], sys.argv[2]
    with open(table_path) as f:
        table = json.load(f)
    with open(template_path) as f:
        template = json.load(f)
    parameters = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    rules = rules_of(template, parameters)
    failures = check(rules, table, "com.example.provisioning")
    for f in failures:
        print(f"FAIL {f}")
    if not failures:
        print(f"triggers ok: {len(table)} rows of the code's table, {len(rules)} rules in {os.path.basename(template_path)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Checks template.yaml after the SAM transform (offline, with samtranslator): one arm64
provided.al2023 function with JSON logs (and in hub mode the worker, the same artifact), rules that deliver exactly the code's triggers (the
trigger table from examples/trigger_table.rs, see triggers.py) each with a retry policy and a
dead-letter queue, an on-failure destination, every configuration variable wired, and IAM that
grants no wildcard action and scopes parameters and secrets to their prefixes.

The deploy-time guards: the template's `Rules` (and each parameter's AllowedPattern) are
evaluated over a table of parameter sets (PARAMETER_SETS), and so is the function's environment
for the same parameters, which the function's own init check judges
(target/debug/examples/check_config, examples/check_config.rs). Every refusal of the template
must be init's too, a ConfigurationError naming the variable the refused parameter feeds (unless
the row says why only the template can tell); every accepted set must start. Hub mode's IAM (keys
by alias, sts:AssumeRole within the organization, the organization listing), the hub bus policy
and the reserved concurrency are resolved for several parameter sets and checked.

Hub mode's work queue (work_queue_failures): the planner alone may send to it (the queue policy's
Deny, evaluated for several principals) and only over TLS; the worker's role sends nowhere and the
planner's only to its two queues; the visibility timeout is six times the worker's timeout for
every WorkerTimeoutSeconds; maxReceiveCount, retention and SSE; the event source mapping's
settings; the worker's environment (the planner's, less WORK_QUEUE_URL, with HANDLER_MODE=worker
and WORK_QUEUE_ARN), which init must accept for every accepted hub parameter set; and the Rule
that reserved concurrency covers the mapping's maximum, evaluated over every pair of the ladders.

Usage: python tests/deploy/check_template.py [template.yaml] [trigger-table.json]
  (it runs `cargo build --example check_config` for the init check)
"""

import json
import os
import re
import subprocess
import sys

import triggers
from iam_contract import Resolver, allowed

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

CONFIG_VARIABLES = {
    "SECRET_NAME_TEMPLATE", "SECRET_NAME_PREFIX", "PASSWORD_PARAMETER_TEMPLATE", "PASSWORD_PARAMETER_PREFIX",
    "USER_EVENT_SOURCE", "SECRET_DESCRIPTION_TEMPLATE", "KMS_KEY_ID",
    "SECRET_TAGS", "REPLICA_REGIONS", "REPLICA_KMS_KEY_ARNS", "FORCE_OVERWRITE_REPLICA_SECRET",
    "RESOURCE_POLICY", "ROTATION_LAMBDA_ARNS", "ROTATION_SCHEDULE", "EXISTING_SECRET",
    "DELETE_PASSWORD_PARAMETER", "MISSING_PASSWORD_PARAMETER", "WAIT_FOR_AVAILABLE_SECONDS",
    "FOLLOW_CONNECTION_CHANGES", "ON_DATABASE_DELETED", "RECOVERY_WINDOW_DAYS", "MAX_RETIRE_PER_RUN",
    "MAX_RETIRE_FRACTION", "MAX_REWRITES_PER_RUN", "REGIONAL_CONNECTION_KEYS", "REPLICA_KMS_KEY_ALIASES", "MEMBER_ACCOUNTS", "MEMBER_ROLE_NAME", "ORGANIZATION_ID",
    "SWEEP_ACCOUNTS", "SWEEP_REGIONS", "SEAL_KEY_ID",
}
# The planner's own (hub mode) and the worker's own.
PLANNER_VARIABLES = {"WORK_QUEUE_URL"}
WORKER_VARIABLES = {"HANDLER_MODE", "WORK_QUEUE_ARN"}


class NoManagedPolicies:
    def load(self, *_args, **_kwargs):
        return {}

    def get(self, *_args, **_kwargs):
        return None


def statements(policy_document):
    """(condition, statement) of a policy: the CloudFormation condition an Fn::If puts the
    statement under (None when unconditional)."""
    out = []
    for st in policy_document.get("Statement", []):
        if isinstance(st, dict) and "Fn::If" in st:
            condition, *branches = st["Fn::If"]
            out.extend((condition, b) for b in branches if isinstance(b, dict) and "Effect" in b)
        else:
            out.append((None, st))
    return out


# Actions granted only when the option that needs them is on (CloudFormation conditions).
OPTION_ACTIONS = {
    "ssm:DeleteParameter": {"DeletesParameters"},
    # GetSecretValue / PutSecretValue: any database created again under an existing secret's
    # name needs them (docs/triggers.md, "Recreations and restores"), whatever the options.
    "secretsmanager:RemoveRegionsFromReplication": {"RemovesReplicas"},
    "secretsmanager:RestoreSecret": {"RetiresSecrets"},
    "sts:AssumeRole": {"IsHub"},
    "sts:SetSourceIdentity": {"IsHub"},
    "organizations:ListAccounts": {"ListsOrganizationAccounts"},
    "organizations:DescribeOrganization": {"ListsOrganizationAccounts"},
    "secretsmanager:RotateSecret": {"HasRotation"},
    "secretsmanager:PutResourcePolicy": {"HasResourcePolicy"},
    "secretsmanager:ReplicateSecretToRegions": {"HasReplicas"},
    "lambda:InvokeFunction": {"HasRotation"},
    "kms:Encrypt": {"HasReplicaKmsKeys", "UsesReplicaKmsKeyAliases"},
    # The worker's event source mapping (its role exists in hub mode only).
    "sqs:ReceiveMessage": {"IsHub"},
    "sqs:DeleteMessage": {"IsHub"},
    "sqs:GetQueueAttributes": {"IsHub"},
}
# The conditions KMS grants may stand under: a key parameter (ARN, single account) or an alias
# (hub mode).
KEY_CONDITIONS = {"HasKmsKeyArn", "HasReplicaKmsKeys", "HasParameterKmsKeyArn", "UsesKmsKeyAlias",
                  "UsesReplicaKmsKeyAliases"}

ACCOUNT = "123456789012"
ORG = "o-exampleorgid"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPLICA_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/5e6f7a8b-0000-4000-8000-00000000e001"
ROTATION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:rotate"
ROTATION_PARAMETERS = [
    "RotationLambdaMySQL", "RotationLambdaMySQLMulti", "RotationLambdaPostgreSQL", "RotationLambdaPostgreSQLMulti",
    "RotationLambdaMariaDB", "RotationLambdaMariaDBMulti", "RotationLambdaOracle", "RotationLambdaOracleMulti",
    "RotationLambdaSQLServer", "RotationLambdaSQLServerMulti", "RotationLambdaDb2Multi", "RotationLambdaMongoDB",
    "RotationLambdaMongoDBMulti", "RotationLambdaRedshift", "RotationLambdaRedshiftMulti",
]
HUB = {"HubMode": "true", "OrganizationId": ORG, "MemberAccounts": "organization", "KmsKeyAlias": "alias/db-secrets"}
HUB_LISTED = {**HUB, "MemberAccounts": "111111111111,222222222222"}


def row(name, params, refused=(), template_only=None):
    """A parameter set. `refused`: the (check, parameter) pairs that must refuse it, where the
    check is a rule name, or AllowedPattern for the parameter's own syntax, and the parameter is
    one the rule's AssertDescription names. Unless `template_only` says why the function cannot
    tell, init must refuse it too, naming the variable that parameter feeds."""
    return {"name": name, "params": params, "refused": list(refused), "template_only": template_only}


PARAMETER_SETS = [
    # Accepted: the deployments the docs describe.
    row("single account, defaults", {}),
    row("single account, keys by ARN, replicas and rotation",
        {"KmsKeyArn": KEY, "ReplicaRegions": "eu-west-1", "ReplicaKmsKeyArns": REPLICA_KEY,
         "RotationSchedule": "rate(30 days)", "RotationLambdaMySQL": ROTATION, "MaxRetireFraction": "1"}),
    row("hub, organization, keys by alias",
        {**HUB, "SweepAccounts": "organization", "SweepRegions": "us-east-1,eu-west-1",
         "ReplicaRegions": "us-west-2,eu-central-1", "ReplicaKmsKeyAliases": "us-west-2=alias/db-secrets-replica",
         "MaxRetireFraction": "0.5"}),
    row("hub, organization, the AWS managed key", {**HUB, "KmsKeyAlias": ""}),
    row("hub, listed members, sweep within them", {**HUB_LISTED, "SweepAccounts": "222222222222"}),
    row("hub, listed members, organization sweep", {**HUB_LISTED, "SweepAccounts": "organization"}),
    row("hub, 50 workers at most, 100 reserved, 15-minute workers",
        {**HUB, "WorkerMaxConcurrency": "50", "WorkerReservedConcurrency": "100", "WorkerTimeoutSeconds": "900"}),
    row("hub, 1,000 workers", {**HUB, "WorkerMaxConcurrency": "1000", "WorkerReservedConcurrency": "1000"}),
    row("single account, worker settings unused", {"WorkerMaxConcurrency": "100", "WorkerReservedConcurrency": "2"}),
    # Refused by the template and by init.
    row("hub with KmsKeyArn", {**HUB, "KmsKeyAlias": "", "KmsKeyArn": KEY}, [("HubKeysByAlias", "KmsKeyArn")]),
    row("hub with ReplicaKmsKeyArns", {**HUB, "ReplicaRegions": "eu-west-1", "ReplicaKmsKeyArns": REPLICA_KEY},
        [("HubKeysByAlias", "ReplicaKmsKeyArns")]),
    *[row(f"hub with {p}", {**HUB, "RotationSchedule": "rate(30 days)", p: ROTATION}, [("HubWithoutRotation", p)])
      for p in ROTATION_PARAMETERS],
    row("hub, sweep outside the listed members", {**HUB, "MemberAccounts": "111111111111",
                                                  "SweepAccounts": "111111111111,333333333333"},
        [("SweepWithinMembers", "SweepAccounts")]),
    row("hub without OrganizationId", {**HUB, "OrganizationId": ""},
        [("HubNeedsOrganizationAndMembers", "OrganizationId")]),
    row("MemberAccounts both organization and a list", {**HUB, "MemberAccounts": "organization,111111111111"},
        [("MemberAccountsOneForm", "MemberAccounts")]),
    row("SweepAccounts both organization and a list", {**HUB, "SweepAccounts": "organization,111111111111"},
        [("SweepAccountsOneForm", "SweepAccounts")]),
    # One parameter's syntax (AllowedPattern), refused by init too.
    row("KmsKeyAlias not alias/NAME", {**HUB, "KmsKeyAlias": "db-secrets"}, [("AllowedPattern", "KmsKeyAlias")]),
    row("ReplicaKmsKeyAliases without its region", {**HUB, "ReplicaRegions": "us-west-2",
                                                    "ReplicaKmsKeyAliases": "alias/db-secrets-replica"},
        [("AllowedPattern", "ReplicaKmsKeyAliases")]),
    row("MaxRetireFraction 0", {"MaxRetireFraction": "0"}, [("AllowedPattern", "MaxRetireFraction")]),
    row("MaxRetireFraction above 1", {"MaxRetireFraction": "1.5"}, [("AllowedPattern", "MaxRetireFraction")]),
    row("OrganizationId malformed", {**HUB, "OrganizationId": "o-short"}, [("AllowedPattern", "OrganizationId")]),
    row("MemberAccounts malformed", {**HUB, "MemberAccounts": "12345"}, [("AllowedPattern", "MemberAccounts")]),
    # The worker's settings: what the template offers (init never sees them).
    row("WorkerTimeoutSeconds off the ladder", {**HUB, "WorkerTimeoutSeconds": "240"},
        [("AllowedValues", "WorkerTimeoutSeconds")],
        template_only="the worker's timeout and concurrency are the function's and the mapping's settings, not variables"),
    row("WorkerMaxConcurrency below AWS's 2", {**HUB, "WorkerMaxConcurrency": "1"}, [("AllowedValues", "WorkerMaxConcurrency")],
        template_only="the worker's timeout and concurrency are the function's and the mapping's settings, not variables"),
    row("WorkerMaxConcurrency above AWS's 1,000", {**HUB, "WorkerMaxConcurrency": "5000", "WorkerReservedConcurrency": "1000"},
        [("AllowedValues", "WorkerMaxConcurrency")],
        template_only="the worker's timeout and concurrency are the function's and the mapping's settings, not variables"),
    row("HubRoleName leaves no room for -worker", {**HUB, "HubRoleName": "r" * 58}, [("AllowedPattern", "HubRoleName")],
        template_only="the role's name is the template's; the function never reads it"),
    # Only the template can tell.
    row("HubMode without MemberAccounts", {**HUB, "MemberAccounts": ""},
        [("HubNeedsOrganizationAndMembers", "MemberAccounts")],
        template_only="without MEMBER_ACCOUNTS the function is not in hub mode, so it has nothing to refuse"),
    row("KmsKeyAlias in a single account", {"KmsKeyAlias": "alias/db-secrets"}, [("KeyAliasesNeedHub", "KmsKeyAlias")],
        template_only="a single-account function may use an alias; the template's single-account grant is by key ARN"),
    row("ReplicaKmsKeyAliases in a single account",
        {"ReplicaRegions": "us-west-2", "ReplicaKmsKeyAliases": "us-west-2=alias/db-secrets-replica"},
        [("KeyAliasesNeedHub", "ReplicaKmsKeyAliases")],
        template_only="a single-account function may use aliases; the template's single-account grants are by key ARN"),
    row("hub with KmsKeyAlias and KmsKeyArn", {**HUB, "KmsKeyArn": KEY},
        [("HubKeysByAlias", "KmsKeyArn"), ("OneSecretsKey", "KmsKeyAlias"), ("OneSecretsKey", "KmsKeyArn")],
        template_only="KMS_KEY_ID carries KmsKeyAlias when it is set: the function never sees KmsKeyArn"),
    row("single account with KmsKeyAlias and KmsKeyArn", {"KmsKeyAlias": "alias/db-secrets", "KmsKeyArn": KEY},
        [("KeyAliasesNeedHub", "KmsKeyAlias"), ("OneSecretsKey", "KmsKeyAlias"), ("OneSecretsKey", "KmsKeyArn")],
        template_only="KMS_KEY_ID carries KmsKeyAlias when it is set: the function never sees KmsKeyArn"),
    row("hub, reserved below the workers' maximum", {**HUB, "WorkerMaxConcurrency": "20", "WorkerReservedConcurrency": "10"},
        [("WorkerReservedCoversMaximumConcurrency", "WorkerReservedConcurrency")],
        template_only="the function reads neither its reserved concurrency nor the mapping's maximum"),
]


def yaml_anchors(text):
    """Lines with a YAML anchor (&name) or alias (*name): the CloudFormation service rejects them
    (only the SAM CLI expands them)."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split(" #", 1)[0]
        if code.lstrip().startswith("#"):
            continue
        code = re.sub(r'"[^"]*"|\'[^\']*\'', "", code)
        if re.search(r"(^|[\s\[,:-])[&*][A-Za-z_]", code):
            found.append(f"{n}: {line.strip()}")
    return found


# ---------------------------------------------------------------- the deploy-time guards


def params_of(name):
    (found,) = [r["params"] for r in PARAMETER_SETS if r["name"] == name]
    return found


def parameter_values(template, params):
    """Every parameter's value as CloudFormation passes it to Rules: the given value or the
    default, a CommaDelimitedList split on commas (an empty one is [""])."""
    values = {}
    for name, spec in template["Parameters"].items():
        v = params.get(name, spec.get("Default", ""))
        values[name] = str(v).split(",") if spec["Type"] == "CommaDelimitedList" else str(v)
    return values


def constraint_failures(template, params):
    """(AllowedPattern or AllowedValues, parameter) for each given value its parameter refuses.
    A CommaDelimitedList's pattern applies to each value of the list."""
    out = []
    for name, v in params.items():
        spec = template["Parameters"].get(name)
        if spec is None:
            raise ValueError(f"parameter set names {name}, which the template does not have")
        items = str(v).split(",") if spec["Type"] == "CommaDelimitedList" else [str(v)]
        if "AllowedPattern" in spec and not all(re.fullmatch(spec["AllowedPattern"], i) for i in items):
            out.append(("AllowedPattern", name))
        if "AllowedValues" in spec and not all(i in [str(a) for a in spec["AllowedValues"]] for i in items):
            out.append(("AllowedValues", name))
        if spec["Type"] == "Number":
            n = float(v)
            if ("MinValue" in spec and n < float(spec["MinValue"])) or ("MaxValue" in spec and n > float(spec["MaxValue"])):
                out.append(("MinValue/MaxValue", name))
    return out


def rule_value(expr, values):
    """A rule function's value (CloudFormation template reference, "Rule functions"): the ones
    the template uses; any other is an error, so that a new one gets its semantics here first."""
    if isinstance(expr, (str, int, float)):
        return str(expr)
    if isinstance(expr, list):
        return [rule_value(e, values) for e in expr]
    (fn, arg), = expr.items()
    if fn == "Ref":
        return values[arg]
    if fn == "Fn::Equals":
        a, b = (rule_value(x, values) for x in arg)
        return a == b
    if fn == "Fn::Not":
        return not rule_value(arg[0], values)
    if fn == "Fn::And":
        return all(rule_value(x, values) for x in arg)
    if fn == "Fn::Or":
        return any(rule_value(x, values) for x in arg)
    if fn == "Fn::Contains":  # [list_of_strings, string]: the string is one of the list
        strings, string = rule_value(arg[0], values), rule_value(arg[1], values)
        return string in strings
    if fn == "Fn::EachMemberEquals":  # [list_of_strings, string]: every member is the string
        strings, string = rule_value(arg[0], values), rule_value(arg[1], values)
        return all(x == string for x in strings)
    if fn == "Fn::EachMemberIn":  # [strings_to_check, strings_to_match]
        check, match = rule_value(arg[0], values), rule_value(arg[1], values)
        return all(x in match for x in check)
    raise ValueError(f"rule function {fn} has no evaluator in check_template.py")


def rule_failures(template, params):
    """(rule, AssertDescription) of each assertion that fails under a rule whose condition holds."""
    values = parameter_values(template, params)
    out = []
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not rule_value(rule["RuleCondition"], values):
            continue
        for a in rule["Assertions"]:
            if not rule_value(a["Assert"], values):
                out.append((name, a.get("AssertDescription", "")))
    return out


def function_of(template, name="ProvisionerFunction"):
    """The events function (the planner in hub mode), or the worker (WorkerFunction)."""
    fn = template["Resources"][name]
    assert fn["Type"] == "AWS::Lambda::Function", f"{name} is a {fn['Type']}"
    return name, fn


def environment(template, params, name="ProvisionerFunction"):
    """The function's environment as deployed with `params` (every value a string)."""
    _, fn = function_of(template, name)
    variables = Resolver(template, params).resolve(fn["Properties"]["Environment"]["Variables"])
    return {k: str(v) for k, v in variables.items()}


def variable_of(template):
    """parameter -> the environment variable its value feeds (read from the template)."""
    _, fn = function_of(template)
    out = {}
    for var, expr in fn["Properties"]["Environment"]["Variables"].items():
        text = json.dumps(expr)
        for name in template["Parameters"]:
            if f'{{"Ref": "{name}"}}' in text or "${" + name + "}" in text:
                out.setdefault(name, set()).add(var)
    return out


def init_answers(envs):
    """The function's init check on each environment (examples/check_config.rs)."""
    tool = os.path.join(triggers.ROOT, "target", "debug", "examples", "check_config")
    # Built here (quick when `cargo test` built it): the answers must be the current code's.
    subprocess.run(["cargo", "build", "--quiet", "--example", "check_config"], cwd=triggers.ROOT, check=True)
    if not os.access(tool, os.X_OK):
        raise FileNotFoundError(f"{tool} is missing: run `cargo build --example check_config`")
    done = subprocess.run([tool], input=json.dumps(envs), capture_output=True, text=True, check=True)
    answers = json.loads(done.stdout)
    if len(answers) != len(envs):
        raise ValueError(f"check_config answered {len(answers)} of {len(envs)} environments")
    return answers


def guard_failures(template):
    """Each parameter set: the template's refusals as the row expects, and init's answer the same."""
    failures, lines = [], []
    feeds = variable_of(template)
    covered = set()  # (rule, AssertDescription) of the assertions some row is refused by
    for r in PARAMETER_SETS:
        got_rules = rule_failures(template, r["params"])
        got = sorted({(k, p) for k, p in constraint_failures(template, r["params"])} |
                     {(rule, None) for rule, _ in got_rules})
        expected_checks = sorted({(k, None if k in template.get("Rules", {}) else p) for k, p in r["refused"]})
        if got != expected_checks:
            failures.append(f"parameter set '{r['name']}': the template refuses it by {got or 'nothing'}, "
                            f"expected {expected_checks or 'nothing'}")
        for k, p in r["refused"]:
            if k in template.get("Rules", {}):
                descriptions = [d for rule, d in got_rules if rule == k]
                naming = [d for d in descriptions if re.search(rf"\b{p}\b", d)]
                covered.update((k, d) for d in naming)
                if descriptions and not naming:
                    failures.append(f"parameter set '{r['name']}': rule {k}'s AssertDescription does not name {p}: {descriptions}")
    # The worker of each accepted hub set starts too (its environment: the planner's, less
    # WORK_QUEUE_URL, with HANDLER_MODE and WORK_QUEUE_ARN).
    hub_rows = [r for r in PARAMETER_SETS if not r["refused"] and r["params"].get("HubMode") == "true"]
    envs = [{**environment(template, r["params"]), "AWS_REGION": "us-east-1"} for r in PARAMETER_SETS]
    envs += [{**environment(template, r["params"], "WorkerFunction"), "AWS_REGION": "us-east-1"} for r in hub_rows]
    answers = init_answers(envs)
    for r, answer in zip(hub_rows, answers[len(PARAMETER_SETS):]):
        if not answer["ok"]:
            failures.append(f"parameter set '{r['name']}': the worker's environment is refused by init: {answer}")
    answers = answers[:len(PARAMETER_SETS)]
    for r, answer in zip(PARAMETER_SETS, answers):
        refused = bool(r["refused"])
        if r["template_only"]:
            said = "refuses" if not answer["ok"] else "accepts"
            lines.append(f"  template only: '{r['name']}' (init {said} it: {r['template_only']})")
            continue
        if not refused:
            if not answer["ok"]:
                failures.append(f"parameter set '{r['name']}': the template accepts it, but init refuses it: {answer}")
            continue
        variables = set().union(*(feeds.get(p, set()) for _, p in r["refused"]))
        if not variables:
            failures.append(f"parameter set '{r['name']}': {[p for _, p in r['refused']]} feed no environment variable")
        elif answer["ok"]:
            failures.append(f"parameter set '{r['name']}': the template refuses it ({r['refused']}), but init accepts "
                            f"it (expected a ConfigurationError naming {sorted(variables)})")
        elif answer.get("errorType") != "ConfigurationError" or answer.get("variable") not in variables:
            failures.append(f"parameter set '{r['name']}': init refuses it with {answer.get('errorType')} naming "
                            f"{answer.get('variable')}, expected a ConfigurationError naming {sorted(variables)}")
    # Every assertion of every rule refuses some parameter set.
    for name, rule in template.get("Rules", {}).items():
        for a in rule["Assertions"]:
            if (name, a.get("AssertDescription", "")) not in covered:
                failures.append(f"rule {name}: no parameter set is refused by its assertion "
                                f"{a.get('AssertDescription', '')!r}")
    refusals = sum(1 for r in PARAMETER_SETS if r["refused"])
    lines.insert(0, f"guards: {len(PARAMETER_SETS)} parameter sets, {refusals} refused by the template "
                    f"({sum(1 for r in PARAMETER_SETS if r['refused'] and not r['template_only'])} also by init, "
                    f"each naming the parameter's variable), {len(PARAMETER_SETS) - refusals} accepted by both "
                    f"(the worker of each of the {len(hub_rows)} hub sets accepted by init too)")
    return failures, lines


# ---------------------------------------------------------------- hub mode, resolved


def role_documents(template, role, r):
    """The policy documents of a role, unresolved: its inline Policies and every AWS::IAM::Policy
    attached to it (Roles, Fn::If resolved)."""
    docs = [p["PolicyDocument"] for p in template["Resources"][role]["Properties"].get("Policies", [])]
    for v in template["Resources"].values():
        if v["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r.resolve_keeping_refs(v["Properties"]["Roles"]):
            docs.append(v["Properties"]["PolicyDocument"])
    return docs


def resolved_statements(template, params, role="ProvisionerRole"):
    """A role's statements for `params` (the function's by default), resolved (Action and Resource
    as lists), from every policy attached to it."""
    r = Resolver(template, params)
    out = []
    for doc in role_documents(template, role, r):
        for st in r.resolve(doc)["Statement"]:
            st["Action"] = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            st["Resource"] = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            out.append(st)
    return out


def by_sid(statements, sid):
    found = [s for s in statements if s.get("Sid") == sid]
    return found[0] if found else None


class Request:
    def __init__(self, action, resource, context):
        self.action, self.resource, self.context = action, resource, context


def hub_failures(template):
    """Hub mode's IAM, bus policy and concurrency, resolved for several parameter sets."""
    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    role = f"arn:aws:iam::111111111111:role/db-secret-provisioner-member"
    within = {"aws:ResourceOrgID": ORG, "aws:ResourceAccount": "111111111111"}
    # sts:AssumeRole (with SourceIdentity) only within the organization, and only the listed accounts.
    for name, params, accounts in [("organization", HUB, None), ("listed members", HUB_LISTED, ["111111111111", "222222222222"])]:
        sts = resolved_statements(template, params)
        st = by_sid(sts, "AssumeMemberRoles")
        check(st and sorted(st["Action"]) == ["sts:AssumeRole", "sts:SetSourceIdentity"],
              f"hub ({name}): AssumeMemberRoles must allow sts:AssumeRole and sts:SetSourceIdentity: {st}")
        expected = {"aws:ResourceOrgID": ORG, **({"aws:ResourceAccount": accounts} if accounts else {})}
        check(st and st.get("Condition") == {"StringEquals": expected},
              f"hub ({name}): AssumeMemberRoles must carry exactly StringEquals {expected}: {st and st.get('Condition')}")
        for action in ("sts:AssumeRole", "sts:SetSourceIdentity"):
            check(allowed(sts, Request(action, role, within)), f"hub ({name}): {action} refused in a member account")
            check(not allowed(sts, Request(action, role, {**within, "aws:ResourceOrgID": "o-otherorg000"})),
                  f"hub ({name}): {action} allowed in another organization's account")
            check(bool(accounts) == (not allowed(sts, Request(action, role.replace("111111111111", "333333333333"),
                                                              {**within, "aws:ResourceAccount": "333333333333"}))),
                  f"hub ({name}): {action} into an unlisted account of the organization must be "
                  f"{'refused' if accounts else 'allowed'}")
    # organizations:ListAccounts and DescribeOrganization exactly when the hub may list.
    for name, params, lists in [("organization", HUB, True), ("listed members", HUB_LISTED, False),
                                ("listed members, organization sweep", {**HUB_LISTED, "SweepAccounts": "organization"}, True),
                                ("single account", {}, False)]:
        st = by_sid(resolved_statements(template, params), "ListOrganizationAccounts")
        check(bool(st) == lists, f"{name}: ListOrganizationAccounts must be {'granted' if lists else 'absent'}")
        if st:
            check(sorted(st["Action"]) == ["organizations:DescribeOrganization", "organizations:ListAccounts"]
                  and st["Resource"] == ["*"], f"{name}: ListOrganizationAccounts: {st}")
    # Keys by alias: any key of the account that carries the alias, through Secrets Manager.
    sts = resolved_statements(template, params_of("hub, organization, keys by alias"))
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0b0b0b0b-0000-4000-8000-000000000001"
    via = {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    for action, alias in [("kms:GenerateDataKey", "alias/db-secrets"), ("kms:Decrypt", "alias/db-secrets"),
                          ("kms:GenerateDataKey", "alias/db-secrets-replica"), ("kms:Encrypt", "alias/db-secrets-replica")]:
        check(allowed(sts, Request(action, key, {**via, "kms:ResourceAliases": [alias, "alias/other"]})),
              f"hub: {action} refused on a key with {alias} through Secrets Manager")
        check(not allowed(sts, Request(action, key, {"kms:ResourceAliases": [alias]})),
              f"hub: {action} allowed on a key with {alias} outside Secrets Manager")
        check(not allowed(sts, Request(action, key, {**via, "kms:ResourceAliases": ["alias/other"]})),
              f"hub: {action} allowed on a key without the alias")
        check(not allowed(sts, Request(action, key.replace(ACCOUNT, "999999999999"), {**via, "kms:ResourceAliases": [alias]})),
              f"hub: {action} allowed on another account's key")
    check(not allowed(sts, Request("kms:Encrypt", key, {**via, "kms:ResourceAliases": ["alias/db-secrets"]})),
          "hub: kms:Encrypt is for the replica keys only")
    # The replica aliases come from region=alias/NAME entries split on "=": the region names in the
    # list can match no alias (every alias name starts with alias/).
    for st in sts:
        values = st.get("Condition", {}).get("ForAnyValue:StringEquals", {}).get("kms:ResourceAliases", [])
        for v in values if isinstance(values, list) else [values]:
            check(v.startswith("alias/") or re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", v),
                  f"{st.get('Sid')}: kms:ResourceAliases value {v!r} is neither an alias nor a region name")
    check(allowed(sts, Request("kms:DescribeKey", key, {"kms:ResourceAliases": ["alias/db-secrets"]})) and
          not allowed(sts, Request("kms:DescribeKey", key, {"kms:ResourceAliases": ["alias/other"]})),
          "hub: kms:DescribeKey must be allowed on the alias's key only")
    for st in sts:
        if any(a.startswith("kms:") for a in st["Action"]) and "kms:ResourceAliases" in json.dumps(st):
            check("kms:RequestAlias" not in json.dumps(st), f"{st.get('Sid')}: no kms:RequestAlias (Decrypt names no alias)")
            check(list(st["Condition"].get("ForAnyValue:StringEquals", {})) == ["kms:ResourceAliases"],
                  f"{st.get('Sid')}: kms:ResourceAliases (multi-valued) needs ForAnyValue:StringEquals")
    single = resolved_statements(template, params_of("single account, keys by ARN, replicas and rotation"))
    check(not any("kms:ResourceAliases" in json.dumps(s) or s["Action"][0].startswith("sts:") for s in single),
          "single account: no grant by alias and no sts:AssumeRole")

    # The hub bus: the organization's forwarding roles, with the hub rules' sources only; others denied.
    r = Resolver(template, HUB)
    policies = [r.resolve(v["Properties"]) for v in template["Resources"].values()
                if v["Type"] == "AWS::Events::EventBusPolicy" and v.get("Condition") == "IsHub"]
    statements = []
    for p in policies:
        st = dict(p["Statement"])
        st["Action"] = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        st["Resource"] = ["*"]  # the hub bus (each policy names its bus)
        statements.append(st)
    hub_rule_sources = set()
    for v in template["Resources"].values():
        if v["Type"] == "AWS::Events::Rule" and v.get("Condition") == "IsHub":
            hub_rule_sources.update(r.resolve(v["Properties"]["EventPattern"])["source"])
    forward = f"arn:aws:iam::111111111111:role/db-secret-provisioner/db-secret-provisioner-forward-eu-west-1"

    def verdict(principal, org, source):
        ctx = {"aws:PrincipalArn": principal, "aws:PrincipalOrgID": org, "events:source": [source]}
        req = Request("events:PutEvents", "bus", ctx)
        denied = any(s["Effect"] == "Deny" and allowed([{**s, "Effect": "Allow"}], req) for s in statements)
        return "denied" if denied else ("allowed" if allowed(statements, req) else "not allowed")

    for source in sorted(hub_rule_sources):
        check(verdict(forward, ORG, source) == "allowed", f"hub bus: a forwarding role's {source} event is refused")
    check(verdict(forward, ORG, "com.example.other") == "not allowed", "hub bus: a source no hub rule takes is let in")
    check(verdict(forward, "o-otherorg000", "aws.rds") == "not allowed", "hub bus: another organization is let in")
    for other in (f"arn:aws:iam::111111111111:role/admin", f"arn:aws:iam::{ACCOUNT}:role/admin",
                  "arn:aws:iam::111111111111:role/provisioning/db-secret-provisioner-forward-eu-west-1"):
        check(verdict(other, ORG, "com.example.provisioning") == "denied",
              f"hub bus: {other} is not explicitly denied (an Allow does not restrict the hub's own account)")

    # Reserved concurrency: 20 in hub mode unless given; none by default in a single account.
    _, fn = function_of(template)
    for name, params, expected in [("hub", HUB, "20"), ("hub, given", {**HUB, "ReservedConcurrency": "5"}, "5"),
                                   ("single account", {}, None), ("single account, given", {"ReservedConcurrency": "7"}, "7")]:
        got = Resolver(template, params).resolve(fn["Properties"]).get("ReservedConcurrentExecutions")
        check((None if got is None else str(got)) == expected,
              f"ReservedConcurrentExecutions ({name}): {got}, expected {expected}")
    return failures


# WorkerMaxConcurrency's and WorkerReservedConcurrency's AllowedValues (checked against the template).
LADDER = ["2", "5", "10", "20", "50", "100", "200", "500", "1000"]


def work_queue_failures(template, source):
    """Hub mode's work queue, its policy, the event source mapping and the worker, resolved for
    several parameter sets; `template` is the transformed template, `source` the one as written."""
    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    resources = template["Resources"]
    hub_only = ["WorkQueue", "WorkDLQ", "WorkQueuePolicy", "WorkDLQPolicy", "WorkerEventSourceMapping", "WorkerFunction",
                "WorkerRole", "WorkerLogGroup", "WorkDLQNotEmptyAlarm", "WorkQueueOldestMessageAlarm"]
    for name in hub_only:
        check(resources.get(name, {}).get("Condition") == "IsHub", f"{name} must exist, under IsHub")
    r = Resolver(template, HUB)
    res = {k: r.resolve(v["Properties"]) for k, v in resources.items() if k in hub_only}
    if len(res) != len(hub_only):
        return failures
    queue_arn = r.get_att("WorkQueue", "Arn")
    planner_arn = r.get_att("ProvisionerRole", "Arn")

    # The queues: SSE-SQS, a day of retention (14 on the DLQ, longer than the work queue's, AWS's
    # best practice), the redrive to the DLQ after 5 receives (AWS: at least 5).
    work, dlq = res["WorkQueue"], res["WorkDLQ"]
    check(work.get("SqsManagedSseEnabled") is True and dlq.get("SqsManagedSseEnabled") is True, "the work queues must be SSE-SQS")
    check(work.get("MessageRetentionPeriod") == 86400, f"WorkQueue retention: {work.get('MessageRetentionPeriod')}, expected 1 day")
    check(dlq.get("MessageRetentionPeriod") == 1209600, f"WorkDLQ retention: {dlq.get('MessageRetentionPeriod')}, expected 14 days")
    redrive = work.get("RedrivePolicy", {})
    check(redrive.get("deadLetterTargetArn") == r.get_att("WorkDLQ", "Arn") and redrive.get("maxReceiveCount") == 5,
          f"WorkQueue must redrive to WorkDLQ after 5 receives (AWS recommends at least 5): {redrive}")
    check("FifoQueue" not in work, "the work queue is a standard queue (a fair queue by MessageGroupId)")

    # VisibilityTimeout = 6 x the worker's Timeout, for every timeout the template offers.
    timeouts = source["Parameters"]["WorkerTimeoutSeconds"]["AllowedValues"]
    for t in timeouts:
        rt = Resolver(template, {**HUB, "WorkerTimeoutSeconds": str(t)})
        timeout = int(rt.resolve(resources["WorkerFunction"]["Properties"]["Timeout"]))
        visibility = int(rt.resolve(resources["WorkQueue"]["Properties"]["VisibilityTimeout"]))
        check(timeout == int(t) and visibility == 6 * timeout and visibility <= 43200 and timeout <= 900,
              f"WorkerTimeoutSeconds {t}: worker Timeout {timeout}, VisibilityTimeout {visibility}, expected 6 x the timeout (at most 43,200)")
    check(str(source["Parameters"]["WorkerTimeoutSeconds"].get("Default")) == "120", "WorkerTimeoutSeconds defaults to 120")

    # The queue policy: only the planner's role may send, nobody without TLS.
    statements = []
    for st in res["WorkQueuePolicy"]["PolicyDocument"]["Statement"]:
        st = dict(st, Action=st["Action"] if isinstance(st["Action"], list) else [st["Action"]],
                  Resource=st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])
        statements.append(st)
    check(res["WorkQueuePolicy"]["Queues"] == [r.ref("WorkQueue")], "WorkQueuePolicy must be the work queue's")
    check(all(st["Effect"] == "Deny" and st.get("Principal") == "*" for st in statements),
          "WorkQueuePolicy: Deny statements for every principal only (an Allow would not restrict the hub's own account)")

    def denied(action, principal, tls=True):
        req = Request(action, queue_arn, {"aws:PrincipalArn": principal, "aws:SecureTransport": "true" if tls else "false"})
        return any(st["Effect"] == "Deny" and allowed([{**st, "Effect": "Allow"}], req) for st in statements)

    worker_arn = r.get_att("WorkerRole", "Arn")
    others = [worker_arn, f"arn:aws:iam::{ACCOUNT}:role/admin", f"arn:aws:iam::{ACCOUNT}:root",
              f"arn:aws:iam::{ACCOUNT}:user/operator", "arn:aws:iam::111111111111:role/db-secret-provisioner-hub",
              planner_arn + "-other"]
    check(not denied("sqs:SendMessage", planner_arn), "the work queue's policy refuses the planner's SendMessage")
    for who in others:
        check(denied("sqs:SendMessage", who), f"the work queue's policy does not deny SendMessage to {who}")
    check(not denied("sqs:ReceiveMessage", worker_arn) and not denied("sqs:DeleteMessage", worker_arn),
          "the work queue's policy must leave the worker's event source mapping alone")
    for action in ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        check(denied(action, planner_arn, tls=False) and denied(action, worker_arn, tls=False),
              f"the work queue accepts {action} without TLS")
    check(any("aws:SecureTransport" in json.dumps(st) and st["Effect"] == "Deny"
              for st in res["WorkDLQPolicy"]["PolicyDocument"]["Statement"]), "WorkDLQ accepts non-TLS requests")

    # The event source mapping: the worker on the work queue, one message a batch, partial batch
    # responses, the maximum concurrency parameter; a plain mapping (SAM's SQS event would attach
    # AWSLambdaSQSQueueExecutionRole).
    esm = source["Resources"]["WorkerEventSourceMapping"]["Properties"]
    check(esm.get("EventSourceArn") == {"Fn::GetAtt": ["WorkQueue", "Arn"]} and esm.get("FunctionName") == {"Ref": "WorkerFunction"}
          and esm.get("BatchSize") == 1 and esm.get("FunctionResponseTypes") == ["ReportBatchItemFailures"]
          and esm.get("ScalingConfig") == {"MaximumConcurrency": {"Ref": "WorkerMaxConcurrency"}}
          and not esm.get("MaximumBatchingWindowInSeconds") and esm.get("Enabled", True) is True,
          f"WorkerEventSourceMapping: {esm}")
    mappings = [k for k, v in resources.items() if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    check(mappings == ["WorkerEventSourceMapping"], f"expected one event source mapping, found {mappings}")
    sam_sqs = [k for k, v in source["Resources"].items() if v["Type"] == "AWS::Serverless::Function"
               and any(e.get("Type") == "SQS" for e in v["Properties"].get("Events", {}).values())]
    check(not sam_sqs, f"{sam_sqs}: no SAM SQS event (it attaches AWSLambdaSQSQueueExecutionRole on every queue)")
    for p in ("WorkerMaxConcurrency", "WorkerReservedConcurrency"):
        spec = source["Parameters"][p]
        check([str(v) for v in spec["AllowedValues"]] == LADDER and str(spec.get("Default")) == "10",
              f"{p}: AllowedValues {spec['AllowedValues']} (expected {LADDER}: AWS allows 2 to 1,000), default {spec.get('Default')}")

    # The worker: the same artifact as the function, its own timeout, reservation, log group and role.
    planner, worker = (source["Resources"][n] for n in ("ProvisionerFunction", "WorkerFunction"))
    for key in ("CodeUri", "Handler", "Runtime", "Architectures", "MemorySize"):
        check(planner["Properties"].get(key) == worker["Properties"].get(key),
              f"WorkerFunction {key} {worker['Properties'].get(key)} differs from ProvisionerFunction's {planner['Properties'].get(key)}")
    check(planner["Metadata"].get("BuildMethod") == worker["Metadata"].get("BuildMethod"), "WorkerFunction must be built as ProvisionerFunction is")
    wp = worker["Properties"]
    check(wp.get("Timeout") == {"Ref": "WorkerTimeoutSeconds"}, f"WorkerFunction Timeout: {wp.get('Timeout')}")
    check(wp.get("ReservedConcurrentExecutions") == {"Ref": "WorkerReservedConcurrency"},
          f"WorkerFunction ReservedConcurrentExecutions: {wp.get('ReservedConcurrentExecutions')}")
    check(wp.get("LoggingConfig", {}).get("LogGroup") == {"Ref": "WorkerLogGroup"} and wp["LoggingConfig"].get("LogFormat") == "JSON",
          "the worker logs JSON into WorkerLogGroup")
    check(source["Resources"]["WorkerLogGroup"]["Properties"] == source["Resources"]["ProvisionerLogGroup"]["Properties"],
          "WorkerLogGroup must keep its lines as ProvisionerLogGroup does (LogRetentionDays)")
    check(wp.get("Role") == {"Fn::GetAtt": ["WorkerRole", "Arn"]} and not wp.get("Events") and "EventInvokeConfig" not in wp,
          "the worker: its own role, no events of its own, no async invoke config (the mapping invokes it synchronously)")
    for params in (HUB, HUB_LISTED, params_of("hub, organization, keys by alias")):
        planner_env, worker_env = environment(template, params), environment(template, params, "WorkerFunction")
        expected = {k: v for k, v in planner_env.items() if k != "WORK_QUEUE_URL"}
        expected.update(HANDLER_MODE="worker", WORK_QUEUE_ARN=queue_arn)
        check(worker_env == expected, f"the worker's environment must be the planner's less WORK_QUEUE_URL, with HANDLER_MODE "
                                      f"and WORK_QUEUE_ARN: {sorted(set(worker_env.items()) ^ set(expected.items()))}")
        check(planner_env.get("WORK_QUEUE_URL") == Resolver(template, params).ref("WorkQueue"), "the planner's WORK_QUEUE_URL is the work queue's")
    check(environment(template, {}).get("WORK_QUEUE_URL") == "", "WORK_QUEUE_URL must be empty outside hub mode")

    # The roles: the worker's named after the hub's, sending nowhere; the planner's SendMessage on
    # its two queues only; ListAccounts the planner's alone.
    role = res["WorkerRole"]
    check(role.get("RoleName") == r.resolve(resources["ProvisionerRole"]["Properties"]["RoleName"]) + "-worker",
          f"WorkerRole's name {role.get('RoleName')} must be the hub role's with -worker (the member roles trust it by name)")
    check(not role.get("ManagedPolicyArns"), "WorkerRole has managed policies")
    check(source["Parameters"]["HubRoleName"]["AllowedPattern"].endswith("{1,57}$"),
          "HubRoleName must be at most 57 characters: the worker's role adds -worker (IAM allows 64)")
    failed_arn = r.get_att("FailedInvocationQueue", "Arn")
    for name, params in (("organization", HUB), ("listed members", HUB_LISTED), ("single account", {})):
        planner_st = resolved_statements(template, params)
        sends = sorted({res_ for st in planner_st if st["Effect"] == "Allow" and "sqs:SendMessage" in st["Action"]
                        for res_ in st["Resource"]})
        expected = sorted([failed_arn] + ([queue_arn] if params else []))
        check(sends == expected, f"{name}: the planner may send to {sends}, expected {expected}")
        check(not any(a.startswith("sqs:") and a != "sqs:SendMessage" for st in planner_st for a in st["Action"]),
              f"{name}: the planner needs no SQS action but SendMessage")
        if not params:
            continue
        worker_st = resolved_statements(template, params, "WorkerRole")
        actions = {a for st in worker_st if st["Effect"] == "Allow" for a in st["Action"]}
        check("sqs:SendMessage" not in actions and not any(a.startswith("sqs:") and a not in
              ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes") for a in actions),
              f"{name}: the worker's role may only consume the work queue: {sorted(a for a in actions if a.startswith('sqs:'))}")
        consume = [st for st in worker_st if any(a.startswith("sqs:") for a in st["Action"])]
        check(len(consume) == 1 and sorted(consume[0]["Action"]) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
              and consume[0]["Resource"] == [queue_arn],
              f"{name}: the worker's role consumes the work queue only (ReceiveMessage, DeleteMessage, GetQueueAttributes): {consume}")
        check(not ({"organizations:ListAccounts", "organizations:DescribeOrganization"} & actions),
              f"{name}: the worker never lists the organization")
        # Everything else the planner has, the worker has too (one policy, DatabaseSecretsPolicy).
        own = {"WriteOwnLogs", "SendFailedInvocations", "PlanIntoWorkQueue", "ListOrganizationAccounts"}
        shared = [st for st in planner_st if st.get("Sid") not in own]
        check(all(st in worker_st for st in shared), f"{name}: the worker lacks the planner's "
              f"{[st.get('Sid') for st in shared if st not in worker_st]}")

    # The Rule: the reserved concurrency covers the mapping's maximum, for every pair of the ladders.
    for m in LADDER:
        for reserved in LADDER:
            refused = [k for k, _ in rule_failures(source, {**HUB, "WorkerMaxConcurrency": m, "WorkerReservedConcurrency": reserved})]
            expected = ["WorkerReservedCoversMaximumConcurrency"] if int(reserved) < int(m) else []
            check(refused == expected, f"WorkerMaxConcurrency {m}, WorkerReservedConcurrency {reserved}: refused by {refused}, expected {expected}")
            check(not rule_failures(source, {"WorkerMaxConcurrency": m, "WorkerReservedConcurrency": reserved}),
                  "a single account does not use the worker settings: the Rule applies in hub mode only")

    # Outputs.
    for name, value in (("WorkQueueUrl", {"Ref": "WorkQueue"}), ("WorkDLQUrl", {"Ref": "WorkDLQ"}),
                        ("WorkerFunctionArn", {"Fn::GetAtt": ["WorkerFunction", "Arn"]}),
                        ("WorkerRoleArn", {"Fn::GetAtt": ["WorkerRole", "Arn"]})):
        output = source.get("Outputs", {}).get(name, {})
        check(output.get("Value") == value and output.get("Condition") == "IsHub", f"output {name} must be {value}, under IsHub")
    return failures


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    table_path = sys.argv[2] if len(sys.argv) > 2 else "target/trigger-table.json"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        text = f.read()
    anchors = yaml_anchors(text)
    if anchors:
        for line in anchors:
            print(f"FAIL YAML anchor or alias (CloudFormation rejects them): {line}")
        return 1
    template = yaml_parse(text)
    source = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"
    out = transform(template, {}, NoManagedPolicies())
    resources = out["Resources"]
    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    check(sorted(functions) == ["ProvisionerFunction", "WorkerFunction"] and "Condition" not in functions["ProvisionerFunction"]
          and functions["WorkerFunction"].get("Condition") == "IsHub",
          f"expected ProvisionerFunction, and WorkerFunction under IsHub, found {list(functions)}")
    fn = functions["ProvisionerFunction"]["Properties"]
    check(fn.get("Runtime") == "provided.al2023", "Runtime must be provided.al2023")
    check(fn.get("Architectures") == ["arm64"], "Architectures must be [arm64]")
    check(fn.get("Handler") == "bootstrap", "Handler must be bootstrap")
    check(fn.get("Timeout", 0) >= 660, "Timeout must cover the availability wait")
    check(fn.get("LoggingConfig", {}).get("LogFormat") == "JSON", "logs must be JSON")
    env = set(fn.get("Environment", {}).get("Variables", {}))
    check(CONFIG_VARIABLES | PLANNER_VARIABLES <= env, f"environment lacks {sorted(CONFIG_VARIABLES | PLANNER_VARIABLES - env)}")

    rules = {k: v["Properties"] for k, v in resources.items()
             if v["Type"] == "AWS::Events::Rule" and "Condition" not in v}
    hub_rules = {k: v["Properties"] for k, v in resources.items()
                 if v["Type"] == "AWS::Events::Rule" and v.get("Condition") == "IsHub"}
    check(len(rules) == 5, f"expected 5 rules (RDS, CloudTrail, Serverless, users, reconcile), found {sorted(rules)}")
    for name, rule in rules.items():
        for target in rule.get("Targets", []):
            check("RetryPolicy" in target, f"{name}: target without RetryPolicy")
            check("Arn" in target.get("DeadLetterConfig", {}), f"{name}: target without a dead-letter queue")
    with open(table_path) as f:
        table = json.load(f)
    parameters = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    base = {"Resources": {k: v for k, v in resources.items() if "Condition" not in v}}
    for failure in triggers.check(triggers.rules_of(base, parameters), table,
                                  parameters.get("UserEventSource")):
        check(False, failure)
    check(any("ScheduleExpression" in r for r in rules.values()), "no reconcile schedule")

    invoke_configs = [v for v in resources.values() if v["Type"] == "AWS::Lambda::EventInvokeConfig"]
    check(len(invoke_configs) == 1 and "OnFailure" in invoke_configs[0]["Properties"].get("DestinationConfig", {}),
          "the async invocation config needs an on-failure destination")

    # Every statement of every role's policies (inline, and AWS::IAM::Policy), each with the
    # condition it stands under: its Fn::If's, else its resource's (WorkerRole: IsHub).
    policies = []
    for v in resources.values():
        docs = []
        if v["Type"] == "AWS::IAM::Role":
            docs = [p["PolicyDocument"] for p in v["Properties"].get("Policies", [])]
        elif v["Type"] == "AWS::IAM::Policy":
            docs = [v["Properties"]["PolicyDocument"]]
        for doc in docs:
            policies.extend((c or v.get("Condition"), st) for c, st in statements(doc))
    check(policies, "no IAM statements found")
    for condition, st in policies:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        for a in actions:
            check(a != "*" and not a.endswith(":*"), f"wildcard action {a}")
            if a == "secretsmanager:DeleteSecret":
                check((st["Effect"] == "Allow" and condition == "SchedulesDeletion") or
                      (st["Effect"] == "Deny" and "ForceDeleteWithoutRecovery" in json.dumps(st.get("Condition"))),
                      "DeleteSecret only with schedule-deletion, and never ForceDeleteWithoutRecovery")
            if a in OPTION_ACTIONS:
                check(condition in OPTION_ACTIONS[a],
                      f"{a} must be granted only under a condition of {sorted(OPTION_ACTIONS[a])}, found {condition}")
        resource = json.dumps(st.get("Resource"))
        conditions = json.dumps(st.get("Condition"))
        if "secretsmanager:TagResource" in actions and "secretsmanager:CreateSecret" not in actions:
            check("aws:TagKeys" in conditions, f"{st.get('Sid')}: tagging not limited to the function's tag keys")
        if any(a.startswith("ssm:") for a in actions):
            check("parameter${ParameterPrefix}*" in resource, f"SSM not scoped to the parameter prefix: {resource}")
        if st.get("Sid") == "NeverRepointOwnedSecrets":
            # Ownership tags at creation only: no TagResource of them on a managed-by secret.
            check(st["Effect"] == "Deny" and actions == ["secretsmanager:TagResource"] and
                  "secretsmanager:ResourceTag/managed-by" in conditions and "db-secret-provisioner:database" in conditions,
                  "NeverRepointOwnedSecrets must deny TagResource of the ownership keys on managed-by secrets")
        elif st["Effect"] == "Deny" or actions == ["secretsmanager:ListSecrets"]:
            # The Deny of ForceDeleteWithoutRecovery; ListSecrets, which AWS allows only on "*".
            check(st.get("Resource") == "*", f"{st.get('Sid')}: expected Resource '*'")
        elif any(a.startswith("secretsmanager:") for a in actions):
            check("secret:${SecretNamePrefix}*" in resource, f"Secrets Manager not scoped to the name prefix: {resource}")
            if actions != ["secretsmanager:DescribeSecret"]:
                check("managed-by" in conditions,
                      f"{actions} not conditioned on the managed-by tag: {conditions}")
            if "secretsmanager:CreateSecret" in actions:
                check("aws:RequestTag/managed-by" in conditions, "CreateSecret without aws:RequestTag/managed-by")
            elif st.get("Sid") == "ReplicateNewSecrets":
                # Part of CreateSecret with AddReplicaRegions: the request's tags.
                check(actions == ["secretsmanager:ReplicateSecretToRegions"] and
                      "aws:RequestTag/managed-by" in conditions, "ReplicateNewSecrets: only replication, on the request's tag")
            elif actions != ["secretsmanager:DescribeSecret"]:
                check("secretsmanager:ResourceTag/managed-by" in conditions,
                      f"{actions} not conditioned on secretsmanager:ResourceTag/managed-by")
        if st.get("Sid") in ("DescribeSecretsKey", "DescribeSecretsKeyByAlias"):
            # The key check calls DescribeKey itself (no service in between): no ViaService.
            by_alias = st["Sid"].endswith("ByAlias")
            check(actions == ["kms:DescribeKey"] and condition == ("UsesKmsKeyAlias" if by_alias else "HasKmsKeyArn"),
                  f"{st['Sid']}: only kms:DescribeKey, under {'UsesKmsKeyAlias' if by_alias else 'HasKmsKeyArn'}: "
                  f"{actions} {condition}")
            check("kms:ViaService" not in conditions, f"{st['Sid']}: DescribeKey is called directly, not via a service")
        elif any(a.startswith("kms:") for a in actions) and st.get("Sid") != "SealOwnSecrets":
            # (SealOwnSecrets: GenerateMac/VerifyMac on the stack's own HMAC key, checked below.)
            check("kms:ViaService" in conditions, f"KMS use without kms:ViaService: {actions}")
            check(condition in KEY_CONDITIONS, f"KMS granted without a key parameter: {actions} under {condition}")
        if any(a.startswith("kms:") for a in actions) and condition in ("UsesKmsKeyAlias", "UsesReplicaKmsKeyAliases"):
            # IAM takes key ARNs only: the alias is a kms:ResourceAliases condition on the own keys.
            check(st.get("Resource") == {"Fn::Sub": "arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*"},
                  f"{st.get('Sid')}: a grant by alias is on the account's own keys: {resource}")
            check("ForAnyValue:StringEquals" in st.get("Condition", {}) and "kms:ResourceAliases" in conditions,
                  f"{st.get('Sid')}: a grant by alias needs ForAnyValue:StringEquals kms:ResourceAliases")
        if actions in (["redshift:DescribeClusters"],) or "redshift-serverless:ListWorkgroups" in actions:
            check(st.get("Resource") == "*", f"listing calls need Resource '*': {actions}")

    # The seal key: HMAC, used by the function's role only (its key policy, and the policy
    # SealKeyUse of the role: GenerateMac and VerifyMac on that key, nothing else).
    key = resources.get("SealKey", {})
    kp = key.get("Properties", {})
    check(kp.get("KeySpec") == "HMAC_256" and kp.get("KeyUsage") == "GENERATE_VERIFY_MAC",
          "SealKey must be HMAC_256 with GENERATE_VERIFY_MAC")
    for st in kp.get("KeyPolicy", {}).get("Statement", []):
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        uses = any(a in ("kms:*", "kms:GenerateMac", "kms:VerifyMac", "kms:Generate*", "kms:Verify*") for a in acts)
        if uses:
            planner = {"Fn::GetAtt": ["ProvisionerRole", "Arn"]}
            check(st["Principal"] == {"AWS": {"Fn::If": ["IsHub", [planner, {"Fn::GetAtt": ["WorkerRole", "Arn"]}], planner]}},
                  f"SealKey policy {st.get('Sid')}: only the function's role (and in hub mode the worker's) may use the key")
    use = resources.get("SealKeyUse", {}).get("Properties", {})
    hub_roles = {"Fn::If": ["IsHub", [{"Ref": "ProvisionerRole"}, {"Ref": "WorkerRole"}], [{"Ref": "ProvisionerRole"}]]}
    check(use.get("Roles") == hub_roles, "SealKeyUse must be the function role's (and in hub mode the worker's)")
    for st in use.get("PolicyDocument", {}).get("Statement", []):
        check(sorted(st["Action"]) == ["kms:GenerateMac", "kms:VerifyMac"] and
              st["Resource"] == {"Fn::GetAtt": ["SealKey", "Arn"]},
              f"SealKeyUse: only GenerateMac and VerifyMac on SealKey: {st}")

    # "Database User Created" only on its own bus, from this account, with an optional Deny.
    buses = [k for k, v in resources.items() if v["Type"] == "AWS::Events::EventBus" and "Condition" not in v]
    check(len(buses) == 1, f"expected the user-event bus, found {buses}")
    user_rules = [r for r in rules.values() if "Database User Created" in json.dumps(r.get("EventPattern"))]
    check(len(user_rules) == 1 and user_rules[0].get("EventBusName") == {"Ref": buses[0]} and
          "account" in user_rules[0]["EventPattern"],
          "the user rule must be on the user-event bus and match the stack's account")
    policies_on_bus = [v for v in resources.values() if v["Type"] == "AWS::Events::EventBusPolicy"
                       and v.get("Condition") != "IsHub"]
    check(len(policies_on_bus) == 1 and policies_on_bus[0].get("Condition") == "HasUserEventSenders" and
          policies_on_bus[0]["Properties"]["Statement"]["Effect"] == "Deny" and
          "ArnNotLike" in policies_on_bus[0]["Properties"]["Statement"]["Condition"],
          "the user-event bus needs a Deny for principals outside UserEventSenders")
    fn_props = functions["ProvisionerFunction"]["Properties"]
    check("Fn::If" in json.dumps(fn_props.get("ReservedConcurrentExecutions")),
          "reserved concurrency must come from the optional ReservedConcurrency parameter")

    # CloudTrail rules are switchable (they need a trail); the Serverless rule matches only the
    # documented detail-type of its creation event.
    cloudtrail_rules = [r for r in rules.values() if "AWS API Call via CloudTrail" in json.dumps(r.get("EventPattern"))]
    check(cloudtrail_rules and all("Fn::If" in json.dumps(r.get("State")) for r in cloudtrail_rules),
          "the CloudTrail rule must follow the CloudTrailTriggers parameter")
    serverless_rules = [r for r in rules.values()
                        if r.get("EventPattern", {}).get("source") == ["aws.redshift-serverless"]]
    check(len(serverless_rules) == 1 and
          serverless_rules[0]["EventPattern"].get("detail-type") == ["Redshift Serverless Management"],
          "the Serverless rule must match detail-type Redshift Serverless Management only")

    # Queues encrypted and TLS-only; alarms on each queue and on the alarming error types.
    queues = [k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"]
    for q in queues:
        props = resources[q]["Properties"]
        check(props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, f"{q} is not encrypted")
        policies_of_q = [v for v in resources.values() if v["Type"] == "AWS::SQS::QueuePolicy"
                         and {"Ref": q} in v["Properties"]["Queues"]]
        check(any("aws:SecureTransport" in json.dumps(p) for p in policies_of_q), f"{q} accepts non-TLS requests")
    alarms = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::CloudWatch::Alarm"]
    for q in queues:
        # The work queue holds messages by design: its alarm is the age of the oldest one.
        metric = "ApproximateAgeOfOldestMessage" if q == "WorkQueue" else "ApproximateNumberOfMessagesVisible"
        check(any(a.get("MetricName") == metric and a.get("Namespace") == "AWS/SQS" and
                  a.get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [q, "QueueName"]}}]
                  for a in alarms), f"no {metric} alarm on {q}")
    filters = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::Logs::MetricFilter"]
    for error_type in ["UntrustedEvent", "SecretConflict", "ConfigurationError"]:
        check(any(error_type in f["FilterPattern"] and "$.fields.error_type" in f["FilterPattern"] for f in filters),
              f"no metric filter on error_type {error_type}")
        check(any(a.get("MetricName") == error_type for a in alarms), f"no alarm on {error_type}")
    check(any('"rotation stuck"' in f["FilterPattern"] for f in filters) and
          any(a.get("MetricName") == "RotationStuck" for a in alarms), "no alarm on stuck rotations")
    check(all("AlarmTopicArn" in json.dumps(a.get("AlarmActions")) for a in alarms),
          "every alarm must notify the optional AlarmTopicArn")
    # The worker's log group feeds every alarmed metric the function's does.
    by_group = {}
    for f in filters:
        for t in f["MetricTransformations"]:
            by_group.setdefault(json.dumps(f["LogGroupName"]), set()).add((f["FilterPattern"], t["MetricNamespace"], t["MetricName"]))
    alarmed = {a.get("MetricName") for a in alarms if a.get("Namespace") == "db-secret-provisioner"}
    own = {x for x in by_group.get(json.dumps({"Ref": "ProvisionerLogGroup"}), set()) if x[2] in alarmed}
    worker = by_group.get(json.dumps({"Ref": "WorkerLogGroup"}), set())
    check(own and own <= worker, f"the worker's log group lacks the alarmed metric filters {sorted(own - worker)}")
    check(all(v.get("Condition") == "IsHub" for v in resources.values()
              if v["Type"] == "AWS::Logs::MetricFilter" and v["Properties"]["LogGroupName"] == {"Ref": "WorkerLogGroup"}),
          "the worker's metric filters must be under IsHub, as its log group")

    # Hub mode: a bus the organization may put events on, the same rules on it (without the
    # account match: members' events), each with its retry policy, DLQ and invoke permission.
    hub_buses = [k for k, v in resources.items() if v["Type"] == "AWS::Events::EventBus" and v.get("Condition") == "IsHub"]
    check(len(hub_buses) == 1, f"expected one hub bus under IsHub, found {hub_buses}")
    hub_policies = [v for v in resources.values() if v["Type"] == "AWS::Events::EventBusPolicy" and v.get("Condition") == "IsHub"]
    check(len(hub_policies) == 2 and sorted(p["Properties"]["Statement"]["Effect"] for p in hub_policies) == ["Allow", "Deny"]
          and all(p["Properties"].get("EventBusName") == {"Ref": hub_buses[0] if hub_buses else ""} for p in hub_policies),
          "the hub bus needs its Allow (the organization's forwarding roles) and its Deny (everyone else)")
    check(len(hub_rules) == 4, f"expected 4 hub rules, found {sorted(hub_rules)}")
    base_patterns = [json.dumps({k: v for k, v in r.get("EventPattern", {}).items() if k != "account"}, sort_keys=True)
                     for r in rules.values()]
    for name, rule in hub_rules.items():
        check(rule.get("EventBusName") == {"Ref": hub_buses[0] if hub_buses else ""}, f"{name} is not on the hub bus")
        check(json.dumps(rule.get("EventPattern"), sort_keys=True) in base_patterns, f"{name} differs from its rule in the account")
        for target in rule.get("Targets", []):
            check("RetryPolicy" in target and "Arn" in target.get("DeadLetterConfig", {}), f"{name}: no retry policy or DLQ")
        check(any(v["Type"] == "AWS::Lambda::Permission" and v["Properties"].get("SourceArn") == {"Fn::GetAtt": [name, "Arn"]}
                  for v in resources.values()), f"{name}: no permission to invoke the function")

    failures.extend(hub_failures(out))
    failures.extend(work_queue_failures(out, source))
    guards, lines = guard_failures(out)
    failures.extend(guards)

    if failures:
        for f in failures:
            print(f"FAIL {f}")
        return 1
    print(f"template ok: 1 function (and the worker in hub mode), {len(rules)} rules with retry policy and DLQ, {len(policies)} IAM statements "
          f"(each option's actions under its condition, Secrets Manager writes conditioned on managed-by), "
          f"user events on their own bus; hub mode: keys by alias, sts:AssumeRole within the organization, "
          f"the bus for the forwarding roles only, reserved concurrency; the work queue: only the planner "
          f"sends, TLS only, visibility 6 x the worker's timeout for each of {len(template['Parameters']['WorkerTimeoutSeconds']['AllowedValues'])} timeouts, "
          f"maxReceiveCount, retention, SSE, the event source mapping, the worker's role and environment, "
          f"reserved >= maximum concurrency over {len(LADDER) ** 2} pairs")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Starts moto (the local AWS) for the tests and the demo, extended where moto falls short.

Prints `MOTO_PORT=<port>` once the server listens on 127.0.0.1, then serves until its standard
input closes (the Rust test process holds the other end, so moto never outlives the tests).

The extensions, each said where it is used:
- DocumentDB clusters (moto rejects engine `docdb`);
- an atomic CreateSecret (moto's check-then-insert races under concurrent calls);
- Redshift Serverless namespaces and workgroups (moto has no Redshift Serverless at all): a small
  emulation of the calls the function makes, per account and region;
- DB instance endpoints from tags: an instance tagged `moto:endpoint-address` reports that
  address (the real-database tests point an instance at a local PostgreSQL or MariaDB);
- replica KMS keys: a replica region's `KmsKeyId` is kept (moto reports the default key);
- ListSecretVersionIds reports each version's own CreatedDate (moto reports the time of the
  call);
- a symmetric key under `alias/db-secrets` (the key-check tests' KMS_KEY_ID);
- the seal key (HMAC_256) under `alias/db-secret-provisioner-seal` in the default account's
  regions, as SAM and CDK create it (the tests pass the alias as SEAL_KEY_ID);
- a DbiResourceId of its own for every DB instance, read replicas too (moto gives all the same
  constant, and a replica its source's; the database-id tag, tests/it/provenance.rs and the
  regional keys' `resourceId` rely on AWS's region-unique, immutable id);
- rotation without a Lambda to invoke: RotateSecret naming a function moto does not have turns
  rotation on as Secrets Manager does once the rotation function's test step passed (moto would
  need Docker to run one);
- SendMessage without moto's quadratic cost: moto computes every queue attribute, message counts
  included, for each message it accepts, so a plan of 8,000 place messages costs moto minutes
  of CPU (the benchmark's plan at scale); the counts are skipped while a message is accepted,
  and GetQueueAttributes still counts;
- deleting a cross-region read replica (moto fails, and its source keeps listing it);
- promoting a read replica detaches it from its source (moto keeps both links);
- with `--record DIR`: every request signed with the access key `function` (the function under
  test) is written to DIR/<pid>.jsonl with the parameters that decide the IAM permissions it
  needs (tests/deploy/iam_contract.py checks the templates' policies against them). Secret
  values and passwords are never recorded.

Usage: python moto_launcher.py [--port N] [--record DIR]   (default: a free port, no recording)
"""

import argparse
import functools
import random
import string
import io
import json
import logging
import re
import sys
import os
import threading
import urllib.parse
import uuid

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.rds import utils as rds_utils
from moto.rds.models import DBCluster, DBInstance
from moto.secretsmanager.models import SecretsManagerBackend
from werkzeug.serving import make_server

ENDPOINT_TAG = "moto:endpoint-address"


def allow_documentdb_clusters() -> None:
    """moto 5.2.5 rejects engine `docdb` in CreateDBCluster. DocumentDB shares the RDS API, so
    accepting the engine (with DocumentDB's version and port 27017) is all it takes."""
    engines = rds_utils.ClusterEngine.list_cluster_engines
    rds_utils.ClusterEngine.list_cluster_engines = staticmethod(lambda: engines() + ["docdb"])

    def for_docdb(default, value):
        return staticmethod(
            lambda engine, *a, **k: value if engine == "docdb" else default(engine, *a, **k)
        )

    DBCluster.default_engine_version = for_docdb(DBCluster.default_engine_version, "5.0.0")
    DBCluster.default_port = for_docdb(DBCluster.default_port, 27017)
    DBCluster.default_allocated_storage = for_docdb(DBCluster.default_allocated_storage, 1)


def make_create_secret_atomic() -> None:
    """Secrets Manager's CreateSecret is atomic: of concurrent calls for one name exactly one
    succeeds. moto's threaded server checks and inserts in two steps; a lock restores the
    real behaviour, so the concurrency tests judge the function, not a race inside moto."""
    lock = threading.Lock()
    create = SecretsManagerBackend.create_secret

    @functools.wraps(create)
    def locked(self, *args, **kwargs):
        with lock:
            return create(self, *args, **kwargs)

    SecretsManagerBackend.create_secret = locked


def linear_sqs_sends() -> None:
    """moto 5.2.5's SendMessage reads `queue.attributes` for ContentBasedDeduplication, which
    counts every message in the queue three times (waiting, delayed, in flight): sending n
    messages costs O(n²). The counts are not part of SendMessage's answer, so while a message is
    accepted they answer 0; GetQueueAttributes and everything else counts as before."""
    from moto.sqs.models import Queue, SQSBackend

    sending = threading.local()
    send = SQSBackend.send_message

    @functools.wraps(send)
    def linear(self, *args, **kwargs):
        sending.active = True
        try:
            return send(self, *args, **kwargs)
        finally:
            sending.active = False

    SQSBackend.send_message = linear
    for name in (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        count = getattr(Queue, name)
        setattr(
            Queue,
            name,
            property(lambda self, count=count: 0 if getattr(sending, "active", False) else count.fget(self)),
        )


def deleted_secrets_answer_as_aws() -> None:
    """An operation on a secret scheduled for deletion: AWS answers InvalidRequestException "You
    can't perform this operation on the secret because it was marked for deletion." (the text
    terraform-provider-aws matches; see docs/triggers.md). moto lets PutSecretValue through and
    answers DeleteSecret-again with its own words ("currently marked deleted"). Both are played
    as AWS answers them, so that concurrent retirements and writes are judged by AWS's rules."""
    from moto.secretsmanager.exceptions import InvalidRequestException

    text = "You can't perform this operation on the secret because it was marked for deletion."

    def refuse_when_deleted(method):
        @functools.wraps(method)
        def checked(self, secret_id, *args, **kwargs):
            secret = self.secrets.get(secret_id) if hasattr(self.secrets, "get") else None
            if secret is not None and hasattr(secret, "is_deleted") and secret.is_deleted():
                if method.__name__ != "delete_secret" or not kwargs.get("force_delete_without_recovery"):
                    raise InvalidRequestException(text)
            return method(self, secret_id, *args, **kwargs)

        return checked

    for name in ("delete_secret", "put_secret_value"):
        setattr(SecretsManagerBackend, name, refuse_when_deleted(getattr(SecretsManagerBackend, name)))


def endpoints_from_tags() -> None:
    """An instance's endpoint address is computed from its identifier in moto; an instance
    tagged `moto:endpoint-address` reports that address instead (its port is CreateDBInstance's
    `Port`), so a test can point it at a real database server on loopback."""
    computed = DBInstance.address

    def address(self):
        for tag in self.tags or []:
            if tag.get("Key") == ENDPOINT_TAG:
                return tag["Value"]
        return computed.fget(self)

    DBInstance.address = property(address)


def ports_follow_modify() -> None:
    """ModifyDBInstance with DBPortNumber changes the instance's port (moto stores the parameter
    and keeps the old port), as RDS does once the instance has restarted."""
    from moto.rds.models import DBInstance

    update = DBInstance.update

    @functools.wraps(update)
    def with_port(self, *args, **kwargs):
        port = kwargs.get("db_port_number") or kwargs.get("DBPortNumber")
        update(self, *args, **kwargs)
        if port:
            self.port = int(port)

    DBInstance.update = with_port


def unique_instance_resource_ids() -> None:
    """Every DB instance gets its own DbiResourceId, as in AWS ("the AWS Region-unique,
    immutable identifier for the DB instance", RDS API reference): moto gives every instance the
    same constant. (Clusters already get a random DbClusterResourceId.)"""
    from moto.rds.models import DBInstance

    init = DBInstance.__init__

    @functools.wraps(init)
    def with_own_id(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.dbi_resource_id = "db-" + "".join(
            random.choice(string.ascii_uppercase + string.digits) for _ in range(26))

    DBInstance.__init__ = with_own_id

    # A read replica is its own instance with its own id; moto makes it a copy of its source.
    from moto.rds.models import RDSBackend

    replicate = RDSBackend.create_db_instance_read_replica

    @functools.wraps(replicate)
    def replica_with_own_id(self, *args, **kwargs):
        replica = replicate(self, *args, **kwargs)
        replica.dbi_resource_id = "db-" + "".join(
            random.choice(string.ascii_uppercase + string.digits) for _ in range(26))
        return replica

    RDSBackend.create_db_instance_read_replica = replica_with_own_id


def replica_kms_keys() -> None:
    """moto reports every replica as encrypted with the default key; keep the `KmsKeyId` given
    for its region, as Secrets Manager does."""
    from moto.secretsmanager.models import FakeSecret

    create = FakeSecret.create_replicas

    @functools.wraps(create)
    def with_keys(self, replica_regions, *args, **kwargs):
        replicas = create(self, replica_regions, *args, **kwargs)
        keys = {r["Region"]: r.get("KmsKeyId") for r in replica_regions or []}
        for replica in replicas:
            if keys.get(replica.region):
                replica.config["KmsKeyId"] = keys[replica.region]
        return replicas

    FakeSecret.create_replicas = with_keys


def alias_arn_key_ids() -> None:
    """A secret created with a key alias reports the alias ARN: DescribeSecret's `KmsKeyId` is
    "the key ID or alias ARN of the KMS key that Secrets Manager uses to encrypt the secret
    value" (DescribeSecret API reference). moto echoes the alias name as given."""
    from moto.secretsmanager.models import FakeSecret

    def arn_of(key, account, region):
        if isinstance(key, str) and key.startswith("alias/") and key != "alias/aws/secretsmanager":
            return f"arn:aws:kms:{region}:{account}:{key}"
        return key

    init = FakeSecret.__init__

    @functools.wraps(init)
    def with_alias_arn(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.kms_key_id = arn_of(self.kms_key_id, self.account_id, self.region)

    FakeSecret.__init__ = with_alias_arn
    create = FakeSecret.create_replicas

    @functools.wraps(create)
    def replicas_with_alias_arns(self, *args, **kwargs):
        replicas = create(self, *args, **kwargs)
        for replica in replicas:
            key = replica.config.get("KmsKeyId")
            replica.config["KmsKeyId"] = arn_of(key, self.account_id, replica.region)
        return replicas

    FakeSecret.create_replicas = replicas_with_alias_arns


def version_dates() -> None:
    """ListSecretVersionIds: each version's own CreatedDate ("the date and time the version
    was created", ListSecretVersionIds API reference). moto reports the time of the call."""
    listed = SecretsManagerBackend.list_secret_version_ids

    @functools.wraps(listed)
    def dated(self, secret_id, *args, **kwargs):
        out = json.loads(listed(self, secret_id, *args, **kwargs))
        secret = self.secrets[secret_id]
        for v in out.get("Versions", []):
            created = secret.versions.get(v["VersionId"], {}).get("createdate")
            if created is not None:
                v["CreatedDate"] = created
        return json.dumps(out)

    SecretsManagerBackend.list_secret_version_ids = dated


# The prefix of a ClientRequestToken (the new version's id) whose version the launcher dates
# two days back: moto dates every version "now", and a failed rotation's AWSPENDING version is
# old (tests/it/e2e.rs plays a stuck rotation with it).
AGED_VERSION_PREFIX = "aged-two-days-"


def aged_versions() -> None:
    """PutSecretValue with a token starting AGED_VERSION_PREFIX: the version is dated two days
    ago, as a failed rotation leaves its AWSPENDING version behind (moto cannot age one)."""
    put = SecretsManagerBackend.put_secret_value

    @functools.wraps(put)
    def aged(self, secret_id, *args, **kwargs):
        out = put(self, secret_id, *args, **kwargs)
        token = kwargs.get("client_request_token") or (args[2] if len(args) > 2 else None)
        if token and str(token).startswith(AGED_VERSION_PREFIX):
            version = self.secrets[secret_id].versions.get(token)
            if version is not None:
                version["createdate"] = int(version["createdate"]) - 2 * 86400
        return out

    SecretsManagerBackend.put_secret_value = aged


def rotation_without_lambda() -> None:
    """RotateSecret with a RotationLambdaARN that moto has no function for: turn rotation on
    and keep the versions as they are, as Secrets Manager does after the rotation function's
    testSecret step passed (RotateImmediately=false). moto itself would fail, or invoke the
    function in Docker."""
    rotate = SecretsManagerBackend.rotate_secret

    @functools.wraps(rotate)
    def emulated(self, *args, **kwargs):
        from moto.awslambda.utils import get_backend

        lambda_arn = kwargs.get("rotation_lambda_arn")
        secret_id = kwargs.get("secret_id", args[0] if args else None)
        if lambda_arn and secret_id in self.secrets:
            try:
                get_backend(self.account_id, self.region_name).get_function(lambda_arn)
            except Exception:
                secret = self.secrets[secret_id]
                secret.rotation_lambda_arn = lambda_arn
                secret.rotation_enabled = True
                secret.rotation_requested = True
                return secret.to_short_dict()
        return rotate(self, *args, **kwargs)

    SecretsManagerBackend.rotate_secret = emulated


# The parameters that decide the IAM permissions a call needs. Nothing else is recorded (never
# SecretString, a password, or a resource policy document).
RECORDED = {
    "Name", "SecretId", "Tags", "AddReplicaRegions", "KmsKeyId", "ForceOverwriteReplicaSecret",
    "RotationLambdaARN", "RotateImmediately", "RemoveReplicaRegions", "RecoveryWindowInDays",
    "ForceDeleteWithoutRecovery", "Filters", "IncludePlannedDeletion", "Path", "Recursive",
    "WithDecryption", "DBInstanceIdentifier", "DBClusterIdentifier", "ClusterIdentifier",
    "workgroupName", "namespaceName", "RoleArn", "RoleSessionName", "TagKeys", "VersionStage",
    "MaxResults", "NextToken", "Marker", "KeyId", "MacAlgorithm", "DBSnapshotIdentifier",
    "DBClusterSnapshotIdentifier", "SnapshotIdentifier", "SnapshotArn", "SourceIdentifier",
    "SourceIdentity", "AccountId", "QueueUrl",
}


def secret_state(account, region, secret_id):
    """The ARN, tags and KMS key of an existing secret, as moto holds it before the call."""
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        secret = secretsmanager_backends[account][region].secrets[secret_id]
    except Exception:
        return None
    return {"arn": secret.arn, "tags": {t["Key"]: t["Value"] for t in (secret.tags or [])},
            "kms_key_id": getattr(secret, "kms_key_id", None) or None}


def parameter_keys(account, region, params):
    """The KMS keys of the SecureString parameters a GetParameter or GetParametersByPath with
    decryption reads (the key decides the kms:Decrypt it needs)."""
    from moto.ssm.models import ssm_backends

    # A plain dict view: indexing moto's ParameterDict (a defaultdict) would create the name.
    parameters = dict(ssm_backends[account][region]._parameters)
    if "Name" in params:
        names = [params["Name"]]
    else:
        path = params.get("Path", "").rstrip("/") + "/"
        names = [n for n in parameters if n.startswith(path) and "/" not in n[len(path):]]
    keys = set()
    for name in names:
        versions = parameters.get(name) or []
        if versions and versions[-1].parameter_type == "SecureString":
            keys.add(versions[-1].keyid or "alias/aws/ssm")
    return sorted(keys)


# The function under test signs with this access key; in a member account it signs with the
# credentials of a member role it assumed with this source identity (its session names are
# event ids, remembered here as the function asks for them).
FUNCTION_KEY = "function"
# The worker function (HANDLER_MODE=worker) signs with its own key: its role is another.
WORKER_KEY = "worker"
FUNCTION_KEYS = (FUNCTION_KEY, WORKER_KEY)
FUNCTION_SOURCE_IDENTITY = "db-secret-provisioner"
FUNCTION_SESSIONS = set()


def note_function_session(environ, body):
    """Remembers the session name of an AssumeRole by the function that sets the source
    identity the member trust policy allows (moto keeps no source identity)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/]+)/", auth)
    if not m or m.group(1) not in FUNCTION_KEYS or environ.get("HTTP_X_AMZ_TARGET"):
        return
    form = urllib.parse.parse_qs(body.decode(errors="replace"))
    if form.get("Action", [""])[0] != "AssumeRole":
        return
    if form.get("SourceIdentity", [""])[0] == FUNCTION_SOURCE_IDENTITY:
        FUNCTION_SESSIONS.add(form.get("RoleSessionName", [""])[0])


def function_principal(access_key):
    """`function` for the function's own key, `role/<name>` for a member-role session of the
    function's, `None` for anyone else (the tests seeding and reading back)."""
    if access_key == FUNCTION_KEY:
        return "function"
    if access_key == WORKER_KEY:
        return "worker"
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    account = get_account_id_from(access_key)
    for backend in list(sts_backends[account].values()):
        role = backend.get_assumed_role_from_access_key(access_key)
        if role is not None and role.session_name in FUNCTION_SESSIONS:
            return "role/" + role.role_arn.split("/")[-1]
    return None


def assume_role_refused(environ, body):
    """AssumeRole by the function into an account where the role does not exist: AccessDenied,
    as IAM answers (moto lets anyone assume any role, existing or not). The tests seed with
    other credentials, which stay unrestricted."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/]+)/", auth)
    if not m or m.group(1) not in FUNCTION_KEYS or environ.get("HTTP_X_AMZ_TARGET"):
        return None
    form = urllib.parse.parse_qs(body.decode(errors="replace"))
    if form.get("Action", [""])[0] != "AssumeRole":
        return None
    arn = form.get("RoleArn", [""])[0]
    parts = arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return None
    account, name = parts[4], parts[5].split("/")[-1]
    from moto.iam.models import iam_backends

    roles = [r for p in list(iam_backends[account].values()) for r in list(p.roles.values())]
    if any(r.name == name for r in roles):
        return None
    return ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
            "<Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/provisioner "
            f"is not authorized to perform: sts:AssumeRole on resource: {arn}</Message></Error>"
            "<RequestId>denied</RequestId></ErrorResponse>")


class Recorder:
    """Writes one JSON line per request of the function under test."""

    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, f"{os.getpid()}.jsonl")
        self.lock = threading.Lock()

    def record(self, environ, body):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/", auth)
        if not m:
            return
        principal = function_principal(m.group(1))
        if principal is None:
            return
        account, region = caller(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            operation = target.split(".", 1)[1]
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                params = {}
        else:
            form = urllib.parse.parse_qs(body.decode(errors="replace"))
            params = {k: v[0] for k, v in form.items()}
            operation = params.pop("Action", "")
            # Query lists (Tags.member.1.Key, ...) are not needed for the services that use it.
        entry = {"service": m.group(3), "operation": operation, "account": account, "region": region,
                 "principal": principal, "params": {k: v for k, v in params.items() if k in RECORDED}}
        if m.group(3) == "secretsmanager" and "SecretId" in params:
            entry["secret"] = secret_state(account, region, params["SecretId"])
        if m.group(3) == "ssm" and params.get("WithDecryption") in (True, "true"):
            entry["parameter_keys"] = parameter_keys(account, region, params)
        self.write(entry)

    def failed(self, environ, error):
        self.write({"recorder_error": f"{type(error).__name__}: {error}",
                    "target": environ.get("HTTP_X_AMZ_TARGET", ""), "path": environ.get("PATH_INFO", "")})

    def write(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self.lock, open(self.path, "a") as f:
            f.write(line + "\n")


def caller(environ):
    """(account, region) of a signed request: the access key's account as moto maps it
    (assumed-role keys act in the role's account), the region of the signing scope."""
    from moto.iam.models import get_account_id_from

    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/", auth)
    if not m:
        return "123456789012", "us-east-1"
    return get_account_id_from(m.group(1)), m.group(2)


class ServerlessEmulation:
    """Redshift Serverless namespaces and workgroups: CreateNamespace, CreateWorkgroup,
    GetNamespace, GetWorkgroup, ListNamespaces, ListWorkgroups, UpdateWorkgroup (port),
    DeleteWorkgroup, DeleteNamespace. Workgroups are AVAILABLE at once, like everything in
    moto; a `manageAdminPassword` namespace reports an `adminPasswordSecretArn`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.namespaces = {}  # (account, region) -> {name: namespace}
        self.workgroups = {}

    @staticmethod
    def error(kind, message, status=400):
        return status, {"__type": kind, "message": message}

    def handle(self, account, region, action, body):
        key = (account, region)
        with self.lock:
            namespaces = self.namespaces.setdefault(key, {})
            workgroups = self.workgroups.setdefault(key, {})
            arn = lambda kind, id_: f"arn:aws:redshift-serverless:{region}:{account}:{kind}/{id_}"
            if action == "CreateNamespace":
                name = body["namespaceName"]
                if name in namespaces:
                    return self.error("ConflictException", f"namespace {name} exists")
                ns_id = str(uuid.uuid4())
                ns = {"namespaceName": name, "namespaceId": ns_id, "namespaceArn": arn("namespace", ns_id),
                      "adminUsername": body.get("adminUsername", "admin"), "dbName": body.get("dbName", "dev"),
                      "status": "AVAILABLE"}
                if body.get("manageAdminPassword"):
                    ns["adminPasswordSecretArn"] = (
                        f"arn:aws:secretsmanager:{region}:{account}:secret:redshift!{name}-admin-AbCdEf")
                namespaces[name] = ns
                return 200, {"namespace": ns}
            if action == "CreateWorkgroup":
                name = body["workgroupName"]
                if name in workgroups:
                    return self.error("ConflictException", f"workgroup {name} exists")
                if body.get("namespaceName") not in namespaces:
                    return self.error("ResourceNotFoundException", "namespace not found")
                wg_id = str(uuid.uuid4())
                port = int(body.get("port", 5439))
                wg = {"workgroupName": name, "workgroupId": wg_id, "workgroupArn": arn("workgroup", wg_id),
                      "namespaceName": body["namespaceName"], "status": "AVAILABLE", "port": port,
                      "endpoint": {"address": f"{name}.{account}.{region}.redshift-serverless.amazonaws.com",
                                   "port": port}}
                workgroups[name] = wg
                return 200, {"workgroup": wg}
            if action in ("GetWorkgroup", "UpdateWorkgroup", "DeleteWorkgroup"):
                wg = workgroups.get(body.get("workgroupName"))
                if wg is None:
                    return self.error("ResourceNotFoundException", "workgroup not found")
                if action == "UpdateWorkgroup" and "port" in body:
                    wg["port"] = int(body["port"])
                    wg["endpoint"]["port"] = wg["port"]
                if action == "DeleteWorkgroup":
                    del workgroups[wg["workgroupName"]]
                    wg = dict(wg, status="DELETING")
                return 200, {"workgroup": wg}
            if action in ("GetNamespace", "DeleteNamespace"):
                ns = namespaces.get(body.get("namespaceName"))
                if ns is None:
                    return self.error("ResourceNotFoundException", "namespace not found")
                if action == "DeleteNamespace":
                    del namespaces[ns["namespaceName"]]
                    ns = dict(ns, status="DELETING")
                return 200, {"namespace": ns}
            if action == "ListWorkgroups":
                return 200, {"workgroups": list(workgroups.values())}
            if action == "ListNamespaces":
                return 200, {"namespaces": list(namespaces.values())}
        return self.error("UnknownOperationException", f"{action} is not emulated", 400)


class Extensions:
    """WSGI middleware in front of moto: answers what the emulations cover, passes the rest."""

    def __init__(self, app, recorder=None):
        self.app = app
        self.serverless = ServerlessEmulation()
        self.recorder = recorder

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if self.recorder:
            try:
                self.recorder.record(environ, body)
            except Exception as e:  # the IAM contract fails on this line; the call goes on
                self.recorder.failed(environ, e)
        note_function_session(environ, body)
        refused = assume_role_refused(environ, body)
        if refused is not None:
            start_response("403 Forbidden", [("Content-Type", "text/xml")])
            return [refused.encode()]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("RedshiftServerless."):
            account, region = caller(environ)
            status, payload = self.serverless.handle(
                account, region, target.split(".", 1)[1], json.loads(body or b"{}"))
            headers = [("Content-Type", "application/x-amz-json-1.1")]
            if status != 200:
                headers.append(("x-amzn-ErrorType", payload["__type"]))
            start_response(f"{status} {'OK' if status == 200 else 'Bad Request'}", headers)
            return [json.dumps(payload).encode()]
        return self.app(environ, start_response)


SEAL_KEY_ALIAS = "alias/db-secret-provisioner-seal"
SEAL_KEY_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]
SECRETS_KEY_ALIAS = "alias/db-secrets"


def seal_keys() -> None:
    """The function's seal key, as SAM and CDK create it (KeySpec HMAC_256, KeyUsage
    GENERATE_VERIFY_MAC), with the alias the tests configure as SEAL_KEY_ID, in the default
    account's regions the tests run the function in. Made in moto's backend, before the server
    starts, so that the IAM recording sees only the function's own calls."""
    from moto.kms.models import kms_backends

    for region in SEAL_KEY_REGIONS:
        backend = kms_backends["123456789012"][region]
        key = backend.create_key(
            policy=None, key_usage="GENERATE_VERIFY_MAC", key_spec="HMAC_256",
            description="db-secret-provisioner seal (tests)", tags=None)
        backend.create_alias(key.id, SEAL_KEY_ALIAS)
    # A key for secrets under the alias the key-check tests configure as KMS_KEY_ID.
    backend = kms_backends["123456789012"]["us-east-1"]
    key = backend.create_key(
        policy=None, key_usage="ENCRYPT_DECRYPT", key_spec="SYMMETRIC_DEFAULT",
        description="db-secret-provisioner secrets key (tests)", tags=None)
    backend.create_alias(key.id, SECRETS_KEY_ALIAS)


class ExtendedMotoServer(ThreadedMotoServer):
    """moto's threaded server with the extensions in front."""

    recorder = None

    def _server_entry(self) -> None:
        app = Extensions(DomainDispatcherApplication(create_backend_app), self.recorder)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


def cross_region_replica_deletion() -> None:
    """Deleting a cross-region read replica works, and its source stops listing it: moto keeps
    a cross-region replica in its source's ReadReplicaDBInstanceIdentifiers by ARN (as AWS
    does) but removes it by identifier, so DeleteDBInstance fails with a ValueError after the
    replica is gone and the source keeps listing it (tests/it/replicated.rs)."""
    from moto.rds.models import DBInstance

    def remove_replica(self, replica):
        for name in (replica.db_instance_identifier, replica.db_instance_arn):
            if name in self.replicas:
                self.replicas.remove(name)

    DBInstance.remove_replica = remove_replica


def promotion_detaches_replicas() -> None:
    """A promoted read replica is a standalone instance: RDS clears its
    ReadReplicaSourceDBInstanceIdentifier and its source stops listing it. moto only flips its
    flag, keeping both (tests/it/replicated.rs)."""
    from moto.rds.models import RDSBackend

    promote = RDSBackend.promote_read_replica

    @functools.wraps(promote)
    def detached(self, db_kwargs):
        database = self.databases[db_kwargs["db_instance_identifier"]]
        source = database.source_db_instance_identifier if database.is_replica else None
        promoted = promote(self, db_kwargs)
        if source:
            try:
                self.find_db_from_id(source).remove_replica(promoted)
            except Exception:  # the source may be gone (deleted, or its region's backend)
                pass
            promoted.source_db_instance_identifier = None
        return promoted

    RDSBackend.promote_read_replica = detached


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", default=None)
    args = parser.parse_args()
    # No access log per request: the test output stays readable.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    allow_documentdb_clusters()
    make_create_secret_atomic()
    linear_sqs_sends()
    deleted_secrets_answer_as_aws()
    endpoints_from_tags()
    ports_follow_modify()
    rotation_without_lambda()
    version_dates()
    aged_versions()
    replica_kms_keys()
    alias_arn_key_ids()
    unique_instance_resource_ids()
    cross_region_replica_deletion()
    promotion_detaches_replicas()
    seal_keys()
    server = ExtendedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    if args.record:
        server.recorder = Recorder(args.record)
    server.start()
    _, port = server.get_host_and_port()
    print(f"MOTO_PORT={port}", flush=True)
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    server.stop()


if __name__ == "__main__":
    main()

//! Shared test support: moto (the local AWS), SDK clients pointed at it, seeding fixtures, event
//! builders, aws-smithy-mocks clients, captured logs, and the built function driven through a
//! local Lambda Runtime API.
//!
//! The test binary starts one shared moto server on a free loopback port (through
//! `moto_launcher.py`, with the venv the test command installs) and isolates its tests by giving
//! every database a unique identifier; a test that must see a whole account (the sweep, the
//! hostile table) starts a moto of its own.

pub mod accounts;
pub mod events;
pub mod fixtures;
pub mod http;
pub mod logs;
pub mod mocks;
pub mod proxy;
pub mod queue;
pub mod runtime_api;
pub mod servers;
pub mod snapshot;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::Credentials;
pub use db_secret_provisioner::aws::Clients;
pub use db_secret_provisioner::lambda::handler::Invocation;
use serde_json::Value;

use runtime_api::{Answer, RuntimeApi};

pub const REGION: &str = "us-east-1";
/// The seal key the moto launcher creates (HMAC_256) in the default account's regions; the
/// function gets it as `SEAL_KEY_ID` unless a test says otherwise (blank: no seal key).
pub const SEAL_KEY_ID: &str = "alias/db-secret-provisioner-seal";
pub const ACCOUNT: &str = "123456789012";

/// A running moto server.
pub struct Moto {
    pub endpoint: String,
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

/// The repository's root (this crate is `tests/support`).
pub fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python that has moto: `MOTO_PYTHON`, or the project's `.venv` (made by `make test`).
pub fn moto_python() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = project_dir().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "moto is not installed: run `make test` (it creates .venv with moto[server]) or set MOTO_PYTHON"
    );
    venv
}

/// Starts a moto server for this test binary (once) and returns it.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(None))
}

/// Where moto records the function's AWS operations during a test run (for the IAM contract,
/// `tests/deploy/iam_contract.py`): emptied once per run. Only the integration-test binary
/// records (cargo builds it as `deps/it-<hash>`); the demo and the bench, which use this crate
/// too, record nothing. (`cfg!(test)` cannot tell: this crate is never built as a test.)
fn record_dir() -> Option<PathBuf> {
    if !is_the_test_binary() {
        return None;
    }
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    Some(
        DIR.get_or_init(|| {
            let dir = project_dir().join("target/aws-operations");
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            dir
        })
        .clone(),
    )
}

/// Whether this process records the function's AWS operations (the integration tests do).
pub fn records_operations() -> bool {
    record_dir().is_some()
}

fn is_the_test_binary() -> bool {
    std::env::current_exe().is_ok_and(|exe| {
        let in_deps = exe.parent().is_some_and(|d| d.ends_with("deps"));
        let name = exe.file_name().map(|n| n.to_string_lossy().into_owned());
        in_deps && name.is_some_and(|n| n.starts_with("it-"))
    })
}

/// The access key the function under test signs with; moto records only its requests.
pub const FUNCTION_KEY: &str = "function";

/// Starts a separate moto server (e.g. one a test may stop).
pub fn start_moto(port: Option<u16>) -> Moto {
    let mut cmd = Command::new(moto_python());
    cmd.arg(project_dir().join("tests/support/moto_launcher.py"));
    if let Some(p) = port {
        cmd.args(["--port", &p.to_string()]);
    }
    if let Some(dir) = record_dir() {
        cmd.arg("--record").arg(dir);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start moto_launcher.py");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("moto_launcher.py exited before printing its port")
            .unwrap();
        if let Some(p) = line.strip_prefix("MOTO_PORT=") {
            break p.trim().to_string();
        }
    };
    // Keep draining moto's stdout so it never blocks on a full pipe.
    thread::spawn(move || for _ in lines {});
    let stdin = child.stdin.take().unwrap();
    Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _stdin: Mutex::new(stdin),
        _child: Mutex::new(child),
    }
}

/// SDK configuration for moto in `region`, as the function builds it from its environment,
/// signing as the tests themselves (seeding, reading back): not recorded.
pub async fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    sdk_config_as(endpoint, region, "testing").await
}

/// SDK configuration signing with `access_key` (`FUNCTION_KEY` for the function under test).
pub async fn sdk_config_as(endpoint: &str, region: &str, access_key: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(db_secret_provisioner::aws::retry_config())
        .timeout_config(db_secret_provisioner::aws::timeout_config())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(access_key, "testing", None, None, "tests"))
        .load()
        .await
}

pub async fn clients() -> Clients {
    Clients::new(&sdk_config(&moto().endpoint, REGION).await)
}

/// The handler over `clients`, configured from `vars` as if they were the environment (with
/// `AWS_REGION`): the one way the tests build a handler, over moto or over mocks.
pub fn handler_with(
    clients: Clients,
    vars: &[(&str, &str)],
) -> db_secret_provisioner::lambda::handler::Handler {
    let mut map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.entry("AWS_REGION".into())
        .or_insert_with(|| REGION.into());
    // Over moto, the launcher's seal key; mocked clients (no SDK configuration) answer KMS
    // only where a test gives rules and a key.
    if clients.sdk.is_some() {
        map.entry("SEAL_KEY_ID".into())
            .or_insert_with(|| SEAL_KEY_ID.into());
    }
    db_secret_provisioner::lambda::handler::Handler::new(
        db_secret_provisioner::config::Config::from_lookup(|k| map.get(k).cloned()).unwrap(),
        clients,
    )
}

/// The function's own clients against the local AWS at `endpoint` (its own access key).
pub async fn function_clients(endpoint: &str) -> Clients {
    Clients::new(&sdk_config_as(endpoint, REGION, FUNCTION_KEY).await)
}

/// The invocation as the function sees it in the tests: this account and region, no deadline
/// (the Runtime API server in `runtime_api.rs` names the same function ARN).
pub fn here() -> Invocation {
    Invocation::new(ACCOUNT, REGION)
}

/// The outcome JSON of `event` through the function's handler over the local AWS at
/// `endpoint`, configured with `vars`; an error as `{errorType, errorMessage}`.
pub async fn outcome_with(endpoint: &str, vars: &[(&str, &str)], event: &Value) -> Value {
    let h = handler_with(function_clients(endpoint).await, vars);
    match h.handle(event, &here()).await {
        Ok(o) => serde_json::to_value(o).unwrap(),
        Err(e) => serde_json::json!({"errorType": e.error_type(), "errorMessage": e.to_string()}),
    }
}

/// The report of one reconcile sweep (the scheduled event, 300 s left) over `endpoint` with
/// `vars`; it must answer `reconciled`.
pub async fn sweep_with(endpoint: &str, vars: &[(&str, &str)]) -> Value {
    let h = handler_with(function_clients(endpoint).await, vars);
    let o = h
        .handle(
            &events::scheduled(),
            &here().with_remaining(Duration::from_secs(300)),
        )
        .await
        .unwrap();
    let o = serde_json::to_value(o).unwrap();
    assert_eq!(o["outcome"], "reconciled", "{o}");
    o["sweep"].clone()
}

/// The outcome JSON of one event, default configuration, against this binary's moto.
pub async fn outcome(event: &Value) -> Value {
    let handler = handler_with(function_clients(&moto().endpoint).await, &[]);
    serde_json::to_value(handler.handle(event, &here()).await.unwrap()).unwrap()
}

/// A unique, valid RDS identifier for one test.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

// ---------------------------------------------------------------------------------------------
// Seeding moto

/// moto 5.2.5 creates instances of mysql, postgres, mariadb, oracle-ee/se/se1/se2,
/// sqlserver-ee/ex/se/web and neptune; it has no default version for mariadb. (The `-cdb`,
/// `custom-*`, `sqlserver-dev-ee` and `db2-*` engines are covered with aws-smithy-mocks.)
fn engine_version(engine: &str) -> Option<String> {
    (engine == "mariadb").then(|| "10.11.6".to_string())
}

pub async fn create_instance(c: &Clients, id: &str, engine: &str, username: &str) {
    let made = c
        .rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine(engine)
        .set_engine_version(engine_version(engine))
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username(username)
        .master_user_password("moto-master-pw-unused")
        .send()
        .await;
    // Under load the SDK may retry a CreateDBInstance whose first answer was slow: the retry
    // then meets the instance the first one made.
    if let Err(e) = made {
        if !e
            .as_service_error()
            .is_some_and(|err| err.is_db_instance_already_exists_fault())
        {
            panic!("create {engine} instance {id}: {e:?}");
        }
    }
}

/// ModifyDBInstance with a new port (the launcher applies it at once, as RDS does once the
/// instance restarts).
pub async fn set_port(c: &Clients, id: &str, port: i32) {
    c.rds
        .modify_db_instance()
        .db_instance_identifier(id)
        .db_port_number(port)
        .apply_immediately(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("modify the port of {id}: {e:?}"));
}

/// What DescribeDBInstances shows of one instance.
pub async fn describe_instance(c: &Clients, id: &str) -> aws_sdk_rds::types::DbInstance {
    c.rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe instance {id}: {e:?}"))
        .db_instances()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no instance {id}"))
}

/// Deletes an instance at once (no final snapshot).
pub async fn delete_instance(c: &Clients, id: &str) {
    c.rds
        .delete_db_instance()
        .db_instance_identifier(id)
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete instance {id}: {e:?}"));
}

/// A postgres instance whose master password RDS manages (`MasterUserSecret`).
pub async fn create_managed_instance(c: &Clients, id: &str) {
    c.rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .manage_master_user_password(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create managed instance {id}: {e:?}"));
}

/// An Aurora PostgreSQL member instance of `cluster`.
pub async fn create_member_instance(c: &Clients, id: &str, cluster: &str) {
    c.rds
        .create_db_instance()
        .db_instance_identifier(id)
        .db_cluster_identifier(cluster)
        .engine("aurora-postgresql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create member instance {id}: {e:?}"));
}

pub async fn create_cluster(
    c: &Clients,
    id: &str,
    engine: &str,
    username: &str,
    dbname: Option<&str>,
) {
    c.rds
        .create_db_cluster()
        .db_cluster_identifier(id)
        .engine(engine)
        .master_username(username)
        .master_user_password("moto-master-pw-unused")
        .set_database_name(dbname.map(str::to_string))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {engine} cluster {id}: {e:?}"));
}

pub async fn create_redshift_cluster(c: &Clients, id: &str, username: &str) {
    c.redshift
        .create_cluster()
        .cluster_identifier(id)
        .node_type("ra3.xlplus")
        .master_username(username)
        .master_user_password("Moto-master-pw-unused1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create Redshift cluster {id}: {e:?}"));
}

/// A Redshift Serverless namespace (admin user `admin`, database `db_name`) and its workgroup, in
/// the launcher's emulation; `port` as given, else the service's default.
pub async fn create_workgroup(
    c: &Clients,
    namespace: &str,
    workgroup: &str,
    db_name: &str,
    port: Option<i32>,
) {
    c.serverless
        .create_namespace()
        .namespace_name(namespace)
        .admin_username("admin")
        .db_name(db_name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create namespace {namespace}: {e:?}"));
    c.serverless
        .create_workgroup()
        .workgroup_name(workgroup)
        .namespace_name(namespace)
        .set_port(port)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create workgroup {workgroup}: {e:?}"));
}

pub async fn put_parameter(
    c: &Clients,
    name: &str,
    value: &str,
    kind: aws_sdk_ssm::types::ParameterType,
) {
    c.ssm
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put parameter {name}: {e:?}"));
}

/// Puts a SecureString parameter named `name`: only for parameters that are deliberately NOT the
/// default template's name (a custom template the test configures, a hostile name, a path under
/// another prefix). A database's default-named parameter is seeded through
/// [`fixtures::Db::put_password`] / [`fixtures::Db::put_password_of`].
pub async fn put_password(c: &Clients, name: &str, value: &str) {
    put_parameter(
        c,
        name,
        value,
        aws_sdk_ssm::types::ParameterType::SecureString,
    )
    .await
}

/// DescribeSecret of a secret the test expects to exist.
pub async fn describe_secret(
    c: &Clients,
    name: &str,
) -> aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput {
    match c.secrets.describe_secret().secret_id(name).send().await {
        Ok(d) => d,
        Err(e) => panic!("DescribeSecret {name}: {e:?}"),
    }
}

/// The value of tag `key` on secret `name` (which the test expects to exist).
pub async fn secret_tag(c: &Clients, name: &str, key: &str) -> Option<String> {
    describe_secret(c, name)
        .await
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value().map(str::to_string))
}

/// The stored secret's JSON, or `None` if there is no such secret.
pub async fn secret_json(c: &Clients, name: &str) -> Option<Value> {
    match c.secrets.get_secret_value().secret_id(name).send().await {
        Ok(out) => Some(serde_json::from_str(out.secret_string().unwrap()).unwrap()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("GetSecretValue {name}: {e:?}"),
    }
}

/// How many versions a secret has.
pub async fn version_count(c: &Clients, name: &str) -> usize {
    c.secrets
        .list_secret_version_ids()
        .secret_id(name)
        .send()
        .await
        .unwrap()
        .versions()
        .len()
}

// ---------------------------------------------------------------------------------------------
// The built function, run through the Runtime API

/// The function binary cargo built: known to integration tests at compile time; an example
/// finds it next to its own `examples/` folder.
pub fn built_binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_db-secret-provisioner") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("db-secret-provisioner");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --bins --examples` first",
        binary.display()
    );
    binary
}

/// A running function process with its own Runtime API.
pub struct Function {
    pub api: RuntimeApi,
    /// When the process was spawned (the start of its cold start).
    pub started: std::time::Instant,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Function {
    /// Starts `binary` against moto at `endpoint` with extra environment variables.
    pub fn start(binary: &Path, endpoint: &str, env: &[(&str, &str)]) -> Function {
        let api = RuntimeApi::start();
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "db-secret-provisioner")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", FUNCTION_KEY)
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("SEAL_KEY_ID", SEAL_KEY_ID)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(
                "RUST_LOG",
                std::env::var("FUNCTION_RUST_LOG").unwrap_or_else(|_| "trace".into()),
            );
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = std::time::Instant::now();
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the function binary");
        let output = Arc::new(Mutex::new(String::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            thread::spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    output.lock().unwrap().push_str(&line);
                    line.clear();
                }
            });
        }
        Function {
            api,
            started,
            child,
            output,
        }
    }

    /// Starts the binary cargo built for these tests against the shared moto.
    pub fn start_default(env: &[(&str, &str)]) -> Function {
        Function::start(&built_binary(), &moto().endpoint, env)
    }

    pub fn invoke(&self, event: &Value) -> Answer {
        self.api.invoke(event, Duration::from_secs(60))
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The logs once `count` lines contain `needle` (the process writes a line after it
    /// answers, so a test reading right after an answer may be a line early), or after 10 s.
    pub fn logs_with(&self, needle: &str, count: usize) -> String {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let logs = self.logs();
            if logs.lines().filter(|l| l.contains(needle)).count() >= count
                || std::time::Instant::now() >= until
            {
                return logs;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id (for /proc measurements).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit (after an init error); returns its exit status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Throwaway database servers for the real-database test: PostgreSQL and MariaDB from Debian's
//! packages (`make test` installs them when missing), each in a temp dir on a free loopback
//! port, stopped by PID when dropped. Needs root (as CI is): PostgreSQL's initdb runs as the
//! `postgres` user through `runuser`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running server.
pub struct Server {
    pub port: u16,
    pid: u32,
    dir: PathBuf,
    kind: Kind,
    child: Option<Child>,
}

#[derive(Clone, Copy)]
enum Kind {
    Postgres,
    MariaDb,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_dir(kind: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dsp-{kind}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e} (run `make test`, which installs the servers)"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The newest PostgreSQL server of Debian's packages (`/usr/lib/postgresql/N/bin`).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run `make test` (apt-get install postgresql)")
        .map(|e| e.unwrap().path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no PostgreSQL server binaries under /usr/lib/postgresql")
}

impl Server {
    /// A PostgreSQL server with local (socket) trust for `postgres` and password
    /// (scram-sha-256) authentication over TCP.
    pub fn postgres() -> Server {
        let bin = postgres_bin();
        let dir = temp_dir("pg");
        run(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir),
            "chown the PostgreSQL dir",
        );
        let data = dir.join("data");
        run(
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ]),
            "initdb",
        );
        let port = free_port();
        run(
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-o")
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1",
                    dir.display()
                ))
                .arg("-l")
                .arg(dir.join("log"))
                .args(["-w", "start"]),
            "pg_ctl start",
        );
        let pid = std::fs::read_to_string(data.join("postmaster.pid"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        Server {
            port,
            pid,
            dir,
            kind: Kind::Postgres,
            child: None,
        }
    }

    /// A MariaDB server; `root` authenticates over its socket.
    pub fn mariadb() -> Server {
        let dir = temp_dir("mariadb");
        let data = dir.join("data");
        run(
            Command::new("mariadb-install-db")
                .arg(format!("--datadir={}", data.display()))
                .args([
                    "--user=root",
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                ]),
            "mariadb-install-db",
        );
        let port = free_port();
        // Debian puts the server in /usr/sbin, which a CI PATH may lack.
        let mariadbd = ["/usr/sbin/mariadbd", "/usr/bin/mariadbd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("mariadbd");
        let child = Command::new(mariadbd)
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", dir.join("s").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .arg(format!("--log-error={}", dir.join("err").display()))
            .args(["--bind-address=127.0.0.1", "--user=root", "--skip-log-bin"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd (run `make test`, which installs mariadb-server)");
        let server = Server {
            port,
            pid: child.id(),
            dir,
            kind: Kind::MariaDb,
            child: Some(child),
        };
        let started = Instant::now();
        while !server.socket().exists() || !server.try_sql("SELECT 1") {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "mariadbd did not start: {}",
                std::fs::read_to_string(server.dir.join("err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("s")
    }

    fn sql_command(&self, sql: &str) -> Command {
        match self.kind {
            Kind::Postgres => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", "postgres", "--"])
                    .arg(postgres_bin().join("psql"))
                    .arg("-h")
                    .arg(&self.dir)
                    .args(["-p", &self.port.to_string(), "-U", "postgres"])
                    .args(["-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql]);
                cmd
            }
            Kind::MariaDb => {
                let mut cmd = Command::new("mariadb");
                cmd.arg(format!("--socket={}", self.socket().display()))
                    .args(["-u", "root", "-e", sql]);
                cmd
            }
        }
    }

    fn try_sql(&self, sql: &str) -> bool {
        self.sql_command(sql)
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs one SQL statement as the server's superuser.
    pub fn sql(&self, sql: &str) {
        run(&mut self.sql_command(sql), sql);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Path::new(&format!("/proc/{}", self.pid)).exists() && Instant::now() < deadline {
            if let Some(child) = &mut self.child {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

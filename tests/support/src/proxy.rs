//! A fault-injecting HTTP proxy in front of moto: adds a fixed delay to every AWS request
//! (the benchmark counts sequential round trips with it), answers 503 or never answers
//! (timeouts), or goes down after N requests ("moto stopped mid-invocation"). It also records
//! each request's AWS operation.

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::http::{read_request, HttpRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    /// Answer every request with this HTTP status (e.g. 503).
    Status(u16),
    /// Accept and never answer.
    BlackHole,
    /// Forward this many more requests, then refuse (close) every connection.
    DownAfter(usize),
    /// Answer requests of this operation with 400 AccessDenied; forward the rest.
    Deny(&'static str),
    /// Answer each request of an `(operation, marker)` rule's operation whose body contains
    /// its marker (e.g. a part of a secret's name) with AccessDenied, as a resource policy with
    /// an explicit deny makes AWS answer (moto does not enforce resource policies); forward the
    /// rest.
    DenyWhere(&'static [(&'static str, &'static str)]),
    /// Hold each request matching an `(operation, marker)` rule this long, then forward it (a
    /// slow dependency); forward the rest at once.
    DelayWhere(&'static [(&'static str, &'static str)], Duration),
    /// Answer each request of an `(operation, marker, error code)` rule's operation whose body
    /// contains its marker with that AWS error, in the protocol's documented shape (JSON
    /// protocols: 400 and `__type`; query protocols: 403 and an XML `Code`), e.g. STS's
    /// `RegionDisabledException`, which moto never answers; forward the rest.
    FailWhere(&'static [(&'static str, &'static str, &'static str)]),
    /// Answer the next `times` SQS `SendMessageBatch` requests whose body contains `marker`
    /// with HTTP 200 and every entry in `Failed` (`Code` InternalError, or
    /// InvalidParameterValue with `sender_fault`), as AWS documents a batch whose entries
    /// fail one by one ("check for batch errors even when the call returns an HTTP status code
    /// of 200"); moto only ever fails an entry for a bad DelaySeconds. Then forward.
    RefuseEntriesWhere {
        marker: &'static str,
        times: usize,
        sender_fault: bool,
    },
    /// A region that is down: every request signed for it (its SigV4 credential scope names
    /// it) has its connection closed unanswered, and is counted ([`Proxy::refused`]); forward
    /// the rest.
    RegionDown(&'static str),
}

struct State {
    mode: Mode,
    delay: Duration,
    operations: Vec<String>,
    /// The form parameters of each STS AssumeRole request, in order.
    assume_role: Vec<Vec<(String, String)>>,
    /// Requests refused by `RegionDown`.
    refused: usize,
}

pub struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Forward,
            delay: Duration::ZERO,
            operations: Vec::new(),
            assume_role: Vec::new(),
            refused: 0,
        }));
        let shared = state.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (state, upstream) = (shared.clone(), upstream.clone());
                thread::spawn(move || {
                    let _ = serve(client, &upstream, &state);
                });
            }
        });
        Proxy { addr, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// The AWS operations requested so far, in order (e.g. `DescribeDBInstances`).
    pub fn operations(&self) -> Vec<String> {
        self.state.lock().unwrap().operations.clone()
    }

    /// How many requests `RegionDown` refused.
    pub fn refused(&self) -> usize {
        self.state.lock().unwrap().refused
    }

    pub fn clear_operations(&self) {
        let mut s = self.state.lock().unwrap();
        s.operations.clear();
        s.assume_role.clear();
    }

    /// The form parameters (`RoleArn`, `RoleSessionName`, `SourceIdentity`, ...) of each
    /// AssumeRole request since the last [`Proxy::clear_operations`].
    pub fn assume_role_requests(&self) -> Vec<std::collections::HashMap<String, String>> {
        let s = self.state.lock().unwrap();
        s.assume_role
            .iter()
            .map(|params| params.iter().cloned().collect())
            .collect()
    }
}

/// `X-Amz-Target: secretsmanager.CreateSecret` (JSON protocols) or `Action=…` (query protocols).
fn operation(req: &HttpRequest) -> String {
    if let Some(target) = req.header("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    let body = String::from_utf8_lossy(&req.body);
    body.split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{} {}", req.method, req.path))
}

/// The parameters of a form-encoded (query protocol) body.
fn form_params(body: &[u8]) -> Vec<(String, String)> {
    let decode = |v: &str| {
        let v = v.replace('+', " ");
        let mut out = Vec::new();
        let bytes = v.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&v[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Answers `req` with the AWS error `code`, in its protocol's shape.
fn fail(writer: &mut TcpStream, req: &HttpRequest, code: &str) -> std::io::Result<()> {
    if req.header("x-amz-target").is_some() {
        let body = format!(r#"{{"__type":"{code}","Message":"injected by the test proxy"}}"#);
        write!(
            writer,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-errortype: {code}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    } else {
        let body = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected by the test proxy</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        );
        write!(
            writer,
            "HTTP/1.1 403 Forbidden\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    }
}

/// Answers a `SendMessageBatch` with every entry failed, in SQS's JSON shape.
fn refuse_entries(
    writer: &mut TcpStream,
    req: &HttpRequest,
    sender_fault: bool,
) -> std::io::Result<()> {
    let request: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let code = if sender_fault {
        "InvalidParameterValue"
    } else {
        "InternalError"
    };
    let failed: Vec<serde_json::Value> = request["Entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    serde_json::json!({"Id": e["Id"], "SenderFault": sender_fault,
                                       "Code": code, "Message": "refused by the test proxy"})
                })
                .collect()
        })
        .unwrap_or_default();
    let body = serde_json::json!({"Successful": [], "Failed": failed}).to_string();
    write!(
        writer,
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The operation of the first rule `req` matches: its operation, and its marker in the body.
fn matching(rules: &[(&'static str, &'static str)], req: &HttpRequest) -> Option<&'static str> {
    let (op, body) = (operation(req), String::from_utf8_lossy(&req.body));
    rules
        .iter()
        .find(|(o, m)| *o == op && body.contains(m))
        .map(|(o, _)| *o)
}

fn serve(client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    while let Some(req) = read_request(&mut reader)? {
        let (mode, delay) = {
            let mut s = state.lock().unwrap();
            s.operations.push(operation(&req));
            if operation(&req) == "AssumeRole" {
                let form = form_params(&req.body);
                s.assume_role.push(form);
            }
            let current = s.mode;
            if let Mode::RefuseEntriesWhere {
                marker,
                times,
                sender_fault,
            } = current
            {
                let hit = operation(&req) == "SendMessageBatch"
                    && String::from_utf8_lossy(&req.body).contains(marker);
                if hit && times > 0 {
                    s.mode = Mode::RefuseEntriesWhere {
                        marker,
                        times: times - 1,
                        sender_fault,
                    };
                    drop(s);
                    refuse_entries(&mut writer, &req, sender_fault)?;
                    continue;
                }
            }
            if let Mode::RegionDown(region) = current {
                let scope = format!("/{region}/");
                if req
                    .header("authorization")
                    .is_some_and(|a| a.contains(&scope))
                {
                    s.refused += 1;
                    drop(s);
                    let _ = writer.shutdown(Shutdown::Both);
                    return Ok(());
                }
            }
            if let Mode::DownAfter(n) = current {
                s.mode = if n == 0 {
                    Mode::DownAfter(0)
                } else {
                    Mode::DownAfter(n - 1)
                };
            }
            (current, s.delay)
        };
        thread::sleep(delay);
        let mode = match mode {
            Mode::Deny(op) if op != operation(&req) => Mode::Forward,
            Mode::DenyWhere(rules) => match matching(rules, &req) {
                Some(o) => Mode::Deny(o),
                None => Mode::Forward,
            },
            Mode::FailWhere(rules) => {
                let (op, body) = (operation(&req), String::from_utf8_lossy(&req.body));
                match rules.iter().find(|(o, m, _)| *o == op && body.contains(m)) {
                    Some((_, _, code)) => {
                        fail(&mut writer, &req, code)?;
                        continue;
                    }
                    None => Mode::Forward,
                }
            }
            Mode::DelayWhere(rules, hold) => {
                if matching(rules, &req).is_some() {
                    thread::sleep(hold);
                }
                Mode::Forward
            }
            other => other,
        };
        match mode {
            Mode::BlackHole => {
                thread::sleep(Duration::from_secs(300));
                return Ok(());
            }
            Mode::DownAfter(0) => {
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
            Mode::Deny(op) if req.header("x-amz-target").is_some() => {
                // JSON protocols (Secrets Manager, SSM, KMS): AWS's shape of the refusal.
                let body = format!(
                    r#"{{"__type":"AccessDeniedException","Message":"User: arn:aws:sts::123456789012:assumed-role/fn/x is not authorized to perform: {op} with an explicit deny in a resource-based policy"}}"#
                );
                write!(
                    writer,
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-errortype: AccessDeniedException\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )?;
            }
            Mode::Deny(_) | Mode::DenyWhere(_) | Mode::DelayWhere(..) | Mode::FailWhere(_) => {
                let body = r#"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>denied by the test proxy</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
                write!(
                    writer,
                    "HTTP/1.1 403 Forbidden\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )?;
            }
            Mode::Status(code) => {
                let body =
                    r#"{"__type":"ServiceUnavailable","message":"injected by the test proxy"}"#;
                write!(
                    writer,
                    "HTTP/1.1 {code} Injected\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )?;
            }
            Mode::Forward
            | Mode::DownAfter(_)
            | Mode::RefuseEntriesWhere { .. }
            | Mode::RegionDown(_) => {
                let mut up = TcpStream::connect(upstream)?;
                let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path);
                for (k, v) in &req.headers {
                    if !k.eq_ignore_ascii_case("connection") {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                }
                head.push_str("Connection: close\r\n\r\n");
                up.write_all(head.as_bytes())?;
                up.write_all(&req.body)?;
                let mut response = Vec::new();
                up.read_to_end(&mut response)?;
                writer.write_all(&response)?;
                // The upstream closed its side: close ours too, the client reconnects.
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
        }
    }
    Ok(())
}

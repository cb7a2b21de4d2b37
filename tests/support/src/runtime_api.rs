//! A small Lambda Runtime API server (the 2018-06-01 API that Lambda serves to a custom
//! runtime): it hands out queued events on `/invocation/next` and collects what the function
//! posts back, so tests drive the built binary exactly the way Lambda does.

use std::collections::{HashMap, VecDeque};
use std::io::{BufReader, Write};

use super::http::read_request;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// What the function answered for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `/invocation/{id}/response`.
    Response(Value),
    /// `/invocation/{id}/error`: the body (`errorType`, `errorMessage`).
    Error(Value),
}

impl Answer {
    pub fn response(&self) -> &Value {
        match self {
            Answer::Response(v) => v,
            Answer::Error(e) => panic!("expected a response, the function failed: {e}"),
        }
    }

    pub fn error_type(&self) -> &str {
        match self {
            Answer::Error(e) => e["errorType"].as_str().unwrap_or(""),
            Answer::Response(v) => panic!("expected an error, the function answered {v}"),
        }
    }
}

#[derive(Default)]
struct State {
    /// (request id, event, the invocation's time until its deadline)
    queue: VecDeque<(String, String, Duration)>,
    answers: HashMap<String, Answer>,
    init_error: Option<Value>,
    first_next: Option<Instant>,
    next_calls: usize,
    counter: u64,
}

pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl RuntimeApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the runtime API");
        let addr = listener.local_addr().unwrap();
        let state: Arc<(Mutex<State>, Condvar)> = Arc::default();
        let shared = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                thread::spawn(move || {
                    let _ = serve(stream, &shared);
                });
            }
        });
        RuntimeApi { addr, state }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event and waits for the function's answer.
    pub fn invoke(&self, event: &Value, timeout: Duration) -> Answer {
        let id = self.enqueue(event);
        self.wait_answer(&id, timeout)
    }

    /// Queues an event with a deadline `time_left` after it is handed out (as Lambda's
    /// function timeout gives), and waits for the function's answer.
    pub fn invoke_with_deadline(
        &self,
        event: &Value,
        time_left: Duration,
        timeout: Duration,
    ) -> Answer {
        let id = self.enqueue_with_deadline(event, time_left);
        self.wait_answer(&id, timeout)
    }

    /// Queues an event (deadline in 120 s); returns its request id.
    pub fn enqueue(&self, event: &Value) -> String {
        self.enqueue_with_deadline(event, Duration::from_secs(120))
    }

    fn enqueue_with_deadline(&self, event: &Value, time_left: Duration) -> String {
        let (lock, cvar) = &*self.state;
        let mut s = lock.lock().unwrap();
        s.counter += 1;
        let id = format!("req-{:08}", s.counter);
        s.queue
            .push_back((id.clone(), event.to_string(), time_left));
        cvar.notify_all();
        id
    }

    pub fn wait_answer(&self, id: &str, timeout: Duration) -> Answer {
        let (lock, cvar) = &*self.state;
        let deadline = Instant::now() + timeout;
        let mut s = lock.lock().unwrap();
        loop {
            if let Some(a) = s.answers.get(id) {
                return a.clone();
            }
            if let Some(e) = &s.init_error {
                panic!("the function reported an init error: {e}");
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no answer for {id} within {timeout:?}");
            s = cvar.wait_timeout(s, left).unwrap().0;
        }
    }

    /// Waits for `/init/error`.
    pub fn wait_init_error(&self, timeout: Duration) -> Option<Value> {
        let (lock, cvar) = &*self.state;
        let deadline = Instant::now() + timeout;
        let mut s = lock.lock().unwrap();
        loop {
            if s.init_error.is_some() {
                return s.init_error.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            s = cvar.wait_timeout(s, left).unwrap().0;
        }
    }

    /// Waits for the first `/invocation/next` request (the end of the function's init).
    pub fn wait_first_next(&self, timeout: Duration) -> Option<Instant> {
        let (lock, cvar) = &*self.state;
        let deadline = Instant::now() + timeout;
        let mut s = lock.lock().unwrap();
        loop {
            if s.first_next.is_some() {
                return s.first_next;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            s = cvar.wait_timeout(s, left).unwrap().0;
        }
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &str,
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(out.as_bytes())?;
    stream.flush()
}

fn serve(stream: TcpStream, shared: &(Mutex<State>, Condvar)) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let (lock, cvar) = shared;
    while let Some(req) = read_request(&mut reader)? {
        let path = req.path.trim_start_matches("/2018-06-01/runtime");
        if req.method == "GET" && path == "/invocation/next" {
            let (id, body, time_left) = {
                let mut s = lock.lock().unwrap();
                s.next_calls += 1;
                if s.first_next.is_none() {
                    s.first_next = Some(Instant::now());
                    cvar.notify_all();
                }
                loop {
                    if let Some(item) = s.queue.pop_front() {
                        break item;
                    }
                    s = cvar.wait(s).unwrap();
                }
            };
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + time_left;
            respond(
                &mut writer,
                "200 OK",
                &[
                    ("lambda-runtime-aws-request-id", id),
                    (
                        "lambda-runtime-deadline-ms",
                        deadline.as_millis().to_string(),
                    ),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:db-secret-provisioner"
                            .into(),
                    ),
                    (
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000".into(),
                    ),
                ],
                &body,
            )?;
        } else if req.method == "POST" {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let mut s = lock.lock().unwrap();
            if path == "/init/error" {
                s.init_error = Some(body);
            } else if let Some(rest) = path.strip_prefix("/invocation/") {
                if let Some(id) = rest.strip_suffix("/response") {
                    s.answers.insert(id.to_string(), Answer::Response(body));
                } else if let Some(id) = rest.strip_suffix("/error") {
                    s.answers.insert(id.to_string(), Answer::Error(body));
                }
            }
            cvar.notify_all();
            drop(s);
            respond(&mut writer, "202 Accepted", &[], "{\"status\":\"OK\"}")?;
        } else {
            respond(&mut writer, "404 Not Found", &[], "{}")?;
        }
    }
    Ok(())
}

//! Test support: a real HTTP server on 127.0.0.1, the real `secwire` binary,
//! temporary configs and databases, and polling with deadlines.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};

/// What a route answers.
#[derive(Clone)]
pub enum Reply {
    /// Status, headers, body. `{{base}}` in the body is replaced by the
    /// server's base URL (`http://127.0.0.1:PORT`).
    Fixed {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Like `Fixed` with status 200, but answers 304 to a request whose
    /// `If-None-Match` equals `etag`.
    WithEtag {
        etag: String,
        content_type: String,
        body: Vec<u8>,
    },
    /// Answers after `delay` (server-side; used to make a client time out
    /// or to keep a run busy).
    Delayed { delay: Duration, inner: Box<Reply> },
    /// Computed per request from the request headers.
    Func(Arc<dyn Fn(&HeaderMap) -> Reply + Send + Sync>),
}

impl Reply {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Fixed {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply::Fixed {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: format!("status {status}").into_bytes(),
        }
    }

    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Fixed {
            status,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }

    pub fn rss(body: impl Into<Vec<u8>>) -> Reply {
        Reply::ok("application/rss+xml; charset=utf-8", body)
    }

    pub fn html(body: impl Into<Vec<u8>>) -> Reply {
        Reply::ok("text/html; charset=utf-8", body)
    }

    pub fn delayed(delay: Duration, inner: Reply) -> Reply {
        Reply::Delayed {
            delay,
            inner: Box::new(inner),
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
}

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Reply>>,
    hits: Mutex<Vec<Hit>>,
    base: Mutex<String>,
}

/// A real HTTP server on 127.0.0.1 with an ephemeral port, running on its
/// own runtime thread until dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    rt: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(State::default());
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        *state.base.lock().unwrap() = format!("http://{addr}");
        let st = state.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let st = st.clone();
            async move { handle(st, req).await }
        });
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer {
            addr,
            state,
            rt: Some(rt),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base(), path)
    }

    /// Sets (or replaces) what `path` answers.
    pub fn route(&self, path: &str, reply: Reply) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), reply);
    }

    /// All requests so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    /// Requests for `path` so far.
    pub fn hits_for(&self, path: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.path == path).collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.hits_for(path).len()
    }

    pub fn clear_hits(&self) {
        self.state.hits.lock().unwrap().clear();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

async fn handle(st: Arc<State>, req: Request<Body>) -> Response<Body> {
    let arrived = Instant::now();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let h = req.headers().clone();
    let get = |name: header::HeaderName| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let route = st.routes.lock().unwrap().get(&path).cloned();
    let base = st.base.lock().unwrap().clone();
    let mut reply = route.unwrap_or_else(|| Reply::status(404));
    // Recorded on arrival (a request that is never answered still counts);
    // the status is filled in once known (0 until then).
    let idx = {
        let mut hits = st.hits.lock().unwrap();
        hits.push(Hit {
            at: arrived,
            path: path.clone(),
            if_none_match: get(header::IF_NONE_MATCH),
            if_modified_since: get(header::IF_MODIFIED_SINCE),
            user_agent: get(header::USER_AGENT),
            status: 0,
        });
        hits.len() - 1
    };
    // Resolve computed, delayed and conditional replies.
    let (status, headers, body) = loop {
        match reply {
            Reply::Func(f) => reply = f(&h),
            Reply::Delayed { delay, inner } => {
                tokio::time::sleep(delay).await;
                reply = *inner;
            }
            Reply::WithEtag {
                etag,
                content_type,
                body,
            } => {
                if get(header::IF_NONE_MATCH).as_deref() == Some(etag.as_str()) {
                    break (304, vec![("etag".to_string(), etag)], Vec::new());
                }
                break (
                    200,
                    vec![
                        ("etag".to_string(), etag),
                        ("content-type".to_string(), content_type),
                    ],
                    body,
                );
            }
            Reply::Fixed {
                status,
                headers,
                body,
            } => break (status, headers, body),
        }
    };
    if let Some(h) = st.hits.lock().unwrap().get_mut(idx)
        && h.at == arrived
        && h.path == path
    {
        h.status = status;
    }
    let body = substitute(body, &base);
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
    for (k, v) in headers {
        let v = v.replace("{{base}}", &base);
        resp.headers_mut().append(
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    resp
}

fn substitute(body: Vec<u8>, base: &str) -> Vec<u8> {
    let needle = b"{{base}}";
    if !body.windows(needle.len()).any(|w| w == needle) {
        return body;
    }
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(needle) {
            out.extend_from_slice(base.as_bytes());
            i += needle.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// A temporary working directory with a config file and a database path.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.path("secwire.db")
    }

    pub fn config_path(&self) -> PathBuf {
        self.path("secwire.toml")
    }

    /// Writes a config with test-friendly fetch settings and these feeds
    /// (`(url, name)` pairs), plus `extra` TOML appended verbatim.
    pub fn write_config(&self, feeds: &[&str], extra: &str) {
        let mut s = format!(
            "[database]\npath = {:?}\n\n[fetch]\ntimeout_secs = 2\nconnect_timeout_secs = 2\nmax_feed_bytes = 200000\nmax_page_bytes = 300000\nconcurrency = 4\nper_host_concurrency = 4\nallow_private_addresses = true\nmin_host_delay = \"0s\"\nrespect_robots = false\n\n",
            self.db().display().to_string()
        );
        s.push_str(extra);
        s.push('\n');
        for f in feeds {
            s.push_str(&format!("[[feeds]]\nurl = {f:?}\n\n"));
        }
        std::fs::write(self.config_path(), s).unwrap();
    }

    /// A `secwire` command with this env's config, run in the temp dir.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_secwire"));
        c.arg("--config")
            .arg(self.config_path())
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("SECWIRE_CONFIG")
            .env_remove("SECWIRE_LOG")
            .env("NO_COLOR", "1");
        c
    }

    /// Runs `secwire ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("running secwire")
    }

    /// Runs and requires exit status 0.
    pub fn run_ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "secwire {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning secwire")
    }

    /// Opens the database read-only, as a person with sqlite3 would.
    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(self.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap()
    }

    pub fn scalar<T: rusqlite::types::FromSql>(&self, sql: &str) -> T {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// The first two columns of the one row `sql` selects, with `params`.
    pub fn pair<A, B>(&self, sql: &str, params: impl rusqlite::Params) -> (A, B)
    where
        A: rusqlite::types::FromSql,
        B: rusqlite::types::FromSql,
    {
        self.conn()
            .query_row(sql, params, |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// A running `secwire run`, killed if the test ends without stopping it.
pub struct Daemon {
    pub child: Option<Child>,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Sends a signal by name (`TERM`, `INT`, `HUP`).
    pub fn signal(&self, name: &str) {
        use nix::sys::signal::{Signal, kill};
        let sig = match name {
            "TERM" => Signal::SIGTERM,
            "INT" => Signal::SIGINT,
            "HUP" => Signal::SIGHUP,
            other => panic!("unknown signal {other}"),
        };
        let pid = nix::unistd::Pid::from_raw(self.pid() as i32);
        kill(pid, sig).unwrap_or_else(|e| panic!("kill -{name}: {e}"));
    }

    /// Waits for the process to exit, up to `deadline`; returns its output.
    pub fn wait(mut self, deadline: Duration) -> (Option<i32>, String, Duration) {
        let mut child = self.child.take().expect("daemon running");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return (status.code(), err, start.elapsed());
            }
            if start.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("daemon did not exit within {deadline:?}");
            }
            std::thread::park_timeout(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Schedule settings that keep daemon tests fast.
pub const FAST_DAEMON: &str = "[schedule]\nmin_interval = \"1s\"\nmax_interval = \"4s\"\ndefault_interval = \"1s\"\njitter = 0.0\n\n[daemon]\nshutdown_timeout = \"3s\"\narticle_retry_delay = \"1s\"\n";

impl Env {
    /// Starts `secwire run` with stderr captured.
    pub fn daemon(&self) -> Daemon {
        Daemon {
            child: Some(self.spawn(&["run"])),
        }
    }

    /// Counts rows, tolerating a database that does not exist yet.
    pub fn count(&self, sql: &str) -> i64 {
        if !self.db().exists() {
            return 0;
        }
        rusqlite::Connection::open_with_flags(self.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
            .unwrap_or(0)
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Polls `cond` until it holds or `deadline` passes; panics with `what`.
pub fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if cond() {
            return;
        }
        std::thread::yield_now();
        std::thread::park_timeout(Duration::from_millis(20));
    }
    panic!("timed out after {deadline:?} waiting for: {what}");
}

/// Reads a fixture file under tests/fixtures.
pub fn fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

pub fn fixture_str(rel: &str) -> String {
    String::from_utf8(fixture(rel)).unwrap()
}

/// A simple article page with enough text to count as an article.
pub fn article_page(title: &str, author: &str, paragraphs: &[&str]) -> String {
    let mut body = String::new();
    for p in paragraphs {
        body.push_str(&format!("<p>{p}</p>\n"));
    }
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Test News</title>
<meta name="author" content="{author}"></head>
<body><header><nav><a href="/">Home</a> <a href="/about">About</a></nav></header>
<main><article><h1>{title}</h1>{body}</article></main>
<footer>Copyright Test News. All rights reserved.</footer></body></html>"#
    )
}

/// Filler prose so that article bodies pass the minimum-length check.
pub const FILLER: &str = "Analysts said the decision followed months of review by officials, \
who examined procurement records, vendor contracts and security assessments across agencies \
before publishing their conclusions and a timetable for the changes.";

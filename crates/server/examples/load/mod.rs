//! What the load generators (`sync_load`, `checkout_load`) share: a small keep-alive
//! HTTP/1.1 client ([`Conn`]) on one thread, so the other core is left to the server; a
//! reproducible random source ([`Rng`]); nearest-rank percentiles; and CPU time read from
//! /proc ([`Usage`]), so a run reports what the server, PostgreSQL and the client itself
//! spent, and whether anything else was busy meanwhile.

use std::io;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The `error.code` of an error reply, for the error table.
pub fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".into())
}

/// xorshift64*: reproducible and cheap; no crate needed.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// The value below which `p` per cent of the sorted latencies lie (nearest rank), in ms.
pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// CPU time from /proc (Linux; zeros elsewhere): the whole machine (all processes, so a
/// database server too), this process, the server.
pub struct Usage {
    machine: u64,
    client: u64,
    server: Option<u64>,
    postgres: u64,
}

pub struct UsageDelta {
    pub machine_busy: f64,
    pub client: f64,
    pub server: Option<f64>,
    /// All processes named `postgres` (the backends serving the server's pool among them).
    pub postgres: f64,
}

/// Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

impl Usage {
    pub fn now(server_pid: Option<u32>) -> Usage {
        let server = server_pid.map(|p| process_ticks(&p.to_string()));
        Usage {
            machine: machine_ticks(),
            client: process_ticks("self"),
            server,
            postgres: command_ticks("postgres"),
        }
    }

    /// Seconds of CPU since `before`, per core summed.
    pub fn since(&self, before: &Usage) -> UsageDelta {
        let busy = self.machine - before.machine;
        UsageDelta {
            machine_busy: busy as f64 / TICKS,
            client: (self.client - before.client) as f64 / TICKS,
            server: self
                .server
                .zip(before.server)
                .map(|(a, b)| a.saturating_sub(b) as f64 / TICKS),
            postgres: self.postgres.saturating_sub(before.postgres) as f64 / TICKS,
        }
    }
}

/// Busy ticks of all CPUs (user, nice, system, irq, softirq) from the first line of /proc/stat.
fn machine_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    [0, 1, 2, 5, 6].iter().filter_map(|&i| fields.get(i)).sum()
}

/// utime + stime of every process whose command is `name` (those that exit meanwhile are lost).
fn command_ticks(name: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .map(|pid| process_ticks(&pid))
        .sum()
}

/// utime + stime of a process (all its threads), in ticks.
fn process_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name is in parentheses and may contain spaces: count fields after it.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum()
}

/// One keep-alive HTTP/1.1 connection: a request, then its whole answer (Content-Length or
/// chunked), then the next. Reconnects after an error.
pub struct Conn {
    addr: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(addr: String) -> Conn {
        Conn {
            addr,
            stream: None,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> io::Result<(u16, Vec<u8>)> {
        self.request_with(method, path, &[], body).await
    }

    /// [`Conn::request`] with extra request headers (`name`, `value`).
    pub async fn request_with(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<(u16, Vec<u8>)> {
        let answer = self.round_trip(method, path, headers, body).await;
        if answer.is_err() {
            self.stream = None;
        }
        answer
    }

    async fn round_trip(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<(u16, Vec<u8>)> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
            self.buf.clear();
        }
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.stream
            .as_mut()
            .expect("connected")
            .write_all(&request)
            .await?;
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n", 0) {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| bad("response head is not UTF-8"))?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (
                name.trim().to_ascii_lowercase(),
                value.trim().to_ascii_lowercase(),
            );
            match name.as_str() {
                "content-length" => {
                    length = Some(
                        value
                            .parse::<usize>()
                            .map_err(|_| bad("bad content-length"))?,
                    )
                }
                "transfer-encoding" => chunked = value.contains("chunked"),
                "connection" => close = value.contains("close"),
                _ => {}
            }
        }
        self.buf.drain(..head_end);
        let body = match (chunked, length) {
            (true, _) => self.chunked().await?,
            (false, Some(n)) => {
                while self.buf.len() < n {
                    self.fill().await?;
                }
                self.buf.drain(..n).collect()
            }
            (false, None) => return Err(bad("response without length (not supported)")),
        };
        if close {
            self.stream = None;
        }
        Ok((status, body))
    }

    /// Reads a chunked body from the buffer and the socket.
    async fn chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n", 0) {
                    break i;
                }
                self.fill().await?;
            };
            let size_text =
                std::str::from_utf8(&self.buf[..line_end]).map_err(|_| bad("bad chunk size"))?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                // The last chunk: no trailers are expected, so an empty line ends the body.
                while self.buf.len() < line_end + 4 {
                    self.fill().await?;
                }
                if &self.buf[line_end + 2..line_end + 4] != b"\r\n" {
                    return Err(bad("chunked trailers are not supported"));
                }
                self.buf.drain(..line_end + 4);
                return Ok(body);
            }
            let need = line_end + 2 + size + 2;
            while self.buf.len() < need {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
            self.buf.drain(..need);
        }
    }

    async fn fill(&mut self) -> io::Result<()> {
        let stream = self.stream.as_mut().ok_or_else(|| bad("not connected"))?;
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

//! The measured load's client: a lean HTTP/1.1 JSON-RPC sender.
//!
//! The bench shares the machine with the node (or anvil) it measures, so every microsecond the
//! client spends per request is taken from the system under test. This sender builds every
//! request's bytes before the clock starts and keeps one keep-alive connection per worker, so a
//! send is one socket write and one read of the response, which is only scanned for `"error"`
//! (parsed only when it has one). It speaks just enough HTTP/1.1 for a JSON-RPC server:
//! `Content-Length` and chunked responses.

use std::io;

use alloy_primitives::Bytes;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The `host:port` of an `http://` URL.
pub(crate) fn authority(url: &str) -> eyre::Result<String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| eyre::eyre!("{url}: the load sender speaks plain http:// only"))?;
    Ok(rest.split('/').next().unwrap_or_default().to_owned())
}

/// A ready-to-write HTTP request carrying `eth_sendRawTransaction` for each of `raws`: one
/// JSON-RPC call for one transaction, a JSON-RPC batch for more.
pub(crate) fn send_raw_request(host: &str, raws: &[&Bytes]) -> Vec<u8> {
    let call = |id: usize, raw: &Bytes| {
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"eth_sendRawTransaction","params":["{raw}"]}}"#
        )
    };
    let body = match raws {
        [raw] => call(0, raw),
        _ => {
            let calls: Vec<String> = raws
                .iter()
                .enumerate()
                .map(|(id, raw)| call(id, raw))
                .collect();
            format!("[{}]", calls.join(","))
        }
    };
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What a server answered to a request of `calls` JSON-RPC calls: one result per call, the
/// error message where it failed.
pub(crate) fn outcomes(body: &[u8], calls: usize) -> Vec<Result<(), String>> {
    // The common case, no error anywhere, costs a scan and no parse.
    if !body.windows(7).any(|window| window == b"\"error\"") {
        return vec![Ok(()); calls];
    }
    let failed = |message: String| vec![Err(message); calls];
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return failed(format!(
            "unparsable response: {}",
            String::from_utf8_lossy(body)
        ));
    };
    let one = |response: &serde_json::Value| match response.get("error") {
        None => Ok(()),
        Some(error) => Err(error
            .get("message")
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| error.to_string(), str::to_owned)),
    };
    match value {
        serde_json::Value::Array(responses) if responses.len() == calls => {
            responses.iter().map(one).collect()
        }
        serde_json::Value::Array(responses) => failed(format!(
            "{} responses to a batch of {calls}",
            responses.len()
        )),
        response => match one(&response) {
            // A whole batch refused with one error object.
            Err(message) => failed(message),
            Ok(()) => vec![Ok(()); calls],
        },
    }
}

/// One keep-alive HTTP/1.1 connection, one request at a time.
#[derive(Debug)]
pub(crate) struct Connection {
    authority: String,
    stream: Option<TcpStream>,
    /// Bytes read and not yet consumed.
    buffer: Vec<u8>,
}

impl Connection {
    pub(crate) fn new(authority: String) -> Self {
        Self {
            authority,
            stream: None,
            buffer: Vec::with_capacity(16 * 1024),
        }
    }

    /// Writes `request` and returns the response body. A connection the server closed while
    /// idle is opened again and the request written once more; one that fails mid-response is
    /// an error (the request may have been handled).
    pub(crate) async fn round_trip(&mut self, request: &[u8]) -> io::Result<Vec<u8>> {
        let reused = self.stream.is_some();
        match self.try_round_trip(request).await {
            Ok(body) => Ok(body),
            Err(Failure::BeforeResponse(_)) if reused => {
                self.stream = None;
                self.try_round_trip(request)
                    .await
                    .map_err(Failure::into_inner)
            }
            Err(failure) => {
                self.stream = None;
                Err(failure.into_inner())
            }
        }
    }

    async fn try_round_trip(&mut self, request: &[u8]) -> Result<Vec<u8>, Failure> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(Failure::BeforeResponse)?;
            stream.set_nodelay(true).map_err(Failure::BeforeResponse)?;
            self.stream = Some(stream);
            self.buffer.clear();
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream
            .write_all(request)
            .await
            .map_err(Failure::BeforeResponse)?;
        // The head: up to the blank line.
        let head_end = loop {
            if let Some(at) = find(&self.buffer, b"\r\n\r\n") {
                break at + 4;
            }
            let fresh = self.buffer.is_empty();
            if read_more(stream, &mut self.buffer).await? == 0 {
                let err = io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed");
                return Err(if fresh {
                    Failure::BeforeResponse(err)
                } else {
                    Failure::MidResponse(err)
                });
            }
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 200") && !head.starts_with("http/1.0 200") {
            let status = head.lines().next().unwrap_or_default().to_owned();
            return Err(Failure::MidResponse(io::Error::other(format!(
                "HTTP status {status}"
            ))));
        }
        let closes = head.contains("\r\nconnection: close");
        let body = if head.contains("\r\ntransfer-encoding: chunked") {
            self.buffer.drain(..head_end);
            self.read_chunked().await?
        } else {
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .ok_or_else(|| {
                    Failure::MidResponse(io::Error::other("response without a length"))
                })?;
            while self.buffer.len() < head_end + length {
                if read_more(self.stream.as_mut().expect("connected"), &mut self.buffer).await? == 0
                {
                    return Err(Failure::MidResponse(io::ErrorKind::UnexpectedEof.into()));
                }
            }
            let body = self.buffer[head_end..head_end + length].to_vec();
            self.buffer.drain(..head_end + length);
            body
        };
        if closes {
            self.stream = None;
        }
        Ok(body)
    }

    /// A chunked body, from the start of `buffer`.
    async fn read_chunked(&mut self) -> Result<Vec<u8>, Failure> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(at) = find(&self.buffer, b"\r\n") {
                    break at;
                }
                self.fill().await?;
            };
            let size_text = String::from_utf8_lossy(&self.buffer[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| {
                    Failure::MidResponse(io::Error::other(format!("bad chunk size {size_text:?}")))
                })?;
            // The chunk and its CRLF (after the last, empty chunk: the final CRLF).
            while self.buffer.len() < line_end + 2 + size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buffer[line_end + 2..line_end + 2 + size]);
            self.buffer.drain(..line_end + 2 + size + 2);
            if size == 0 {
                return Ok(body);
            }
        }
    }

    async fn fill(&mut self) -> Result<(), Failure> {
        let stream = self.stream.as_mut().expect("connected");
        if read_more(stream, &mut self.buffer).await? == 0 {
            return Err(Failure::MidResponse(io::ErrorKind::UnexpectedEof.into()));
        }
        Ok(())
    }
}

/// Where a round trip failed: before any byte of the response (the request can be written
/// again on a new connection) or in the middle of one.
enum Failure {
    BeforeResponse(io::Error),
    MidResponse(io::Error),
}

impl Failure {
    fn into_inner(self) -> io::Error {
        match self {
            Self::BeforeResponse(err) | Self::MidResponse(err) => err,
        }
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        Self::MidResponse(err)
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let read = stream.read(&mut chunk).await?;
    buffer.extend_from_slice(&chunk[..read]);
    Ok(read)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_one_call_or_a_batch() {
        let raw = Bytes::from_static(&[0x02, 0xab]);
        let one = String::from_utf8(send_raw_request("127.0.0.1:8545", &[&raw])).unwrap();
        let (head, body) = one.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("POST / HTTP/1.1\r\nHost: 127.0.0.1:8545\r\n"));
        assert!(head.ends_with(&format!("Content-Length: {}", body.len())));
        let call: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(call["method"], "eth_sendRawTransaction");
        assert_eq!(call["params"][0], "0x02ab");

        let batch = String::from_utf8(send_raw_request("h:1", &[&raw, &raw])).unwrap();
        let body = batch.split_once("\r\n\r\n").unwrap().1;
        let calls: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(calls.as_array().unwrap().len(), 2);
        assert_eq!(calls[1]["id"], 1);
    }

    #[test]
    fn errors_are_found_per_call() {
        assert_eq!(
            outcomes(br#"{"jsonrpc":"2.0","id":0,"result":"0x12"}"#, 1),
            vec![Ok(())]
        );
        assert_eq!(
            outcomes(
                br#"{"jsonrpc":"2.0","id":0,"error":{"code":-32000,"message":"nonce too low"}}"#,
                1
            ),
            vec![Err("nonce too low".to_owned())]
        );
        assert_eq!(
            outcomes(
                br#"[{"id":0,"result":"0x1"},{"id":1,"error":{"code":-32003,"message":"txpool is full"}}]"#,
                2
            ),
            vec![Ok(()), Err("txpool is full".to_owned())]
        );
        assert_eq!(
            outcomes(
                br#"{"id":null,"error":{"code":-32600,"message":"too big"}}"#,
                3
            ),
            vec![Err("too big".to_owned()); 3]
        );
        assert!(outcomes(br#"[{"id":0,"error":{}}]"#, 2)[0].is_err());
    }

    #[tokio::test]
    async fn reads_length_and_chunked_responses_on_one_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            // First request: a Content-Length response, sent in two writes.
            let _ = socket.read(&mut buf).await.unwrap();
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello")
                .await
                .unwrap();
            socket.write_all(b" world").await.unwrap();
            // Second: chunked, then the server closes.
            let _ = socket.read(&mut buf).await.unwrap();
            socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                )
                .await
                .unwrap();
        });
        let mut connection = Connection::new(addr);
        assert_eq!(
            connection
                .round_trip(b"GET / HTTP/1.1\r\n\r\n")
                .await
                .unwrap(),
            b"hello world"
        );
        assert_eq!(
            connection
                .round_trip(b"GET / HTTP/1.1\r\n\r\n")
                .await
                .unwrap(),
            b"abcde"
        );
        assert!(connection.stream.is_none(), "closed as the server said");
        server.await.unwrap();
    }
}

//! http.rs - the HTTP/1.x request parser of `httpd` (pure, host-tested):
//! a request is its request line and headers, at most REQUEST_MAX bytes
//! (431 past that); bodies are not taken (a request that announces one is
//! answered and its connection closed). Keep-alive follows RFC 9112:
//! HTTP/1.1 keeps the connection unless `Connection: close`, HTTP/1.0
//! closes it unless `Connection: keep-alive`.

/// Largest request (line and headers, with the blank line) accepted.
pub const REQUEST_MAX: usize = 2048;
/// Most header lines.
pub const HEADERS_MAX: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    /// Any other well-formed method (answered 405).
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: Method,
    /// The target without its query ("/hello.txt" of "/hello.txt?x=1").
    pub path: &'a str,
    pub keep_alive: bool,
    /// The request announced a body (Content-Length > 0 or
    /// Transfer-Encoding): it is not read; the server closes after answering.
    pub has_body: bool,
    /// Bytes of the buffer this request took (the next one starts there).
    pub len: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse<'a> {
    /// Not all here yet (and within REQUEST_MAX).
    Incomplete,
    Ok(Request<'a>),
    /// Malformed: 400, then close.
    Bad,
    /// Longer than REQUEST_MAX without its end: 431, then close.
    TooLarge,
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// The end of the header block: the index after "\r\n\r\n" (or "\n\n").
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            let rest = &buf[i + 1..];
            if rest.first() == Some(&b'\n') {
                return Some(i + 2);
            }
            if rest.starts_with(b"\r\n") {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

/// Parse the request at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parse<'_> {
    // Leading empty lines before a request are allowed (RFC 9112 2.2).
    let mut start = 0;
    while start < buf.len() && (buf[start] == b'\r' || buf[start] == b'\n') {
        start += 1;
    }
    let Some(end) = head_end(&buf[start..]).map(|e| e + start) else {
        if buf.len() >= REQUEST_MAX {
            return Parse::TooLarge;
        }
        // A request line can be judged before the request is whole.
        if let Some(nl) = buf[start..].iter().position(|&c| c == b'\n') {
            if request_line(trim_cr(&buf[start..start + nl])).is_none() {
                return Parse::Bad;
            }
        }
        return Parse::Incomplete;
    };
    if end > REQUEST_MAX {
        return Parse::TooLarge;
    }
    let Ok(head) = core::str::from_utf8(&buf[start..end]) else {
        return Parse::Bad;
    };
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let Some((method, path, minor)) = lines.next().and_then(|l| request_line(l.as_bytes())) else {
        return Parse::Bad;
    };
    let mut keep_alive = minor == 1;
    let mut has_body = false;
    let mut host = false;
    let mut n = 0;
    for line in lines {
        if line.is_empty() {
            break;
        }
        n += 1;
        if n > HEADERS_MAX {
            return Parse::TooLarge;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Parse::Bad;
        };
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Parse::Bad; // includes whitespace before the colon
        }
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if value.bytes().any(|c| c < 0x20 && c != b'\t' || c == 0x7f) {
            return Parse::Bad;
        }
        if name.eq_ignore_ascii_case("host") {
            if host {
                return Parse::Bad; // two Host headers
            }
            host = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for opt in value.split(',').map(str::trim) {
                if opt.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if opt.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<u64>() {
                Ok(0) => {}
                Ok(_) => has_body = true,
                Err(_) => return Parse::Bad,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        }
    }
    if minor == 1 && !host {
        return Parse::Bad; // RFC 9112 3.2: HTTP/1.1 needs Host
    }
    if has_body {
        keep_alive = false;
    }
    Parse::Ok(Request { method, path, keep_alive, has_body, len: end })
}

fn trim_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// "METHOD /target HTTP/1.x": the method, the path and x (0 or 1).
fn request_line(l: &[u8]) -> Option<(Method, &str, u8)> {
    let l = core::str::from_utf8(l).ok()?;
    let mut parts = l.split(' ');
    let (m, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || m.is_empty() || !m.bytes().all(is_tchar) {
        return None;
    }
    if !target.starts_with('/') || !target.bytes().all(|c| c > 0x20 && c < 0x7f) {
        return None;
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ => return None,
    };
    let method = match m {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    let path = target.split('?').next().unwrap_or(target);
    Some((method, path, minor))
}

/// The reason phrase of the statuses httpd sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    }
}

/// A response head: status line, Content-Type, Content-Length,
/// Connection, (Allow for 405), blank line.
pub fn write_head(
    w: &mut impl core::fmt::Write,
    status: u16,
    content_type: &str,
    len: usize,
    keep_alive: bool,
) -> core::fmt::Result {
    write!(
        w,
        "HTTP/1.1 {} {}\r\nServer: nagi-httpd\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        status,
        reason(status),
        content_type,
        len,
        if keep_alive { "keep-alive" } else { "close" }
    )?;
    if status == 405 {
        w.write_str("Allow: GET, HEAD\r\n")?;
    }
    w.write_str("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(buf: &[u8]) -> Request<'_> {
        match parse(buf) {
            Parse::Ok(r) => r,
            other => panic!("{:?} for {:?}", other, core::str::from_utf8(buf)),
        }
    }

    #[test]
    fn good_requests() {
        let r = ok(b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n");
        assert_eq!((r.method, r.path, r.keep_alive, r.has_body), (Method::Get, "/", true, false));
        let r = ok(b"GET /hello.txt?a=b HTTP/1.0\r\n\r\n");
        assert_eq!((r.path, r.keep_alive), ("/hello.txt", false));
        let r = ok(b"HEAD / HTTP/1.0\nConnection: Keep-Alive\n\n");
        assert_eq!((r.method, r.keep_alive), (Method::Head, true));
        let r = ok(b"\r\nDELETE /x HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(r.method, Method::Other);
        let r = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n");
        assert!(!r.keep_alive);
    }

    #[test]
    fn keep_alive_requests_follow_each_other() {
        let two = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n";
        let a = ok(two);
        assert_eq!(a.path, "/");
        assert!(a.keep_alive);
        let b = ok(&two[a.len..]);
        assert_eq!((b.path, b.len), ("/hello.txt", two.len() - a.len));
    }

    #[test]
    fn incomplete_until_the_blank_line() {
        let full = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for n in 0..full.len() {
            assert_eq!(parse(&full[..n]), Parse::Incomplete, "{n} bytes");
        }
        assert!(matches!(parse(full), Parse::Ok(_)));
    }

    #[test]
    fn every_malformed_case_is_400() {
        let bad: &[&[u8]] = &[
            b"GARBAGE\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET /\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
            b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET noslash HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            b"GET / http/1.1\r\nHost: a\r\n\r\n",
            b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",                      // no Host in 1.1
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n",
        ];
        for b in bad {
            assert_eq!(parse(b), Parse::Bad, "{:?}", String::from_utf8_lossy(b));
        }
        // A bad request line is known before the headers end.
        assert_eq!(parse(b"HELLO THERE\r\nHost"), Parse::Bad);
    }

    #[test]
    fn bodies_close_the_connection() {
        let r = ok(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!((r.method, r.has_body, r.keep_alive), (Method::Other, true, false));
        let r = ok(b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(r.has_body && !r.keep_alive);
    }

    #[test]
    fn oversize_requests_are_431() {
        let mut big = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".to_vec();
        big.resize(REQUEST_MAX, b'a');
        assert_eq!(parse(&big), Parse::TooLarge);
        let mut many = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        for _ in 0..HEADERS_MAX {
            many.extend_from_slice(b"X: y\r\n");
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many), Parse::TooLarge);
        // Just under the limit is fine.
        let mut edge = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".to_vec();
        edge.resize(REQUEST_MAX - 4, b'a');
        edge.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(parse(&edge), Parse::Ok(r) if r.len == REQUEST_MAX));
    }

    #[test]
    fn response_heads() {
        let mut s = String::new();
        write_head(&mut s, 404, "text/plain", 10, true).unwrap();
        assert_eq!(
            s,
            "HTTP/1.1 404 Not Found\r\nServer: nagi-httpd\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\n"
        );
        s.clear();
        write_head(&mut s, 405, "text/plain", 0, false).unwrap();
        assert!(s.contains("Allow: GET, HEAD\r\n") && s.contains("Connection: close"));
    }
}

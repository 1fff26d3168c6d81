//! [`ServerUrl`]: where the daemon is, as users write it (`ws://HOST:PORT`, with or without
//! `/ws`, `wss://`, `http://`, `https://`, or a bare `HOST:PORT`), and the two endpoints derived
//! from it: the WebSocket (`ws(s)://host:port/ws`) and the HTTP base (`http(s)://host:port`)
//! that serves `/auth/token` and `/healthz`.

use reqwest::Url;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::ClientError;

/// The daemon's default port.
pub const DEFAULT_PORT: u16 = 8003;

/// The URL used when none is configured.
pub const DEFAULT_URL: &str = "ws://127.0.0.1:8003";

/// A validated daemon address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerUrl {
    tls: bool,
    /// Host as it appears in a URL (IPv6 in brackets).
    host: String,
    port: u16,
}

impl ServerUrl {
    /// Parse any accepted form. A missing port means [`DEFAULT_PORT`] for `ws`/`http` and
    /// 443 for `wss`/`https`.
    pub fn parse(input: &str) -> Result<Self, ClientError> {
        let text = input.trim();
        let bad = |why: &str| {
            ClientError::Config(format!(
                "'{input}' is not a daemon URL: {why}; use ws://HOST:PORT, for example {DEFAULT_URL}"
            ))
        };
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("ws://{text}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
        let tls = match url.scheme() {
            "ws" | "http" => false,
            "wss" | "https" => true,
            other => {
                return Err(bad(&format!(
                    "scheme '{other}' is not ws, wss, http or https"
                )));
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL; use `auth login`",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it has a query or fragment"));
        }
        let path = url.path().trim_end_matches('/');
        if !matches!(path, "" | "/ws" | "/ws/simulate") {
            return Err(bad(&format!(
                "unexpected path '{}' (only /ws is allowed)",
                url.path()
            )));
        }
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.to_string(),
            _ => return Err(bad("it has no host")),
        };
        let port = url.port().unwrap_or(if tls { 443 } else { DEFAULT_PORT });
        if port == 0 {
            return Err(bad("port 0 is not a daemon port"));
        }
        Ok(ServerUrl { tls, host, port })
    }

    /// True for `wss://` / `https://`.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host (IPv6 addresses in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True when the host is `localhost` or a loopback address.
    pub fn is_loopback(&self) -> bool {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        bare.eq_ignore_ascii_case("localhost")
            || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The WebSocket endpoint, `ws(s)://host:port/ws`.
    pub fn ws_url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}:{}/ws", self.host, self.port)
    }

    /// The HTTP base, `http(s)://host:port` (no trailing slash).
    pub fn http_base(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// An HTTP endpoint, e.g. `endpoint("/healthz")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.http_base())
    }

    /// Fail with a clear message when the URL needs TLS, which this build does not include.
    pub fn require_plaintext(&self) -> Result<(), ClientError> {
        if self.tls {
            return Err(ClientError::Config(format!(
                "{self} needs TLS, which this build of simutrador-client does not include yet; \
                 use a ws:// (or http://) URL, and for a remote daemon an SSH tunnel"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for ServerUrl {
    /// The canonical form, `ws://host:port` or `wss://host:port`; used as the key for stored
    /// credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "wss" } else { "ws" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

impl FromStr for ServerUrl {
    type Err = ClientError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServerUrl::parse(s)
    }
}

impl Default for ServerUrl {
    fn default() -> Self {
        ServerUrl {
            tls: false,
            host: "127.0.0.1".into(),
            port: DEFAULT_PORT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ServerUrl {
        ServerUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_accepted_form_names_the_same_daemon() {
        for form in [
            "ws://127.0.0.1:8003",
            "ws://127.0.0.1:8003/",
            "ws://127.0.0.1:8003/ws",
            "ws://127.0.0.1:8003/ws/",
            "ws://127.0.0.1:8003/ws/simulate",
            "http://127.0.0.1:8003",
            "http://127.0.0.1:8003/ws",
            "127.0.0.1:8003",
            "127.0.0.1",
            "  WS://127.0.0.1:8003  ",
        ] {
            let url = parse(form);
            assert_eq!(url, ServerUrl::default(), "{form}");
            assert_eq!(url.ws_url(), "ws://127.0.0.1:8003/ws");
            assert_eq!(url.http_base(), "http://127.0.0.1:8003");
            assert_eq!(url.to_string(), DEFAULT_URL);
        }
    }

    #[test]
    fn tls_forms_parse_but_are_refused_when_connecting() {
        for form in ["wss://example.com", "https://example.com:443/ws"] {
            let url = parse(form);
            assert!(url.is_tls());
            assert_eq!(url.ws_url(), "wss://example.com:443/ws");
            assert_eq!(url.http_base(), "https://example.com:443");
            let err = url.require_plaintext().unwrap_err().to_string();
            assert!(err.contains("TLS"), "{err}");
        }
        assert!(parse("ws://example.com:9000").require_plaintext().is_ok());
    }

    #[test]
    fn hosts_and_ports() {
        let url = parse("localhost:9001");
        assert_eq!((url.host(), url.port()), ("localhost", 9001));
        assert!(url.is_loopback());
        let url = parse("ws://[::1]:8003/ws");
        assert_eq!(url.ws_url(), "ws://[::1]:8003/ws");
        assert!(url.is_loopback());
        assert!(!parse("sim.example.com:8003").is_loopback());
        assert!(!parse("10.0.0.5").is_loopback());
    }

    #[test]
    fn bad_urls_are_refused_with_the_reason() {
        for (bad, why) in [
            ("", "empty"),
            ("ftp://host:21", "scheme"),
            ("ws://host:8003/api", "path"),
            ("ws://host:8003/ws?token=x", "query"),
            ("ws://user:pw@host:8003", "credentials"),
            ("ws://host:99999", "invalid port"),
            ("ws://host:0", "port 0"),
            ("ws://:8003", "host"),
        ] {
            let err = ServerUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
            assert!(err.contains("ws://HOST:PORT"), "{err}");
        }
    }
}

//! Caps on open TCP connections, in all and per IP address (`[connections] max_connections`,
//! `max_connections_per_ip`). The accept loop takes a [`ConnectionPermit`] for every socket
//! and keeps it inside the socket's I/O, so it is held as long as the socket is open, also
//! after a WebSocket upgrade. A refusal is logged at `warn` at most once every
//! [`WARN_EVERY`] (with the number refused since), at `debug` otherwise.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Shortest interval between two `warn` lines about refused connections.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `max_connections` connections are open.
    Global,
    /// `max_connections_per_ip` connections are open from this address.
    PerIp,
}

impl Refused {
    /// What to tell the client.
    pub fn message(self) -> &'static str {
        match self {
            Refused::Global => "the daemon has too many open connections; retry in a moment",
            Refused::PerIp => {
                "too many open connections from your address; close some, or retry in a moment"
            }
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: u32,
    by_ip: HashMap<IpAddr, u32>,
}

#[derive(Debug)]
struct RefusalLog {
    last_warn: Option<Instant>,
    since_warn: u64,
}

/// The caps and the current counts.
#[derive(Debug)]
pub struct ConnectionLimits {
    max: u32,
    per_ip: u32,
    counts: Mutex<Counts>,
    refusals: Mutex<RefusalLog>,
}

impl ConnectionLimits {
    /// Caps of `max` connections in all and `per_ip` from one address.
    pub fn new(max: u32, per_ip: u32) -> Arc<Self> {
        Arc::new(ConnectionLimits {
            max,
            per_ip,
            counts: Mutex::default(),
            refusals: Mutex::new(RefusalLog {
                last_warn: None,
                since_warn: 0,
            }),
        })
    }

    /// A permit for one more connection from `ip`, or why not (logged).
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionPermit, Refused> {
        let refused = {
            let mut c = self.counts.lock();
            let from_ip = c.by_ip.get(&ip).copied().unwrap_or(0);
            if c.total >= self.max {
                Some(Refused::Global)
            } else if from_ip >= self.per_ip {
                Some(Refused::PerIp)
            } else {
                c.total += 1;
                c.by_ip.insert(ip, from_ip + 1);
                None
            }
        };
        match refused {
            None => Ok(ConnectionPermit {
                limits: self.clone(),
                ip,
            }),
            Some(why) => {
                self.log_refusal(ip, why);
                Err(why)
            }
        }
    }

    /// Open connections in all.
    pub fn open(&self) -> u32 {
        self.counts.lock().total
    }

    /// Open connections from `ip`.
    pub fn open_from(&self, ip: IpAddr) -> u32 {
        self.counts.lock().by_ip.get(&ip).copied().unwrap_or(0)
    }

    fn release(&self, ip: IpAddr) {
        let mut c = self.counts.lock();
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.by_ip.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.by_ip.remove(&ip);
            }
        }
    }

    fn log_refusal(&self, ip: IpAddr, why: Refused) {
        let mut log = self.refusals.lock();
        log.since_warn += 1;
        let now = Instant::now();
        if log
            .last_warn
            .is_none_or(|t| now.duration_since(t) >= WARN_EVERY)
        {
            let refused = std::mem::take(&mut log.since_warn);
            log.last_warn = Some(now);
            drop(log);
            tracing::warn!(
                %ip,
                reason = ?why,
                refused_since_last_warning = refused,
                max_connections = self.max,
                max_connections_per_ip = self.per_ip,
                "connection refused: too many open connections ([connections] caps)"
            );
        } else {
            tracing::debug!(%ip, reason = ?why, "connection refused: too many open connections");
        }
    }
}

/// One open connection's place under the caps; released when dropped.
#[derive(Debug)]
pub struct ConnectionPermit {
    limits: Arc<ConnectionLimits>,
    ip: IpAddr,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.limits.release(self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_in_all_and_per_ip_and_release_on_drop() {
        let limits = ConnectionLimits::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let a1 = limits.try_acquire(a).unwrap();
        let _a2 = limits.try_acquire(a).unwrap();
        assert_eq!(limits.try_acquire(a).unwrap_err(), Refused::PerIp);
        let _b1 = limits.try_acquire(b).unwrap();
        assert_eq!(limits.try_acquire(b).unwrap_err(), Refused::Global);
        assert_eq!((limits.open(), limits.open_from(a)), (3, 2));
        drop(a1);
        assert_eq!((limits.open(), limits.open_from(a)), (2, 1));
        let _b2 = limits.try_acquire(b).unwrap();
        assert_eq!(limits.open_from(b), 2);
    }
}

//! `health`: `GET /healthz`, no login needed.

use super::Context;

/// Run `health`.
pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    let url = &ctx.settings.url;
    let health = simutrador_client::health(url).await?;
    ctx.out.emit(&health, || {
        format!(
            "{}: {} — simutrador-server {}, up {}, {} session{}, {} connection{}",
            url.http_base(),
            health.status,
            health.version,
            uptime(health.uptime_seconds),
            health.sessions,
            plural(health.sessions),
            health.connections,
            plural(health.connections),
        )
    })
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `93784` → `1d 2h 3m 4s`; leading zero units are left out.
fn uptime(seconds: u64) -> String {
    let parts = [
        (seconds / 86_400, "d"),
        (seconds / 3_600 % 24, "h"),
        (seconds / 60 % 60, "m"),
        (seconds % 60, "s"),
    ];
    let text: Vec<String> = parts
        .iter()
        .skip_while(|(n, unit)| *n == 0 && *unit != "s")
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    text.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn uptime_is_compact() {
        assert_eq!(super::uptime(0), "0s");
        assert_eq!(super::uptime(75), "1m 15s");
        assert_eq!(super::uptime(93_784), "1d 2h 3m 4s");
    }
}

//! A headless Chromium for the report tests, over WebDriver (`chromedriver` on a loopback
//! port it picks itself, `fantoccini` over plain HTTP). [`Browser::start`] returns `None`, with
//! the reason on stderr, where Debian's `chromium` or `chromium-driver` is not installed, so a
//! machine without them skips these tests; `.ci/run` installs both.

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A script put first in `<head>` of the copy the browser opens: it records uncaught errors
/// and `console.error` calls in `window.__errors`.
const ERROR_HOOK: &str = "<script>window.__errors=[];\
window.addEventListener('error',function(e){window.__errors.push('error: '+e.message);});\
window.addEventListener('unhandledrejection',function(e){window.__errors.push('rejection: '+e.reason);});\
(function(){var ce=console.error;console.error=function(){window.__errors.push('console.error: '+Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};})();\
</script>";

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// chromedriver (killed on drop) and a WebDriver session with headless Chromium.
pub struct Browser {
    driver: Child,
    /// The WebDriver client.
    pub client: Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// What a chart element says after the page drew it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ChartState {
    /// The element id.
    pub id: String,
    /// `data-series` set by the page's script after uPlot drew the chart.
    pub series: Option<u64>,
    /// `data-points` likewise.
    pub points: Option<u64>,
    /// What the generator put in (`data-expected-*`).
    pub expected_series: u64,
    /// Likewise.
    pub expected_points: u64,
    /// `<canvas>` elements uPlot made.
    pub canvases: u64,
}

impl Browser {
    /// Chromium and chromedriver, or `None` (and why, on stderr) when either is missing.
    pub async fn start() -> Option<Browser> {
        let chromium = which("chromium").or_else(|| which("chromium-browser"));
        let (Some(chromium), Some(driver)) = (chromium, which("chromedriver")) else {
            eprintln!(
                "SKIPPED: the report browser tests need Debian's `chromium` and `chromium-driver` \
                 (apt-get install -y chromium chromium-driver; .ci/run installs them)"
            );
            return None;
        };
        let mut child = Command::new(driver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let stdout = child.stdout.take().expect("piped stdout");
        // chromedriver prints "... started successfully on port N." once it listens.
        let port = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let port = lines.by_ref().map_while(Result::ok).find_map(|l| {
                l.split("started successfully on port ")
                    .nth(1)
                    .and_then(|p| p.trim_end_matches('.').trim().parse::<u16>().ok())
            });
            // Keep draining so chromedriver never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            port
        })
        .await
        .unwrap()
        .expect("chromedriver says which port it listens on");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-US"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with headless chromium");
        Some(Browser {
            driver: child,
            client,
        })
    }

    /// Open a copy of `report` (with the error hook in its `<head>`) as a file:// page of
    /// `width` × `height` and wait until its script has run to the end.
    pub async fn open(&self, report: &Path, width: u32, height: u32) {
        let html = std::fs::read_to_string(report).unwrap();
        assert_eq!(html.matches("<head>").count(), 1);
        let copy = report.with_extension("hooked.html");
        std::fs::write(
            &copy,
            html.replacen("<head>", &format!("<head>{ERROR_HOOK}"), 1),
        )
        .unwrap();
        self.client.set_window_size(width, height).await.unwrap();
        let url = format!("file://{}", copy.canonicalize().unwrap().display());
        self.client.goto(&url).await.unwrap();
        // Inline scripts run before `load`, which goto waits for; poll the flag all the same.
        let mut ready = Value::Null;
        for _ in 0..600 {
            ready = self
                .client
                .execute(
                    "return document.body && document.body.getAttribute('data-ready')",
                    vec![],
                )
                .await
                .unwrap();
            if ready == "1" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            ready,
            "1",
            "the report's script did not finish: {:?}",
            self.errors().await
        );
    }

    /// Run `js` in the page and return what it returns.
    pub async fn eval(&self, js: &str) -> Value {
        self.client.execute(js, vec![]).await.unwrap()
    }

    /// Errors the page reported (uncaught, rejected, console.error).
    pub async fn errors(&self) -> Vec<String> {
        let v = self
            .client
            .execute("return window.__errors || ['no error hook']", vec![])
            .await
            .unwrap();
        serde_json::from_value(v).unwrap()
    }

    /// Every chart of the page (elements with class `plot`).
    pub async fn charts(&self) -> Vec<ChartState> {
        let v = self
            .eval(
                "return Array.prototype.map.call(document.querySelectorAll('.plot'), function (e) {
                   var n = function (a) { var v = e.getAttribute(a); return v === null ? null : Number(v); };
                   return { id: e.id, series: n('data-series'), points: n('data-points'),
                            expected_series: n('data-expected-series'),
                            expected_points: n('data-expected-points'),
                            canvases: e.querySelectorAll('canvas').length };
                 });",
            )
            .await;
        serde_json::from_value(v).unwrap()
    }

    /// Save a PNG of the window under `$SIMUTRADOR_SCREENSHOT_DIR/name` when that is set
    /// (how docs/img/ is refreshed).
    pub async fn screenshot_if_asked(&self, name: &str) {
        if let Some(dir) = std::env::var_os("SIMUTRADOR_SCREENSHOT_DIR") {
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(Path::new(&dir).join(name), png).unwrap();
        }
    }
}

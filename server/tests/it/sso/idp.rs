//! The identity provider of the single sign-on tests: `end2end/oidc/provider.mjs` (the
//! certified `oidc-provider` package, installed into `end2end/node_modules` by
//! `make setup-test`), started on a port of its own and stopped, by its pid, when dropped; and
//! a browser's walk through its login and consent pages.

use reqwest::{Response, StatusCode};
use serde_json::Value;
use std::path::PathBuf;

pub const CLIENT_ID: &str = "gatehouse-test";
pub const CLIENT_SECRET: &str = "a-client-secret-for-tests-only";

/// A running provider.
pub struct Idp {
    child: std::process::Child,
    pub issuer: String,
    accounts: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Idp {
    /// Starts the provider on `port` for a client whose callback is `redirect`, with people
    /// and their groups as `accounts` (`{"login": ["group", ...]}`).
    pub async fn start(port: u16, redirect: &str, accounts: &Value) -> Idp {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("accounts.json");
        std::fs::write(&file, accounts.to_string()).expect("accounts file");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/oidc/provider.mjs");
        let child = std::process::Command::new("node")
            .arg(script)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URIS", redirect)
            .env("OIDC_ACCOUNTS", &file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node {script} (run `make setup-test`): {e}"));
        let idp = Idp {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
            accounts: file,
            _dir: dir,
        };
        let discovery = format!("{}/.well-known/openid-configuration", idp.issuer);
        for _ in 0..200 {
            if reqwest::get(&discovery)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return idp;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the identity provider did not answer at {discovery}");
    }

    /// Puts `login` in exactly `groups` (read by the provider at the next sign-in).
    pub fn set_groups(&self, login: &str, groups: &[&str]) {
        let mut accounts: Value =
            serde_json::from_str(&std::fs::read_to_string(&self.accounts).expect("read"))
                .expect("json");
        accounts[login] = serde_json::json!(groups);
        std::fs::write(&self.accounts, accounts.to_string()).expect("write accounts");
    }
}

fn location(r: &Response) -> String {
    let at = r.url().clone();
    let loc = r.headers()[reqwest::header::LOCATION]
        .to_str()
        .expect("location");
    at.join(loc).expect("a URL").to_string()
}

/// The `action` of the page's form.
fn form_action(page: &str, at: &reqwest::Url) -> String {
    let start = page.find("action=\"").expect("a form") + "action=\"".len();
    let end = start + page[start..].find('"').expect("closing quote");
    at.join(&page[start..end]).expect("a URL").to_string()
}

/// What a browser does from `start` (Gatehouse's `/auth/oidc/login?...`): follows redirects,
/// signs in at the provider as `login` (any password) and consents, until the provider sends
/// it back to Gatehouse's callback. Answers the callback's own answer (not followed).
pub async fn sign_in(client: &reqwest::Client, start: &str, login: &str) -> Response {
    let callback = to_callback(client, start, login).await;
    client.get(&callback).send().await.expect("callback")
}

/// As [`sign_in`], up to the callback: answers the URL the provider sends the browser back to.
pub async fn to_callback(client: &reqwest::Client, start: &str, login: &str) -> String {
    let mut r = client.get(start).send().await.expect("request");
    for _ in 0..20 {
        if r.status().is_redirection() {
            let next = location(&r);
            if next.contains("/auth/oidc/callback") {
                return next;
            }
            r = client.get(&next).send().await.expect("request");
            continue;
        }
        assert_eq!(r.status(), StatusCode::OK, "at {}", r.url());
        let at = r.url().clone();
        let page = r.text().await.expect("page");
        let action = form_action(&page, &at);
        let form: Vec<(&str, &str)> = if page.contains(r#"name="prompt" value="login""#) {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else if page.contains(r#"name="prompt" value="consent""#) {
            vec![("prompt", "consent")]
        } else {
            panic!("an unexpected page at {at}: {page}");
        };
        r = client.post(&action).form(&form).send().await.expect("post");
    }
    panic!("too many steps signing in at the identity provider");
}

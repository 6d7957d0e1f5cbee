//! SCIM 2.0: an identity provider finds a user and deactivates or reactivates them with an
//! administrator's API token, in the request shapes Okta and Entra ID send.

use crate::common::spawn_app;
use app::domain::roles::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_finds_a_user_and_ends_their_access() {
    let app = spawn_app().await;
    app.user("idp-admin", &[Role::Admin]).await;
    let admin = token(&app, "idp-admin").await;
    let leaver = app.signed_in("leaver", &[Role::Scientist]).await;
    let scientist = token(&app, "leaver").await;
    let c = app.client();
    let find = c
        .get(app.url("/scim/v2/Users"))
        .query(&[("filter", "userName eq \"LEAVER\"")])
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(find.status(), StatusCode::OK);
    let found: Value = find.json().await.unwrap();
    assert_eq!(found["totalResults"], 1);
    let user = &found["Resources"][0];
    assert_eq!(
        (user["userName"].as_str(), user["active"].as_bool()),
        (Some("leaver"), Some(true))
    );
    let id = user["id"].as_str().unwrap().to_owned();
    let at = app.url(&format!("/scim/v2/Users/{id}"));
    let patch = |body: Value, who: &str| c.patch(&at).bearer_auth(who).json(&body).send();
    let entra_off = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "Replace", "path": "active", "value": "False" }],
    });
    // Only an administrator's token may.
    let r = patch(entra_off.clone(), &scientist).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c.patch(&at).json(&entra_off).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = patch(entra_off.clone(), &admin).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["active"], false);
    let me = leaver.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    // The same again changes and records nothing.
    let entries = app.audit_count().await;
    assert_eq!(
        patch(entra_off, &admin).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(app.audit_count().await, entries);
    let okta_on = json!({ "Operations": [{ "op": "replace", "value": { "active": true } }] });
    let r = patch(okta_on, &admin).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
    let actions: Vec<(String, String)> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(_, _, object)| object == "leaver")
        .map(|(actor, action, _)| (actor, action))
        .filter(|(_, action)| action.starts_with("user.") && action != "user.create")
        .collect();
    assert_eq!(
        actions,
        [
            (
                "idp-admin/token:scim".to_string(),
                "user.deactivate".to_string()
            ),
            (
                "idp-admin/token:scim".to_string(),
                "user.reactivate".to_string()
            ),
        ]
    );

    // What is not supported is refused, naming the field.
    let r = patch(
        json!({ "Operations": [{ "op": "replace", "path": "displayName", "value": "x" }] }),
        &admin,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("Operations[0].path"));
    let r = c
        .get(app.url("/scim/v2/Users"))
        .query(&[("filter", "emails co \"x\"")])
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("filter"));
    let r = c
        .get(app.url("/scim/v2/Users/999999"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// A new API token of `user`, labelled `scim`.
async fn token(app: &crate::common::TestApp, user: &str) -> String {
    app::service::accounts::create_token(
        &app.pool,
        "admin",
        user,
        "scim",
        app::service::accounts::Issue::operator(),
    )
    .await
    .unwrap()
    .token
}

use super::*;
use serde_json::json;

#[test]
fn a_role_map_reads_pairs_and_defaults() {
    let m = RoleMap::parse(
        "ml-reviewers=reviewer, ml-admins = admin\nml-admins=auditor,",
        "viewer",
    )
    .expect("valid map");
    assert_eq!(
        m.pairs,
        vec![
            ("ml-reviewers".to_owned(), Role::Reviewer),
            ("ml-admins".to_owned(), Role::Admin),
            ("ml-admins".to_owned(), Role::Auditor),
        ]
    );
    assert_eq!(m.default_roles, vec![Role::Viewer]);
    assert_eq!(
        RoleMap::parse("", "").expect("empty map"),
        RoleMap::default()
    );
}

#[test]
fn a_bad_role_map_names_the_item() {
    let e = RoleMap::parse("ml-reviewers", "").expect_err("no `=`");
    assert!(e.contains("`ml-reviewers` is not `group=role`"), "{e}");
    let e = RoleMap::parse("ml=approver", "").expect_err("unknown role");
    assert!(
        e.contains("`ml=approver`") && e.contains("unknown role `approver`"),
        "{e}"
    );
    let e = RoleMap::parse("=admin", "").expect_err("no group");
    assert!(e.contains("names no group"), "{e}");
    let e = RoleMap::parse("", "guest").expect_err("unknown default");
    assert!(e.contains("default role") && e.contains("`guest`"), "{e}");
}

#[test]
fn groups_grant_their_roles_and_the_defaults_once_each() {
    let m = RoleMap::parse("rev=reviewer,admins=admin,admins=reviewer", "viewer").expect("map");
    let groups = |g: &[&str]| g.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        m.roles_for(&groups(&["admins", "rev", "other"])),
        vec![Role::Viewer, Role::Reviewer, Role::Admin]
    );
    assert_eq!(
        m.roles_for(&groups(&["Rev"])),
        vec![Role::Viewer],
        "exact names"
    );
    let strict = RoleMap::parse("rev=reviewer", "").expect("map");
    assert!(strict.roles_for(&[]).is_empty());
}

#[test]
fn groups_are_read_from_arrays_strings_and_nested_claims() {
    let claims = json!({
        "groups": ["a", 3, "b"],
        "single": "only",
        "realm_access": { "roles": ["kc"] },
        "https://example.com/groups": ["namespaced"],
        "empty": ""
    });
    assert_eq!(groups_in(&claims, "groups"), vec!["a", "b"]);
    assert_eq!(groups_in(&claims, "single"), vec!["only"]);
    assert_eq!(groups_in(&claims, "realm_access.roles"), vec!["kc"]);
    assert_eq!(
        groups_in(&claims, "https://example.com/groups"),
        vec!["namespaced"]
    );
    assert!(groups_in(&claims, "empty").is_empty());
    assert!(groups_in(&claims, "missing").is_empty());
    assert!(
        groups_in(&claims, "realm_access").is_empty(),
        "an object is no group list"
    );
}

#[test]
fn the_user_name_comes_lower_cased_from_the_claim_or_is_refused_by_name() {
    let claims = json!({ "preferred_username": " Ada.L ", "email": "ada@example.com" });
    assert_eq!(
        username_from(&claims, "preferred_username")
            .expect("valid")
            .as_str(),
        "ada.l"
    );
    let e = username_from(&claims, "email").expect_err("@ is not allowed");
    assert!(e.contains("`email` claim `ada@example.com`"), "{e}");
    let e = username_from(&claims, "nickname").expect_err("missing");
    assert!(e.contains("no `nickname` claim"), "{e}");
}

#[test]
fn a_role_change_lists_what_was_granted_and_taken_away() {
    let c = RoleChange::between(
        &[Role::Viewer, Role::Reviewer],
        &[Role::Viewer, Role::Admin],
    );
    assert_eq!(c.added, vec![Role::Admin]);
    assert_eq!(c.removed, vec![Role::Reviewer]);
    assert!(!c.is_empty());
    assert!(RoleChange::between(&[Role::Viewer], &[Role::Viewer]).is_empty());
}

//! Periodic jobs run once across the servers of one database: the lease decides where.

use app::service::jobs;
use app::store::leases;

async fn store() -> (tempfile::TempDir, app::store::Pool) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
    let pool = server::open_store(&url).await.unwrap();
    (dir, pool)
}

#[tokio::test]
async fn a_lease_is_held_by_one_holder_until_it_lapses_or_is_given_up() {
    let (_dir, pool) = store().await;
    let t = 1_000_000;
    assert!(leases::acquire(&pool, "job", "a", t, 90_000).await.unwrap());
    assert!(!leases::acquire(&pool, "job", "b", t + 1, 90_000)
        .await
        .unwrap());
    // The holder renews; the other still waits, until the renewed lease lapses.
    assert!(leases::acquire(&pool, "job", "a", t + 60_000, 90_000)
        .await
        .unwrap());
    assert!(!leases::acquire(&pool, "job", "b", t + 120_000, 90_000)
        .await
        .unwrap());
    assert!(leases::acquire(&pool, "job", "b", t + 150_000, 90_000)
        .await
        .unwrap());
    assert!(!leases::acquire(&pool, "job", "a", t + 150_001, 90_000)
        .await
        .unwrap());
    // Another job's lease is its own.
    assert!(leases::acquire(&pool, "other", "a", t + 150_001, 90_000)
        .await
        .unwrap());
    // Given up, it is free at once; giving up a lease one does not hold changes nothing.
    leases::release(&pool, "job", "a").await.unwrap();
    assert!(!leases::acquire(&pool, "job", "a", t + 150_002, 90_000)
        .await
        .unwrap());
    leases::release(&pool, "job", "b").await.unwrap();
    assert!(leases::acquire(&pool, "job", "a", t + 150_003, 90_000)
        .await
        .unwrap());
}

#[tokio::test]
async fn two_servers_of_one_database_run_each_tick_once() {
    let (_dir, pool) = store().await;
    let (a, b) = (jobs::holder_id(), jobs::holder_id());
    assert_ne!(a, b, "every server has its own name");
    let throttle = app::domain::throttle::Policy::default();
    // Both tick at once: the jobs run on exactly one of them, and stay there.
    let (ran_a, ran_b) = tokio::join!(
        jobs::minute(&pool, throttle, &a),
        jobs::minute(&pool, throttle, &b)
    );
    assert!(ran_a ^ ran_b, "ran on a: {ran_a}, on b: {ran_b}");
    let (first, second) = if ran_a { (&a, &b) } else { (&b, &a) };
    assert!(jobs::minute(&pool, throttle, first).await);
    assert!(!jobs::minute(&pool, throttle, second).await);
    assert!(
        jobs::hourly(&pool, second).await,
        "the sweep has its own lease"
    );
    assert!(!jobs::hourly(&pool, first).await);
    // The first stops: the second takes the minute jobs at its next tick.
    jobs::release_all(&pool, first).await;
    assert!(jobs::minute(&pool, throttle, second).await);
    assert!(!jobs::minute(&pool, throttle, first).await);
}

//! A cluster of nodes on one PostgreSQL (run only when `FANLI_TEST_DATABASE_URL` is set): nodes
//! started together, leases that expire, failover, and what a node answers for a tenant it does
//! not serve.

mod common;

use common::*;

/// Three stores opened at once on a fresh schema all open: one creates and migrates the tables,
/// the others wait for it and find them made.
#[test]
fn stores_opened_together_on_an_empty_database_all_open() {
    for round in 0..3 {
        let dir = data_dir(&format!("cluster-together-{round}"));
        let Some(url) = database(&dir) else {
            eprintln!("FANLI_TEST_DATABASE_URL is not set: no PostgreSQL to test");
            return;
        };
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(3));
        let opened: Vec<_> = (0..3)
            .map(|_| {
                let (dir, url, barrier) = (dir.clone(), url.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    fanli_server::store::Store::open(&dir, Some(&url)).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for one in opened {
            one.join().unwrap().unwrap();
        }
    }
}

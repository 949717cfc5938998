#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Fresh PostgreSQL databases for tests. `VOUCH_TEST_POSTGRES_URL` names the server
//! (default `postgres://postgres@127.0.0.1:5432/postgres`); with `VOUCH_REQUIRE_POSTGRES=1`
//! (set by CI) an unreachable server fails the test instead of skipping it.

use rand::Rng;

pub struct FreshDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

fn admin_url() -> String {
    std::env::var("VOUCH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn required() -> bool {
    std::env::var("VOUCH_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

impl FreshDatabase {
    pub async fn create() -> Option<FreshDatabase> {
        let admin_url = admin_url();
        let (client, conn) = match tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await
        {
            Ok(c) => c,
            Err(e) if !required() => {
                eprintln!("PostgreSQL at {admin_url} unreachable ({e}): PostgreSQL test skipped (set VOUCH_REQUIRE_POSTGRES=1 to fail instead)");
                return None;
            }
            Err(e) => {
                panic!("PostgreSQL at {admin_url} is required (VOUCH_REQUIRE_POSTGRES=1): {e}")
            }
        };
        tokio::spawn(conn);
        let suffix: String = rand::thread_rng()
            .sample_iter(rand::distributions::Alphanumeric)
            .take(12)
            .map(|c| char::from(c).to_ascii_lowercase())
            .collect();
        let name = format!("vouch_test_{suffix}");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("VOUCH_TEST_POSTGRES_URL must end with /<database>"),
        };
        Some(FreshDatabase {
            url,
            admin_url,
            name,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

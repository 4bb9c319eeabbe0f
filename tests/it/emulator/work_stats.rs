//! The work queue's stats over real HTTP: `workers_polling` counts the workers (by their
//! `Anthropic-Worker-ID`) that polled in the last 30 seconds, as the API documents it.

use crate::support::emulated::{self_hosted_environment, setup, ENV_KEY};
use managed_agents::environments::PollerOptions;
use managed_agents::types::*;
use managed_agents::Client;

#[test]
fn the_stats_count_the_workers_that_polled_by_their_worker_id() {
    let (_emu, client) = setup();
    let env = self_hosted_environment(&client);
    let work = client.environments().work();
    // no poll has said who it is: the count is unknown
    assert_eq!(work.stats(&env).unwrap().workers_polling, None);
    let poll_as = |worker: &str| {
        work.poll_with(
            &env,
            &WorkPollParams::default().block_ms(1),
            &managed_agents::RequestOptions::new().header("Anthropic-Worker-ID", worker),
        )
        .unwrap()
    };
    poll_as("host-a");
    poll_as("host-b");
    poll_as("host-a");
    assert_eq!(work.stats(&env).unwrap().workers_polling, Some(2));
    // a poller of the library counts too, under its own id
    let mut poller = keyed_client(&client)
        .environments()
        .work()
        .poller(
            &env,
            PollerOptions::new()
                .environment_key(ENV_KEY)
                .worker_id("host-c")
                .drain(true),
        )
        .unwrap();
    assert!(poller.next().is_none());
    assert_eq!(work.stats(&env).unwrap().workers_polling, Some(3));
}

fn keyed_client(client: &Client) -> Client {
    Client::builder()
        .environment_key(ENV_KEY)
        .base_url(client.base_url())
        .build()
        .unwrap()
}

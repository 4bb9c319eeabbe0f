//! What the worker's default handler puts in an item's work directory before the first tool
//! runs, and settles after the last: the agent's skills (`skills`) and the session's memory
//! stores (`memories`), synced between tool calls and flushed when the session goes idle, their
//! files written through the store by the file tools. At the end, after the tools are closed:
//! the final memory sync at a clean end, the bounded flush whatever the end, then the skills
//! and the stores' folders are removed, as the official worker tears them down.

use super::memory::NOT_CONFIRMED;
use super::memory::{MemoryOptions, SessionMemoryStores, MEMORY_FLUSH_TIMEOUT};
use super::{sessions_token, skills, WorkContext};
use crate::deadline::Deadline;
use crate::error::Result;
use crate::request_options::RequestOptions;
use crate::toolset::{AgentToolContext, Hooks};
use crate::types::{SessionEvent, SessionStatusIdleEvent};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

/// The skills and memory stores of one item's work directory.
pub(super) struct Workspace {
    dir: PathBuf,
    skills: Vec<PathBuf>,
    memory: Option<Arc<Mutex<SessionMemoryStores>>>,
}

impl Workspace {
    /// Downloads the skills (a failing one is logged and left out), then the memory stores
    /// (a failing one fails the item).
    pub fn prepare(ctx: &WorkContext<'_>, dir: &Path, memory: &MemoryOptions) -> Result<Workspace> {
        let options = RequestOptions::new().header("x-stainless-helper", super::HELPER_WORKER);
        let (lease_stop, worker_stop) = (ctx.stop_signal(), ctx.worker_stop_signal());
        let stop = || lease_stop.is_set() || worker_stop.is_set();
        let skills =
            skills::download_session_skills(ctx.client(), ctx.session(), dir, &options, &stop);
        if stop() {
            // the item ends before anything runs: no memory to mirror
            return Ok(Workspace {
                dir: dir.to_path_buf(),
                skills,
                memory: None,
            });
        }
        let has_token = sessions_token(ctx.item().secret.as_deref()).is_some();
        let stores = SessionMemoryStores::download(
            ctx.client(),
            ctx.session(),
            dir,
            memory,
            has_token,
            &stop,
        );
        match stores {
            Ok(stores) => Ok(Workspace {
                dir: dir.to_path_buf(),
                skills,
                memory: stores.map(|s| Arc::new(Mutex::new(s))),
            }),
            Err(e) => {
                skills::remove_skills(&skills, dir);
                Err(e)
            }
        }
    }

    /// Returns the toolset's context: each memory store's `mount_path` leads the file tools to its
    /// folder, read-only stores refuse their writes, a `write` or `edit` of a memory file is
    /// saved in its store before the disk, and the files missing after a bash command was
    /// cut off are pulled again rather than deleted.
    pub fn tool_context(&self, mut context: AgentToolContext) -> AgentToolContext {
        let Some(m) = &self.memory else {
            return context;
        };
        {
            let stores = m.lock().unwrap_or_else(PoisonError::into_inner);
            for (mount_path, folder) in stores.mounts() {
                context = context.mount(mount_path, folder);
            }
            for root in stores.read_only_roots() {
                context = context.read_only_root(root);
            }
        }
        let (writes, stops) = (Arc::clone(m), Arc::clone(m));
        context.hooks(Hooks {
            write_file: Some(Arc::new(move |path, content, replacing| {
                // a running sync goes first, within the write's own bound
                let deadline = Deadline::after(MEMORY_FLUSH_TIMEOUT);
                let Some(mut stores) = lock_by(&writes, deadline) else {
                    return Err(format!(
                        "{NOT_CONFIRMED}: no answer within {} seconds",
                        MEMORY_FLUSH_TIMEOUT.as_secs()
                    ));
                };
                stores.write_file(path, content, replacing, deadline)
            })),
            call_stopped: Some(Arc::new(move || {
                if let Some(mut stores) = lock_by(&stops, Deadline::after(MEMORY_FLUSH_TIMEOUT)) {
                    stores.restore_missing();
                }
            })),
        })
    }

    /// For the runner's `on_event`: a memory sync when one is due, between tool calls; and
    /// when the session goes idle with nothing left to run (any stop reason but
    /// `requires_action`), the changed files uploaded, within [`MEMORY_FLUSH_TIMEOUT`].
    pub fn syncer(&self) -> impl FnMut(&SessionEvent) + Send + 'static {
        let memory = self.memory.clone();
        move |event| {
            let Some(m) = &memory else { return };
            let mut stores = m.lock().unwrap_or_else(PoisonError::into_inner);
            match event {
                SessionEvent::SessionStatusIdle(idle) if !waits_for_tools(idle) => {
                    stores.flush_idle(Deadline::after(MEMORY_FLUSH_TIMEOUT));
                }
                _ => stores.sync_if_due(),
            }
        }
    }

    /// After the tools are closed: the last sync (at a clean end) and the flush, each within
    /// [`MEMORY_FLUSH_TIMEOUT`], then the folders removed.
    pub fn settle(self, clean_end: bool) {
        if let Some(m) = &self.memory {
            let mut stores = m.lock().unwrap_or_else(PoisonError::into_inner);
            if clean_end {
                stores.finish(Deadline::after(MEMORY_FLUSH_TIMEOUT));
            }
            stores.flush_writes(Deadline::after(MEMORY_FLUSH_TIMEOUT));
            stores.dispose();
        }
        skills::remove_skills(&self.skills, &self.dir);
    }
}

/// Whether an idle waits for tool results or confirmations (`requires_action`).
fn waits_for_tools(idle: &SessionStatusIdleEvent) -> bool {
    serde_json::to_value(&idle.stop_reason).is_ok_and(|v| v["type"] == "requires_action")
}

/// The lock of the memory stores, waited for until `deadline` at most.
fn lock_by(
    m: &Mutex<SessionMemoryStores>,
    deadline: Deadline,
) -> Option<MutexGuard<'_, SessionMemoryStores>> {
    loop {
        match m.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(e)) => return Some(e.into_inner()),
            Err(TryLockError::WouldBlock) if deadline.is_expired() => return None,
            Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::*;
    use crate::Client;
    use serde_json::json;

    fn idle(reason: &str) -> SessionEvent {
        serde_json::from_value(json!({
            "type": "session.status_idle", "id": "sevt_1",
            "processed_at": "2026-01-01T00:00:00Z",
            "stop_reason": {"type": reason, "event_ids": []},
        }))
        .unwrap()
    }

    /// The memory of one store, as the server has it.
    fn content(client: &Client, store: &str) -> String {
        let mems = client.memory_stores().memories();
        let listed = mems.list(store, &Default::default()).unwrap();
        let Some(MemoryListItem::Memory(m)) = listed.data.into_iter().next() else {
            panic!("no memory")
        };
        mems.retrieve(store, &m.id, &Default::default())
            .unwrap()
            .content
            .unwrap_or_default()
    }

    #[test]
    fn changed_memory_files_are_uploaded_when_the_session_goes_idle() {
        let emu = managed_agents_emulator::Emulator::start().unwrap();
        let client = Client::builder()
            .api_key("k")
            .base_url(emu.base_url())
            .build()
            .unwrap();
        let store = client
            .memory_stores()
            .create(&MemoryStoreCreateParams::new("notes"))
            .unwrap()
            .id;
        client
            .memory_stores()
            .memories()
            .create(
                &store,
                &Default::default(),
                &MemoryCreateParams::new("/a.md").content("one"),
            )
            .unwrap();
        let env = client
            .environments()
            .create(&EnvironmentCreateParams::new("local").config(SelfHostedConfigParams::new()))
            .unwrap()
            .id;
        let agent = client
            .agents()
            .create(&AgentCreateParams::new("Local", "claude-opus-4-5"))
            .unwrap();
        let session = client
            .sessions()
            .create(
                &SessionCreateParams::new(&agent, env.as_str()).resources(vec![
                    DeploymentCreateParamsResource::MemoryStore(MemoryStoreResourceParam::new(
                        &store,
                    )),
                ]),
            )
            .unwrap();
        let dir = std::env::temp_dir().join(format!(
            "workspace-idle-{}-{}",
            std::process::id(),
            crate::toolset::nonce()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let stores = SessionMemoryStores::download(
            &client,
            &session,
            &dir,
            &MemoryOptions::default(),
            true,
            &|| false,
        )
        .unwrap()
        .unwrap();
        let (_, folder) = stores.mounts().remove(0);
        let ws = Workspace {
            dir: dir.clone(),
            skills: Vec::new(),
            memory: Some(Arc::new(Mutex::new(stores))),
        };
        let mut on_event = ws.syncer();
        // a command changes the file behind the tools' back
        std::fs::write(folder.join("a.md"), "two").unwrap();
        // an idle that waits for tools: nothing is uploaded before the interval
        on_event(&idle("requires_action"));
        assert_eq!(content(&client, &store), "one");
        // an idle with nothing left to run: the change goes up at once
        on_event(&idle("end_turn"));
        assert_eq!(content(&client, &store), "two");
        ws.settle(false);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

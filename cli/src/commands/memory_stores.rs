//! `memory-stores`: list, get, create, update, archive and delete memory stores, and list,
//! get, create, update and delete their memories (`memory-stores memories`).

use super::resource::{list_all, show, Group, Operation, Param, ID};
use managed_agents::types::*;

const STORE: Param = Param::Id("store", "STORE", "The memory store's id");
const MEMORY: Param = Param::Id("memory", "MEMORY", "The memory's id");

/// `memory-stores`.
pub const MEMORY_STORES: Group = Group {
    name: "memory-stores",
    about: "Memory stores and their memories",
    after_help: Some(crate::definition_help!(
        "  managed-agents memory-stores create store.yaml\n  managed-agents memory-stores memories list memstore_011CZx"
    )),
    example: "memory-stores list",
    operations: &[
        Operation {
            name: "list",
            about: "Every memory store",
            params: &[Param::Limit, Param::IncludeArchived],
            example: "memory-stores list",
            exec: |c| {
                let p = MemoryStoreListParams::default().include_archived(c.include_archived());
                list_all(c.client.memory_stores().list(&c.limited(p, |p, n| p.limit(n))))
            },
        },
        Operation {
            name: "get",
            about: "One memory store",
            params: &[ID],
            example: "memory-stores get memstore_011CZx",
            exec: |c| show(c.client.memory_stores().retrieve(c.id("id"))),
        },
        Operation {
            name: "create",
            about: "Create a memory store from a definition file",
            params: &[Param::Definition],
            example: "memory-stores create store.yaml",
            exec: |c| {
                let params = c.definition::<MemoryStoreCreateParams>()?;
                show(c.client.memory_stores().create(&params))
            },
        },
        Operation {
            name: "update",
            about: "Update a memory store from a file",
            params: &[ID, Param::Definition],
            example: "memory-stores update memstore_011CZx store.yaml",
            exec: |c| {
                let params = c.definition::<MemoryStoreUpdateParams>()?;
                show(c.client.memory_stores().update(c.id("id"), &params))
            },
        },
        Operation {
            name: "archive",
            about: "Archive a memory store",
            params: &[ID],
            example: "memory-stores archive memstore_011CZx",
            exec: |c| show(c.client.memory_stores().archive(c.id("id"))),
        },
        Operation {
            name: "delete",
            about: "Delete a memory store",
            params: &[ID],
            example: "memory-stores delete memstore_011CZx",
            exec: |c| show(c.client.memory_stores().delete(c.id("id"))),
        },
    ],
    groups: &[MEMORIES],
};

/// `memory-stores memories`.
const MEMORIES: Group = Group {
    name: "memories",
    about: "A store's memories",
    after_help: None,
    example: "memory-stores memories list memstore_011CZx",
    operations: &[
        Operation {
            name: "list",
            about: "Every memory of a store",
            params: &[STORE, Param::Limit],
            example: "memory-stores memories list memstore_011CZx",
            exec: |c| {
                let p = c.limited(MemoryListParams::default(), |p, n| p.limit(n));
                list_all(c.client.memory_stores().memories().list(c.id("store"), &p))
            },
        },
        Operation {
            name: "get",
            about: "One memory",
            params: &[STORE, MEMORY],
            example: "memory-stores memories get memstore_011CZx mem_011CZx",
            exec: |c| {
                let p = MemoryRetrieveParams::default().view(MemoryView::Full);
                let memories = c.client.memory_stores().memories();
                show(memories.retrieve(c.id("store"), c.id("memory"), &p))
            },
        },
        Operation {
            name: "create",
            about: "Create a memory from a definition file ({path, content})",
            params: &[STORE, Param::Definition],
            example: "memory-stores memories create memstore_011CZx memory.yaml",
            exec: |c| {
                let params = c.definition::<MemoryCreateParams>()?;
                let memories = c.client.memory_stores().memories();
                show(memories.create(c.id("store"), &MemoryCreateQuery::default(), &params))
            },
        },
        Operation {
            name: "update",
            about: "Update a memory from a file",
            params: &[STORE, MEMORY, Param::Definition],
            example: "memory-stores memories update memstore_011CZx mem_011CZx memory.yaml",
            exec: |c| {
                let params = c.definition::<MemoryUpdateParams>()?;
                let (store, memory) = (c.id("store"), c.id("memory"));
                let memories = c.client.memory_stores().memories();
                show(memories.update(store, memory, &MemoryUpdateQuery::default(), &params))
            },
        },
        Operation {
            name: "delete",
            about: "Delete a memory",
            params: &[STORE, MEMORY],
            example: "memory-stores memories delete memstore_011CZx mem_011CZx",
            exec: |c| {
                let memories = c.client.memory_stores().memories();
                let p = MemoryDeleteParams::default();
                show(memories.delete(c.id("store"), c.id("memory"), &p))
            },
        },
    ],
    groups: &[],
};

//! `vaults`: list, get, create, update, archive and delete vaults, and the same of their
//! credentials (`vaults credentials`).

use super::resource::{list_all, show, Group, Operation, Param, ID};
use managed_agents::types::*;

const VAULT: Param = Param::Id("vault", "VAULT", "The vault's id");
const CREDENTIAL: Param = Param::Id("credential", "CREDENTIAL", "The credential's id");

/// `vaults`.
pub const VAULTS: Group = Group {
    name: "vaults",
    about: "Vaults and their credentials",
    after_help: Some(crate::definition_help!(
        "  managed-agents vaults create vault.yaml\n  managed-agents vaults credentials list vlt_011CZx"
    )),
    example: "vaults list",
    operations: &[
        Operation {
            name: "list",
            about: "Every vault",
            params: &[Param::Limit, Param::IncludeArchived],
            example: "vaults list --include-archived",
            exec: |c| {
                let p = VaultListParams::default().include_archived(c.include_archived());
                list_all(c.client.vaults().list(&c.limited(p, |p, n| p.limit(n))))
            },
        },
        Operation {
            name: "get",
            about: "One vault",
            params: &[ID],
            example: "vaults get vlt_011CZx",
            exec: |c| show(c.client.vaults().retrieve(c.id("id"))),
        },
        Operation {
            name: "create",
            about: "Create a vault from a definition file",
            params: &[Param::Definition],
            example: "vaults create vault.yaml",
            exec: |c| show(c.client.vaults().create(&c.definition::<VaultCreateParams>()?)),
        },
        Operation {
            name: "update",
            about: "Update a vault from a file",
            params: &[ID, Param::Definition],
            example: "vaults update vlt_011CZx vault.yaml",
            exec: |c| {
                let params = c.definition::<VaultUpdateParams>()?;
                show(c.client.vaults().update(c.id("id"), &params))
            },
        },
        Operation {
            name: "archive",
            about: "Archive a vault",
            params: &[ID],
            example: "vaults archive vlt_011CZx",
            exec: |c| show(c.client.vaults().archive(c.id("id"))),
        },
        Operation {
            name: "delete",
            about: "Delete a vault",
            params: &[ID],
            example: "vaults delete vlt_011CZx",
            exec: |c| show(c.client.vaults().delete(c.id("id"))),
        },
    ],
    groups: &[CREDENTIALS],
};

/// `vaults credentials`.
const CREDENTIALS: Group = Group {
    name: "credentials",
    about: "A vault's credentials",
    after_help: None,
    example: "vaults credentials list vlt_011CZx",
    operations: &[
        Operation {
            name: "list",
            about: "Every credential of a vault",
            params: &[VAULT, Param::Limit, Param::IncludeArchived],
            example: "vaults credentials list vlt_011CZx",
            exec: |c| {
                let p = CredentialListParams::default().include_archived(c.include_archived());
                let p = c.limited(p, |p, n| p.limit(n));
                list_all(c.client.vaults().credentials().list(c.id("vault"), &p))
            },
        },
        Operation {
            name: "get",
            about: "One credential",
            params: &[VAULT, CREDENTIAL],
            example: "vaults credentials get vlt_011CZx vcrd_011CZx",
            exec: |c| {
                let credentials = c.client.vaults().credentials();
                show(credentials.retrieve(c.id("vault"), c.id("credential")))
            },
        },
        Operation {
            name: "create",
            about: "Create a credential from a definition file",
            params: &[VAULT, Param::Definition],
            example: "vaults credentials create vlt_011CZx github.yaml",
            exec: |c| {
                let params = c.definition::<CredentialCreateParams>()?;
                show(
                    c.client
                        .vaults()
                        .credentials()
                        .create(c.id("vault"), &params),
                )
            },
        },
        Operation {
            name: "update",
            about: "Update a credential from a file",
            params: &[VAULT, CREDENTIAL, Param::Definition],
            example: "vaults credentials update vlt_011CZx vcrd_011CZx github.yaml",
            exec: |c| {
                let params = c.definition::<CredentialUpdateParams>()?;
                let credentials = c.client.vaults().credentials();
                show(credentials.update(c.id("vault"), c.id("credential"), &params))
            },
        },
        Operation {
            name: "archive",
            about: "Archive a credential",
            params: &[VAULT, CREDENTIAL],
            example: "vaults credentials archive vlt_011CZx vcrd_011CZx",
            exec: |c| {
                let credentials = c.client.vaults().credentials();
                show(credentials.archive(c.id("vault"), c.id("credential")))
            },
        },
        Operation {
            name: "delete",
            about: "Delete a credential",
            params: &[VAULT, CREDENTIAL],
            example: "vaults credentials delete vlt_011CZx vcrd_011CZx",
            exec: |c| {
                let credentials = c.client.vaults().credentials();
                show(credentials.delete(c.id("vault"), c.id("credential")))
            },
        },
    ],
    groups: &[],
};

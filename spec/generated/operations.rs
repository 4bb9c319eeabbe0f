/// The `anthropic-version` the official SDK of the spec sends (`info.x-anthropic-version`).
pub(crate) const SPEC_ANTHROPIC_VERSION: &str = "2026-10-21";

/// Every operation of the API that this crate binds, in the order of the spec.
pub(crate) static OPERATIONS: &[Operation] = &[
    Operation { id: "agents.list", method: "GET", path: "/v1/agents", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "agents.create", method: "POST", path: "/v1/agents", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "agents.retrieve", method: "GET", path: "/v1/agents/{agent_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "agents.update", method: "POST", path: "/v1/agents/{agent_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "agents.archive", method: "POST", path: "/v1/agents/{agent_id}/archive", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "agents.versions.list", method: "GET", path: "/v1/agents/{agent_id}/versions", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployment_runs.list", method: "GET", path: "/v1/deployment_runs", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployment_runs.retrieve", method: "GET", path: "/v1/deployment_runs/{deployment_run_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployments.list", method: "GET", path: "/v1/deployments", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployments.create", method: "POST", path: "/v1/deployments", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployments.retrieve", method: "GET", path: "/v1/deployments/{deployment_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployments.update", method: "POST", path: "/v1/deployments/{deployment_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployments.archive", method: "POST", path: "/v1/deployments/{deployment_id}/archive", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployments.pause", method: "POST", path: "/v1/deployments/{deployment_id}/pause", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployments.run", method: "POST", path: "/v1/deployments/{deployment_id}/run", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "deployments.unpause", method: "POST", path: "/v1/deployments/{deployment_id}/unpause", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.list", method: "GET", path: "/v1/environments", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.create", method: "POST", path: "/v1/environments", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.delete", method: "DELETE", path: "/v1/environments/{environment_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.retrieve", method: "GET", path: "/v1/environments/{environment_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.update", method: "POST", path: "/v1/environments/{environment_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.archive", method: "POST", path: "/v1/environments/{environment_id}/archive", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.work.list", method: "GET", path: "/v1/environments/{environment_id}/work", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.work.poll", method: "GET", path: "/v1/environments/{environment_id}/work/poll", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.work.stats", method: "GET", path: "/v1/environments/{environment_id}/work/stats", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.work.retrieve", method: "GET", path: "/v1/environments/{environment_id}/work/{work_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.work.update", method: "POST", path: "/v1/environments/{environment_id}/work/{work_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.work.ack", method: "POST", path: "/v1/environments/{environment_id}/work/{work_id}/ack", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.work.heartbeat", method: "POST", path: "/v1/environments/{environment_id}/work/{work_id}/heartbeat", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "environments.work.stop", method: "POST", path: "/v1/environments/{environment_id}/work/{work_id}/stop", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "files.list", method: "GET", path: "/v1/files", beta: "files-api-2025-04-14,managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "files.upload", method: "POST", path: "/v1/files", beta: "files-api-2025-04-14,managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "files.delete", method: "DELETE", path: "/v1/files/{file_id}", beta: "files-api-2025-04-14,managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "files.retrieve_metadata", method: "GET", path: "/v1/files/{file_id}", beta: "files-api-2025-04-14,managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "files.download", method: "GET", path: "/v1/files/{file_id}/content", beta: "files-api-2025-04-14,managed-agents-2026-04-01", accept: "application/binary" },
    Operation { id: "memory_stores.list", method: "GET", path: "/v1/memory_stores", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.create", method: "POST", path: "/v1/memory_stores", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.delete", method: "DELETE", path: "/v1/memory_stores/{memory_store_id}", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.retrieve", method: "GET", path: "/v1/memory_stores/{memory_store_id}", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.update", method: "POST", path: "/v1/memory_stores/{memory_store_id}", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.archive", method: "POST", path: "/v1/memory_stores/{memory_store_id}/archive", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.memories.list", method: "GET", path: "/v1/memory_stores/{memory_store_id}/memories", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.memories.create", method: "POST", path: "/v1/memory_stores/{memory_store_id}/memories", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.memories.delete", method: "DELETE", path: "/v1/memory_stores/{memory_store_id}/memories/{memory_id}", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.memories.retrieve", method: "GET", path: "/v1/memory_stores/{memory_store_id}/memories/{memory_id}", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.memories.update", method: "POST", path: "/v1/memory_stores/{memory_store_id}/memories/{memory_id}", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.memory_versions.list", method: "GET", path: "/v1/memory_stores/{memory_store_id}/memory_versions", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.memory_versions.retrieve", method: "GET", path: "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "memory_stores.memory_versions.redact", method: "POST", path: "/v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}/redact", beta: "agent-memory-2026-07-22", accept: "application/json" },
    Operation { id: "sessions.list", method: "GET", path: "/v1/sessions", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.create", method: "POST", path: "/v1/sessions", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.delete", method: "DELETE", path: "/v1/sessions/{session_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.retrieve", method: "GET", path: "/v1/sessions/{session_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.update", method: "POST", path: "/v1/sessions/{session_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.archive", method: "POST", path: "/v1/sessions/{session_id}/archive", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.events.list", method: "GET", path: "/v1/sessions/{session_id}/events", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.events.send", method: "POST", path: "/v1/sessions/{session_id}/events", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.events.stream", method: "GET", path: "/v1/sessions/{session_id}/events/stream", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.resources.list", method: "GET", path: "/v1/sessions/{session_id}/resources", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.resources.add", method: "POST", path: "/v1/sessions/{session_id}/resources", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.resources.delete", method: "DELETE", path: "/v1/sessions/{session_id}/resources/{resource_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.resources.retrieve", method: "GET", path: "/v1/sessions/{session_id}/resources/{resource_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.resources.update", method: "POST", path: "/v1/sessions/{session_id}/resources/{resource_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.threads.list", method: "GET", path: "/v1/sessions/{session_id}/threads", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.threads.retrieve", method: "GET", path: "/v1/sessions/{session_id}/threads/{thread_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.threads.archive", method: "POST", path: "/v1/sessions/{session_id}/threads/{thread_id}/archive", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.threads.events.list", method: "GET", path: "/v1/sessions/{session_id}/threads/{thread_id}/events", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "sessions.threads.events.stream", method: "GET", path: "/v1/sessions/{session_id}/threads/{thread_id}/stream", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "skills.list", method: "GET", path: "/v1/skills", beta: "skills-2025-10-02", accept: "application/json" },
    Operation { id: "skills.create", method: "POST", path: "/v1/skills", beta: "skills-2025-10-02", accept: "application/json" },
    Operation { id: "skills.delete", method: "DELETE", path: "/v1/skills/{skill_id}", beta: "skills-2025-10-02", accept: "application/json" },
    Operation { id: "skills.retrieve", method: "GET", path: "/v1/skills/{skill_id}", beta: "skills-2025-10-02", accept: "application/json" },
    Operation { id: "skills.versions.list", method: "GET", path: "/v1/skills/{skill_id}/versions", beta: "skills-2025-10-02", accept: "application/json" },
    Operation { id: "skills.versions.create", method: "POST", path: "/v1/skills/{skill_id}/versions", beta: "skills-2025-10-02", accept: "application/json" },
    Operation { id: "skills.versions.delete", method: "DELETE", path: "/v1/skills/{skill_id}/versions/{version}", beta: "skills-2025-10-02", accept: "application/json" },
    Operation { id: "skills.versions.retrieve", method: "GET", path: "/v1/skills/{skill_id}/versions/{version}", beta: "skills-2025-10-02", accept: "application/json" },
    Operation { id: "skills.versions.download", method: "GET", path: "/v1/skills/{skill_id}/versions/{version}/content", beta: "skills-2025-10-02", accept: "application/binary" },
    Operation { id: "vaults.list", method: "GET", path: "/v1/vaults", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.create", method: "POST", path: "/v1/vaults", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.delete", method: "DELETE", path: "/v1/vaults/{vault_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.retrieve", method: "GET", path: "/v1/vaults/{vault_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.update", method: "POST", path: "/v1/vaults/{vault_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.archive", method: "POST", path: "/v1/vaults/{vault_id}/archive", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.credentials.list", method: "GET", path: "/v1/vaults/{vault_id}/credentials", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.credentials.create", method: "POST", path: "/v1/vaults/{vault_id}/credentials", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.credentials.delete", method: "DELETE", path: "/v1/vaults/{vault_id}/credentials/{credential_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.credentials.retrieve", method: "GET", path: "/v1/vaults/{vault_id}/credentials/{credential_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.credentials.update", method: "POST", path: "/v1/vaults/{vault_id}/credentials/{credential_id}", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.credentials.archive", method: "POST", path: "/v1/vaults/{vault_id}/credentials/{credential_id}/archive", beta: "managed-agents-2026-04-01", accept: "application/json" },
    Operation { id: "vaults.credentials.mcp_oauth_validate", method: "POST", path: "/v1/vaults/{vault_id}/credentials/{credential_id}/mcp_oauth_validate", beta: "managed-agents-2026-04-01", accept: "application/json" },
];

/// The `agents` resource: `client.agents()`.
#[derive(Debug, Clone, Copy)]
pub struct Agents<'c> {
    client: &'c Client,
}

impl<'c> Agents<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// The `agents.versions` resource.
    pub fn versions(&self) -> AgentsVersions<'c> {
        AgentsVersions { client: self.client }
    }

    /// List Agents
    ///
    /// `GET /v1/agents`
    pub fn list(&self, params: &AgentListParams) -> Result<Page<Agent>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &AgentListParams, options: &RequestOptions) -> Result<Page<Agent>> {
        let path = "/v1/agents".to_string();
        let span = crate::trace::call_span!("anthropic.agents.list");
        let response = self.client.execute(&OPERATIONS[0], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<Agent> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.agents().list_with(&params, &options)
        }))
    }

    /// Create Agent
    ///
    /// `POST /v1/agents`
    pub fn create(&self, body: &AgentCreateParams) -> Result<Agent> {
        self.create_with(body, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, body: &AgentCreateParams, options: &RequestOptions) -> Result<Agent> {
        let path = "/v1/agents".to_string();
        let span = crate::trace::call_span!(
            "anthropic.agents.create",
            "gen_ai.agent.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[1], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Get Agent
    ///
    /// `GET /v1/agents/{agent_id}`
    pub fn retrieve(&self, agent_id: &str, params: &AgentRetrieveParams) -> Result<Agent> {
        self.retrieve_with(agent_id, params, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, agent_id: &str, params: &AgentRetrieveParams, options: &RequestOptions) -> Result<Agent> {
        let path = format!("/v1/agents/{}", path_segment("agent_id", agent_id)?);
        let span = crate::trace::call_span!(
            "anthropic.agents.retrieve",
            "gen_ai.agent.id" = agent_id,
        );
        let response = self.client.execute(&OPERATIONS[2], span, path, params.to_query(), Body::Empty, options)?;
        response.json()
    }

    /// Update Agent
    ///
    /// `POST /v1/agents/{agent_id}`
    pub fn update(&self, agent_id: &str, body: &AgentUpdateParams) -> Result<Agent> {
        self.update_with(agent_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, agent_id: &str, body: &AgentUpdateParams, options: &RequestOptions) -> Result<Agent> {
        let path = format!("/v1/agents/{}", path_segment("agent_id", agent_id)?);
        let span = crate::trace::call_span!(
            "anthropic.agents.update",
            "gen_ai.agent.id" = agent_id,
        );
        let response = self.client.execute(&OPERATIONS[3], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Archive Agent
    ///
    /// `POST /v1/agents/{agent_id}/archive`
    pub fn archive(&self, agent_id: &str) -> Result<Agent> {
        self.archive_with(agent_id, &RequestOptions::default())
    }

    /// [`Self::archive`] with per-call options (deadline, retries, extra headers and query).
    pub fn archive_with(&self, agent_id: &str, options: &RequestOptions) -> Result<Agent> {
        let path = format!("/v1/agents/{}/archive", path_segment("agent_id", agent_id)?);
        let span = crate::trace::call_span!(
            "anthropic.agents.archive",
            "gen_ai.agent.id" = agent_id,
        );
        let response = self.client.execute(&OPERATIONS[4], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `agents.versions` resource: `client.agents().versions()`.
#[derive(Debug, Clone, Copy)]
pub struct AgentsVersions<'c> {
    client: &'c Client,
}

impl<'c> AgentsVersions<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Agent Versions
    ///
    /// `GET /v1/agents/{agent_id}/versions`
    pub fn list(&self, agent_id: &str, params: &AgentsVersionListParams) -> Result<Page<Agent>> {
        self.list_with(agent_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, agent_id: &str, params: &AgentsVersionListParams, options: &RequestOptions) -> Result<Page<Agent>> {
        let path = format!("/v1/agents/{}/versions", path_segment("agent_id", agent_id)?);
        let span = crate::trace::call_span!(
            "anthropic.agents.versions.list",
            "gen_ai.agent.id" = agent_id,
        );
        let response = self.client.execute(&OPERATIONS[5], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<Agent> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let agent_id = agent_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.agents().versions().list_with(&agent_id, &params, &options)
        }))
    }

}

/// The `deployment_runs` resource: `client.deployment_runs()`.
#[derive(Debug, Clone, Copy)]
pub struct DeploymentRuns<'c> {
    client: &'c Client,
}

impl<'c> DeploymentRuns<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Deployment Runs
    ///
    /// `GET /v1/deployment_runs`
    pub fn list(&self, params: &DeploymentRunListParams) -> Result<Page<DeploymentRun>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &DeploymentRunListParams, options: &RequestOptions) -> Result<Page<DeploymentRun>> {
        let path = "/v1/deployment_runs".to_string();
        let span = crate::trace::call_span!("anthropic.deployment_runs.list");
        let response = self.client.execute(&OPERATIONS[6], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<DeploymentRun> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.deployment_runs().list_with(&params, &options)
        }))
    }

    /// Get Deployment Run
    ///
    /// `GET /v1/deployment_runs/{deployment_run_id}`
    pub fn retrieve(&self, deployment_run_id: &str) -> Result<DeploymentRun> {
        self.retrieve_with(deployment_run_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, deployment_run_id: &str, options: &RequestOptions) -> Result<DeploymentRun> {
        let path = format!("/v1/deployment_runs/{}", path_segment("deployment_run_id", deployment_run_id)?);
        let span = crate::trace::call_span!(
            "anthropic.deployment_runs.retrieve",
            "anthropic.deployment_run.id" = deployment_run_id,
        );
        let response = self.client.execute(&OPERATIONS[7], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `deployments` resource: `client.deployments()`.
#[derive(Debug, Clone, Copy)]
pub struct Deployments<'c> {
    client: &'c Client,
}

impl<'c> Deployments<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Deployments
    ///
    /// `GET /v1/deployments`
    pub fn list(&self, params: &DeploymentListParams) -> Result<Page<Deployment>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &DeploymentListParams, options: &RequestOptions) -> Result<Page<Deployment>> {
        let path = "/v1/deployments".to_string();
        let span = crate::trace::call_span!("anthropic.deployments.list");
        let response = self.client.execute(&OPERATIONS[8], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<Deployment> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.deployments().list_with(&params, &options)
        }))
    }

    /// Create Deployment
    ///
    /// `POST /v1/deployments`
    pub fn create(&self, body: &DeploymentCreateParams) -> Result<Deployment> {
        self.create_with(body, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, body: &DeploymentCreateParams, options: &RequestOptions) -> Result<Deployment> {
        let path = "/v1/deployments".to_string();
        let span = crate::trace::call_span!(
            "anthropic.deployments.create",
            "anthropic.deployment.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[9], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Get Deployment
    ///
    /// `GET /v1/deployments/{deployment_id}`
    pub fn retrieve(&self, deployment_id: &str) -> Result<Deployment> {
        self.retrieve_with(deployment_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, deployment_id: &str, options: &RequestOptions) -> Result<Deployment> {
        let path = format!("/v1/deployments/{}", path_segment("deployment_id", deployment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.deployments.retrieve",
            "anthropic.deployment.id" = deployment_id,
        );
        let response = self.client.execute(&OPERATIONS[10], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Update Deployment
    ///
    /// `POST /v1/deployments/{deployment_id}`
    pub fn update(&self, deployment_id: &str, body: &DeploymentUpdateParams) -> Result<Deployment> {
        self.update_with(deployment_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, deployment_id: &str, body: &DeploymentUpdateParams, options: &RequestOptions) -> Result<Deployment> {
        let path = format!("/v1/deployments/{}", path_segment("deployment_id", deployment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.deployments.update",
            "anthropic.deployment.id" = deployment_id,
        );
        let response = self.client.execute(&OPERATIONS[11], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Archive Deployment
    ///
    /// `POST /v1/deployments/{deployment_id}/archive`
    pub fn archive(&self, deployment_id: &str) -> Result<Deployment> {
        self.archive_with(deployment_id, &RequestOptions::default())
    }

    /// [`Self::archive`] with per-call options (deadline, retries, extra headers and query).
    pub fn archive_with(&self, deployment_id: &str, options: &RequestOptions) -> Result<Deployment> {
        let path = format!("/v1/deployments/{}/archive", path_segment("deployment_id", deployment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.deployments.archive",
            "anthropic.deployment.id" = deployment_id,
        );
        let response = self.client.execute(&OPERATIONS[12], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Pause Deployment
    ///
    /// `POST /v1/deployments/{deployment_id}/pause`
    pub fn pause(&self, deployment_id: &str) -> Result<Deployment> {
        self.pause_with(deployment_id, &RequestOptions::default())
    }

    /// [`Self::pause`] with per-call options (deadline, retries, extra headers and query).
    pub fn pause_with(&self, deployment_id: &str, options: &RequestOptions) -> Result<Deployment> {
        let path = format!("/v1/deployments/{}/pause", path_segment("deployment_id", deployment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.deployments.pause",
            "anthropic.deployment.id" = deployment_id,
        );
        let response = self.client.execute(&OPERATIONS[13], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Run Deployment Now
    ///
    /// `POST /v1/deployments/{deployment_id}/run`
    pub fn run(&self, deployment_id: &str) -> Result<DeploymentRun> {
        self.run_with(deployment_id, &RequestOptions::default())
    }

    /// [`Self::run`] with per-call options (deadline, retries, extra headers and query).
    pub fn run_with(&self, deployment_id: &str, options: &RequestOptions) -> Result<DeploymentRun> {
        let path = format!("/v1/deployments/{}/run", path_segment("deployment_id", deployment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.deployments.run",
            "anthropic.deployment.id" = deployment_id,
        );
        let response = self.client.execute(&OPERATIONS[14], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Unpause Deployment
    ///
    /// `POST /v1/deployments/{deployment_id}/unpause`
    pub fn unpause(&self, deployment_id: &str) -> Result<Deployment> {
        self.unpause_with(deployment_id, &RequestOptions::default())
    }

    /// [`Self::unpause`] with per-call options (deadline, retries, extra headers and query).
    pub fn unpause_with(&self, deployment_id: &str, options: &RequestOptions) -> Result<Deployment> {
        let path = format!("/v1/deployments/{}/unpause", path_segment("deployment_id", deployment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.deployments.unpause",
            "anthropic.deployment.id" = deployment_id,
        );
        let response = self.client.execute(&OPERATIONS[15], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `environments` resource: `client.environments()`.
#[derive(Debug, Clone, Copy)]
pub struct Environments<'c> {
    client: &'c Client,
}

impl<'c> Environments<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// The `environments.work` resource.
    pub fn work(&self) -> EnvironmentsWork<'c> {
        EnvironmentsWork { client: self.client }
    }

    /// List environments with pagination support.
    ///
    /// `GET /v1/environments`
    pub fn list(&self, params: &EnvironmentListParams) -> Result<Page<Environment>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &EnvironmentListParams, options: &RequestOptions) -> Result<Page<Environment>> {
        let path = "/v1/environments".to_string();
        let span = crate::trace::call_span!("anthropic.environments.list");
        let response = self.client.execute(&OPERATIONS[16], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<Environment> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.environments().list_with(&params, &options)
        }))
    }

    /// Create a new environment with the specified configuration.
    ///
    /// `POST /v1/environments`
    pub fn create(&self, body: &EnvironmentCreateParams) -> Result<Environment> {
        self.create_with(body, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, body: &EnvironmentCreateParams, options: &RequestOptions) -> Result<Environment> {
        let path = "/v1/environments".to_string();
        let span = crate::trace::call_span!(
            "anthropic.environments.create",
            "anthropic.environment.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[17], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Delete an environment by ID.
    ///
    /// Delete an environment by ID.
    ///
    /// Returns a confirmation of the deletion.
    ///
    /// `DELETE /v1/environments/{environment_id}`
    pub fn delete(&self, environment_id: &str) -> Result<EnvironmentDeleteResponse> {
        self.delete_with(environment_id, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, environment_id: &str, options: &RequestOptions) -> Result<EnvironmentDeleteResponse> {
        let path = format!("/v1/environments/{}", path_segment("environment_id", environment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.delete",
            "anthropic.environment.id" = environment_id,
        );
        let response = self.client.execute(&OPERATIONS[18], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Retrieve a specific environment by ID.
    ///
    /// `GET /v1/environments/{environment_id}`
    pub fn retrieve(&self, environment_id: &str) -> Result<Environment> {
        self.retrieve_with(environment_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, environment_id: &str, options: &RequestOptions) -> Result<Environment> {
        let path = format!("/v1/environments/{}", path_segment("environment_id", environment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.retrieve",
            "anthropic.environment.id" = environment_id,
        );
        let response = self.client.execute(&OPERATIONS[19], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Update an existing environment's configuration.
    ///
    /// `POST /v1/environments/{environment_id}`
    pub fn update(&self, environment_id: &str, body: &EnvironmentUpdateParams) -> Result<Environment> {
        self.update_with(environment_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, environment_id: &str, body: &EnvironmentUpdateParams, options: &RequestOptions) -> Result<Environment> {
        let path = format!("/v1/environments/{}", path_segment("environment_id", environment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.update",
            "anthropic.environment.id" = environment_id,
        );
        let response = self.client.execute(&OPERATIONS[20], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Archive an environment by ID.
    ///
    /// Archive an environment by ID.
    ///
    /// Archived environments cannot be used to create new
    /// sessions.
    ///
    /// `POST /v1/environments/{environment_id}/archive`
    pub fn archive(&self, environment_id: &str) -> Result<Environment> {
        self.archive_with(environment_id, &RequestOptions::default())
    }

    /// [`Self::archive`] with per-call options (deadline, retries, extra headers and query).
    pub fn archive_with(&self, environment_id: &str, options: &RequestOptions) -> Result<Environment> {
        let path = format!("/v1/environments/{}/archive", path_segment("environment_id", environment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.archive",
            "anthropic.environment.id" = environment_id,
        );
        let response = self.client.execute(&OPERATIONS[21], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `environments.work` resource: `client.environments().work()`.
#[derive(Debug, Clone, Copy)]
pub struct EnvironmentsWork<'c> {
    client: &'c Client,
}

impl<'c> EnvironmentsWork<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List work items in an environment.
    ///
    /// List work items in an environment.
    ///
    /// This endpoint accepts the environment key as a bearer token. It rejects a Claude
    /// API key. On
    /// [Claude Platform on AWS](https://platform.claude.com/docs/en/build-with-claude/claude-platform-on-aws)
    /// or
    /// [Claude Models on Google Cloud (Anthropic managed)](https://platform.claude.com/docs/en/build-with-claude/claude-models-on-google-cloud/anthropic-managed),
    /// use that platform's credentials instead.
    ///
    /// `GET /v1/environments/{environment_id}/work`
    pub fn list(&self, environment_id: &str, params: &WorkListParams) -> Result<Page<SelfHostedWork>> {
        self.list_with(environment_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, environment_id: &str, params: &WorkListParams, options: &RequestOptions) -> Result<Page<SelfHostedWork>> {
        let path = format!("/v1/environments/{}/work", path_segment("environment_id", environment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.work.list",
            "anthropic.environment.id" = environment_id,
        );
        let response = self.client.execute(&OPERATIONS[22], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<SelfHostedWork> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let environment_id = environment_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.environments().work().list_with(&environment_id, &params, &options)
        }))
    }

    /// Note: these endpoints are called automatically by the pre-built environment
    ///
    /// Note: these endpoints are called automatically by the pre-built environment
    /// worker provided in the SDKs and CLI, for orchestrating sessions with self-hosted
    /// sandbox environments. They are included here as a reference; you do not need to
    /// invoke them directly.
    ///
    /// Long poll for work items in the queue.
    ///
    /// `GET /v1/environments/{environment_id}/work/poll`
    pub fn poll(&self, environment_id: &str, params: &WorkPollParams) -> Result<Option<SelfHostedWork>> {
        self.poll_with(environment_id, params, &RequestOptions::default())
    }

    /// [`Self::poll`] with per-call options (deadline, retries, extra headers and query).
    pub fn poll_with(&self, environment_id: &str, params: &WorkPollParams, options: &RequestOptions) -> Result<Option<SelfHostedWork>> {
        let path = format!("/v1/environments/{}/work/poll", path_segment("environment_id", environment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.work.poll",
            "anthropic.environment.id" = environment_id,
        );
        let response = self.client.execute(&OPERATIONS[23], span, path, params.to_query(), Body::Empty, options)?;
        response.json()
    }

    /// Get statistics about the work queue for an environment.
    ///
    /// `GET /v1/environments/{environment_id}/work/stats`
    pub fn stats(&self, environment_id: &str) -> Result<SelfHostedWorkQueueStats> {
        self.stats_with(environment_id, &RequestOptions::default())
    }

    /// [`Self::stats`] with per-call options (deadline, retries, extra headers and query).
    pub fn stats_with(&self, environment_id: &str, options: &RequestOptions) -> Result<SelfHostedWorkQueueStats> {
        let path = format!("/v1/environments/{}/work/stats", path_segment("environment_id", environment_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.work.stats",
            "anthropic.environment.id" = environment_id,
        );
        let response = self.client.execute(&OPERATIONS[24], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Retrieve detailed information about a specific work item.
    ///
    /// Retrieve detailed information about a specific work item.
    ///
    /// This endpoint accepts a Claude API key. It rejects the environment key and the
    /// work item's `secret`. On
    /// [Claude Platform on AWS](https://platform.claude.com/docs/en/build-with-claude/claude-platform-on-aws)
    /// or
    /// [Claude Models on Google Cloud (Anthropic managed)](https://platform.claude.com/docs/en/build-with-claude/claude-models-on-google-cloud/anthropic-managed),
    /// use that platform's credentials instead.
    ///
    /// `GET /v1/environments/{environment_id}/work/{work_id}`
    pub fn retrieve(&self, environment_id: &str, work_id: &str) -> Result<SelfHostedWork> {
        self.retrieve_with(environment_id, work_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, environment_id: &str, work_id: &str, options: &RequestOptions) -> Result<SelfHostedWork> {
        let path = format!("/v1/environments/{}/work/{}", path_segment("environment_id", environment_id)?, path_segment("work_id", work_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.work.retrieve",
            "anthropic.environment.id" = environment_id,
            "anthropic.environment.work.id" = work_id,
        );
        let response = self.client.execute(&OPERATIONS[25], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Update work item metadata with merge semantics.
    ///
    /// Update work item metadata with merge semantics.
    ///
    /// This endpoint accepts a Claude API key. It rejects the environment key and the
    /// work item's `secret`. On
    /// [Claude Platform on AWS](https://platform.claude.com/docs/en/build-with-claude/claude-platform-on-aws)
    /// or
    /// [Claude Models on Google Cloud (Anthropic managed)](https://platform.claude.com/docs/en/build-with-claude/claude-models-on-google-cloud/anthropic-managed),
    /// use that platform's credentials instead.
    ///
    /// `POST /v1/environments/{environment_id}/work/{work_id}`
    pub fn update(&self, environment_id: &str, work_id: &str, body: &WorkUpdateParams) -> Result<SelfHostedWork> {
        self.update_with(environment_id, work_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, environment_id: &str, work_id: &str, body: &WorkUpdateParams, options: &RequestOptions) -> Result<SelfHostedWork> {
        let path = format!("/v1/environments/{}/work/{}", path_segment("environment_id", environment_id)?, path_segment("work_id", work_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.work.update",
            "anthropic.environment.id" = environment_id,
            "anthropic.environment.work.id" = work_id,
        );
        let response = self.client.execute(&OPERATIONS[26], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Note: these endpoints are called automatically by the pre-built environment
    ///
    /// Note: these endpoints are called automatically by the pre-built environment
    /// worker provided in the SDKs and CLI, for orchestrating sessions with self-hosted
    /// sandbox environments. They are included here as a reference; you do not need to
    /// invoke them directly.
    ///
    /// Acknowledge receipt of a work item, transitioning it from 'queued' to 'starting'
    /// and removing it from the queue.
    ///
    /// `POST /v1/environments/{environment_id}/work/{work_id}/ack`
    pub fn ack(&self, environment_id: &str, work_id: &str) -> Result<SelfHostedWork> {
        self.ack_with(environment_id, work_id, &RequestOptions::default())
    }

    /// [`Self::ack`] with per-call options (deadline, retries, extra headers and query).
    pub fn ack_with(&self, environment_id: &str, work_id: &str, options: &RequestOptions) -> Result<SelfHostedWork> {
        let path = format!("/v1/environments/{}/work/{}/ack", path_segment("environment_id", environment_id)?, path_segment("work_id", work_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.work.ack",
            "anthropic.environment.id" = environment_id,
            "anthropic.environment.work.id" = work_id,
        );
        let response = self.client.execute(&OPERATIONS[27], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Note: these endpoints are called automatically by the pre-built environment
    ///
    /// Note: these endpoints are called automatically by the pre-built environment
    /// worker provided in the SDKs and CLI, for orchestrating sessions with self-hosted
    /// sandbox environments. They are included here as a reference; you do not need to
    /// invoke them directly.
    ///
    /// Record a heartbeat for a work item to maintain the lease.
    ///
    /// `POST /v1/environments/{environment_id}/work/{work_id}/heartbeat`
    pub fn heartbeat(&self, environment_id: &str, work_id: &str, params: &WorkHeartbeatParams) -> Result<SelfHostedWorkHeartbeatResponse> {
        self.heartbeat_with(environment_id, work_id, params, &RequestOptions::default())
    }

    /// [`Self::heartbeat`] with per-call options (deadline, retries, extra headers and query).
    pub fn heartbeat_with(&self, environment_id: &str, work_id: &str, params: &WorkHeartbeatParams, options: &RequestOptions) -> Result<SelfHostedWorkHeartbeatResponse> {
        let path = format!("/v1/environments/{}/work/{}/heartbeat", path_segment("environment_id", environment_id)?, path_segment("work_id", work_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.work.heartbeat",
            "anthropic.environment.id" = environment_id,
            "anthropic.environment.work.id" = work_id,
        );
        let response = self.client.execute(&OPERATIONS[28], span, path, params.to_query(), Body::Empty, options)?;
        response.json()
    }

    /// Stop a work item, initiating graceful or forced shutdown.
    ///
    /// `POST /v1/environments/{environment_id}/work/{work_id}/stop`
    pub fn stop(&self, environment_id: &str, work_id: &str, body: &WorkStopParams) -> Result<()> {
        self.stop_with(environment_id, work_id, body, &RequestOptions::default())
    }

    /// [`Self::stop`] with per-call options (deadline, retries, extra headers and query).
    pub fn stop_with(&self, environment_id: &str, work_id: &str, body: &WorkStopParams, options: &RequestOptions) -> Result<()> {
        let path = format!("/v1/environments/{}/work/{}/stop", path_segment("environment_id", environment_id)?, path_segment("work_id", work_id)?);
        let span = crate::trace::call_span!(
            "anthropic.environments.work.stop",
            "anthropic.environment.id" = environment_id,
            "anthropic.environment.work.id" = work_id,
        );
        let response = self.client.execute(&OPERATIONS[29], span, path, Vec::new(), Body::json(body)?, options)?;
        response.finish()
    }

}

/// The `files` resource: `client.files()`.
#[derive(Debug, Clone, Copy)]
pub struct Files<'c> {
    client: &'c Client,
}

impl<'c> Files<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Files
    ///
    /// `GET /v1/files`
    pub fn list(&self, params: &FileListParams) -> Result<Page<FileMetadata>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &FileListParams, options: &RequestOptions) -> Result<Page<FileMetadata>> {
        let path = "/v1/files".to_string();
        let span = crate::trace::call_span!("anthropic.files.list");
        let response = self.client.execute(&OPERATIONS[30], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<FileMetadata> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.files().list_with(&params, &options)
        }))
    }

    /// Upload File
    ///
    /// `POST /v1/files`
    ///
    /// The body is `multipart/form-data`; `Files::upload` builds it from a path or any reader.
    pub fn upload(&self, form: impl Into<Multipart>) -> Result<FileMetadata> {
        self.upload_with(form, &RequestOptions::default())
    }

    /// [`Self::upload`] with per-call options (deadline, retries, extra headers and query).
    pub fn upload_with(&self, form: impl Into<Multipart>, options: &RequestOptions) -> Result<FileMetadata> {
        let path = "/v1/files".to_string();
        let span = crate::trace::call_span!(
            "anthropic.files.upload",
            "anthropic.file.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[31], span, path, Vec::new(), Body::Multipart(form.into()), options)?;
        response.json()
    }

    /// Delete File
    ///
    /// `DELETE /v1/files/{file_id}`
    pub fn delete(&self, file_id: &str) -> Result<DeletedFile> {
        self.delete_with(file_id, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, file_id: &str, options: &RequestOptions) -> Result<DeletedFile> {
        let path = format!("/v1/files/{}", path_segment("file_id", file_id)?);
        let span = crate::trace::call_span!(
            "anthropic.files.delete",
            "anthropic.file.id" = file_id,
        );
        let response = self.client.execute(&OPERATIONS[32], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Get File Metadata
    ///
    /// `GET /v1/files/{file_id}`
    pub fn retrieve_metadata(&self, file_id: &str) -> Result<FileMetadata> {
        self.retrieve_metadata_with(file_id, &RequestOptions::default())
    }

    /// [`Self::retrieve_metadata`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_metadata_with(&self, file_id: &str, options: &RequestOptions) -> Result<FileMetadata> {
        let path = format!("/v1/files/{}", path_segment("file_id", file_id)?);
        let span = crate::trace::call_span!(
            "anthropic.files.retrieve_metadata",
            "anthropic.file.id" = file_id,
        );
        let response = self.client.execute(&OPERATIONS[33], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Download File
    ///
    /// `GET /v1/files/{file_id}/content`
    pub fn download(&self, file_id: &str) -> Result<Response> {
        self.download_with(file_id, &RequestOptions::default())
    }

    /// [`Self::download`] with per-call options (deadline, retries, extra headers and query).
    pub fn download_with(&self, file_id: &str, options: &RequestOptions) -> Result<Response> {
        let path = format!("/v1/files/{}/content", path_segment("file_id", file_id)?);
        let span = crate::trace::call_span!(
            "anthropic.files.download",
            "anthropic.file.id" = file_id,
        );
        let response = self.client.execute(&OPERATIONS[34], span, path, Vec::new(), Body::Empty, options)?;
        Ok(response)
    }

}

/// The `memory_stores` resource: `client.memory_stores()`.
#[derive(Debug, Clone, Copy)]
pub struct MemoryStores<'c> {
    client: &'c Client,
}

impl<'c> MemoryStores<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// The `memory_stores.memories` resource.
    pub fn memories(&self) -> MemoryStoresMemories<'c> {
        MemoryStoresMemories { client: self.client }
    }

    /// The `memory_stores.memory_versions` resource.
    pub fn memory_versions(&self) -> MemoryStoresMemoryVersions<'c> {
        MemoryStoresMemoryVersions { client: self.client }
    }

    /// List Memory Stores
    ///
    /// `GET /v1/memory_stores`
    pub fn list(&self, params: &MemoryStoreListParams) -> Result<Page<MemoryStore>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &MemoryStoreListParams, options: &RequestOptions) -> Result<Page<MemoryStore>> {
        let path = "/v1/memory_stores".to_string();
        let span = crate::trace::call_span!("anthropic.memory_stores.list");
        let response = self.client.execute(&OPERATIONS[35], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<MemoryStore> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.memory_stores().list_with(&params, &options)
        }))
    }

    /// Create a Memory Store
    ///
    /// `POST /v1/memory_stores`
    pub fn create(&self, body: &MemoryStoreCreateParams) -> Result<MemoryStore> {
        self.create_with(body, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, body: &MemoryStoreCreateParams, options: &RequestOptions) -> Result<MemoryStore> {
        let path = "/v1/memory_stores".to_string();
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.create",
            "gen_ai.memory.store.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[36], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Delete a Memory Store
    ///
    /// `DELETE /v1/memory_stores/{memory_store_id}`
    pub fn delete(&self, memory_store_id: &str) -> Result<DeletedMemoryStore> {
        self.delete_with(memory_store_id, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, memory_store_id: &str, options: &RequestOptions) -> Result<DeletedMemoryStore> {
        let path = format!("/v1/memory_stores/{}", path_segment("memory_store_id", memory_store_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.delete",
            "gen_ai.memory.store.id" = memory_store_id,
        );
        let response = self.client.execute(&OPERATIONS[37], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Retrieve a Memory Store
    ///
    /// `GET /v1/memory_stores/{memory_store_id}`
    pub fn retrieve(&self, memory_store_id: &str) -> Result<MemoryStore> {
        self.retrieve_with(memory_store_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, memory_store_id: &str, options: &RequestOptions) -> Result<MemoryStore> {
        let path = format!("/v1/memory_stores/{}", path_segment("memory_store_id", memory_store_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.retrieve",
            "gen_ai.memory.store.id" = memory_store_id,
        );
        let response = self.client.execute(&OPERATIONS[38], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Update a Memory Store
    ///
    /// `POST /v1/memory_stores/{memory_store_id}`
    pub fn update(&self, memory_store_id: &str, body: &MemoryStoreUpdateParams) -> Result<MemoryStore> {
        self.update_with(memory_store_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, memory_store_id: &str, body: &MemoryStoreUpdateParams, options: &RequestOptions) -> Result<MemoryStore> {
        let path = format!("/v1/memory_stores/{}", path_segment("memory_store_id", memory_store_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.update",
            "gen_ai.memory.store.id" = memory_store_id,
        );
        let response = self.client.execute(&OPERATIONS[39], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Archive a Memory Store
    ///
    /// `POST /v1/memory_stores/{memory_store_id}/archive`
    pub fn archive(&self, memory_store_id: &str) -> Result<MemoryStore> {
        self.archive_with(memory_store_id, &RequestOptions::default())
    }

    /// [`Self::archive`] with per-call options (deadline, retries, extra headers and query).
    pub fn archive_with(&self, memory_store_id: &str, options: &RequestOptions) -> Result<MemoryStore> {
        let path = format!("/v1/memory_stores/{}/archive", path_segment("memory_store_id", memory_store_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.archive",
            "gen_ai.memory.store.id" = memory_store_id,
        );
        let response = self.client.execute(&OPERATIONS[40], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `memory_stores.memories` resource: `client.memory_stores().memories()`.
#[derive(Debug, Clone, Copy)]
pub struct MemoryStoresMemories<'c> {
    client: &'c Client,
}

impl<'c> MemoryStoresMemories<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Memories
    ///
    /// `GET /v1/memory_stores/{memory_store_id}/memories`
    pub fn list(&self, memory_store_id: &str, params: &MemoryListParams) -> Result<Page<MemoryListItem>> {
        self.list_with(memory_store_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, memory_store_id: &str, params: &MemoryListParams, options: &RequestOptions) -> Result<Page<MemoryListItem>> {
        let path = format!("/v1/memory_stores/{}/memories", path_segment("memory_store_id", memory_store_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.memories.list",
            "gen_ai.memory.store.id" = memory_store_id,
        );
        let response = self.client.execute(&OPERATIONS[41], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<MemoryListItem> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let memory_store_id = memory_store_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.memory_stores().memories().list_with(&memory_store_id, &params, &options)
        }))
    }

    /// Create a Memory
    ///
    /// `POST /v1/memory_stores/{memory_store_id}/memories`
    pub fn create(&self, memory_store_id: &str, params: &MemoryCreateQuery, body: &MemoryCreateParams) -> Result<Memory> {
        self.create_with(memory_store_id, params, body, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, memory_store_id: &str, params: &MemoryCreateQuery, body: &MemoryCreateParams, options: &RequestOptions) -> Result<Memory> {
        let path = format!("/v1/memory_stores/{}/memories", path_segment("memory_store_id", memory_store_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.memories.create",
            "gen_ai.memory.store.id" = memory_store_id,
            "gen_ai.memory.record.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[42], span, path, params.to_query(), Body::json(body)?, options)?;
        response.json()
    }

    /// Delete a Memory
    ///
    /// `DELETE /v1/memory_stores/{memory_store_id}/memories/{memory_id}`
    pub fn delete(&self, memory_store_id: &str, memory_id: &str, params: &MemoryDeleteParams) -> Result<DeletedMemory> {
        self.delete_with(memory_store_id, memory_id, params, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, memory_store_id: &str, memory_id: &str, params: &MemoryDeleteParams, options: &RequestOptions) -> Result<DeletedMemory> {
        let path = format!("/v1/memory_stores/{}/memories/{}", path_segment("memory_store_id", memory_store_id)?, path_segment("memory_id", memory_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.memories.delete",
            "gen_ai.memory.store.id" = memory_store_id,
            "gen_ai.memory.record.id" = memory_id,
        );
        let response = self.client.execute(&OPERATIONS[43], span, path, params.to_query(), Body::Empty, options)?;
        response.json()
    }

    /// Retrieve a Memory
    ///
    /// `GET /v1/memory_stores/{memory_store_id}/memories/{memory_id}`
    pub fn retrieve(&self, memory_store_id: &str, memory_id: &str, params: &MemoryRetrieveParams) -> Result<Memory> {
        self.retrieve_with(memory_store_id, memory_id, params, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, memory_store_id: &str, memory_id: &str, params: &MemoryRetrieveParams, options: &RequestOptions) -> Result<Memory> {
        let path = format!("/v1/memory_stores/{}/memories/{}", path_segment("memory_store_id", memory_store_id)?, path_segment("memory_id", memory_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.memories.retrieve",
            "gen_ai.memory.store.id" = memory_store_id,
            "gen_ai.memory.record.id" = memory_id,
        );
        let response = self.client.execute(&OPERATIONS[44], span, path, params.to_query(), Body::Empty, options)?;
        response.json()
    }

    /// Update a Memory
    ///
    /// `POST /v1/memory_stores/{memory_store_id}/memories/{memory_id}`
    pub fn update(&self, memory_store_id: &str, memory_id: &str, params: &MemoryUpdateQuery, body: &MemoryUpdateParams) -> Result<Memory> {
        self.update_with(memory_store_id, memory_id, params, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, memory_store_id: &str, memory_id: &str, params: &MemoryUpdateQuery, body: &MemoryUpdateParams, options: &RequestOptions) -> Result<Memory> {
        let path = format!("/v1/memory_stores/{}/memories/{}", path_segment("memory_store_id", memory_store_id)?, path_segment("memory_id", memory_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.memories.update",
            "gen_ai.memory.store.id" = memory_store_id,
            "gen_ai.memory.record.id" = memory_id,
        );
        let response = self.client.execute(&OPERATIONS[45], span, path, params.to_query(), Body::json(body)?, options)?;
        response.json()
    }

}

/// The `memory_stores.memory_versions` resource: `client.memory_stores().memory_versions()`.
#[derive(Debug, Clone, Copy)]
pub struct MemoryStoresMemoryVersions<'c> {
    client: &'c Client,
}

impl<'c> MemoryStoresMemoryVersions<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Memory Versions
    ///
    /// `GET /v1/memory_stores/{memory_store_id}/memory_versions`
    pub fn list(&self, memory_store_id: &str, params: &MemoryVersionListParams) -> Result<Page<MemoryVersion>> {
        self.list_with(memory_store_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, memory_store_id: &str, params: &MemoryVersionListParams, options: &RequestOptions) -> Result<Page<MemoryVersion>> {
        let path = format!("/v1/memory_stores/{}/memory_versions", path_segment("memory_store_id", memory_store_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.memory_versions.list",
            "gen_ai.memory.store.id" = memory_store_id,
        );
        let response = self.client.execute(&OPERATIONS[46], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<MemoryVersion> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let memory_store_id = memory_store_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.memory_stores().memory_versions().list_with(&memory_store_id, &params, &options)
        }))
    }

    /// Retrieve a Memory Version
    ///
    /// `GET /v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}`
    pub fn retrieve(&self, memory_store_id: &str, memory_version_id: &str, params: &MemoryVersionRetrieveParams) -> Result<MemoryVersion> {
        self.retrieve_with(memory_store_id, memory_version_id, params, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, memory_store_id: &str, memory_version_id: &str, params: &MemoryVersionRetrieveParams, options: &RequestOptions) -> Result<MemoryVersion> {
        let path = format!("/v1/memory_stores/{}/memory_versions/{}", path_segment("memory_store_id", memory_store_id)?, path_segment("memory_version_id", memory_version_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.memory_versions.retrieve",
            "gen_ai.memory.store.id" = memory_store_id,
            "anthropic.memory_store.memory_version.id" = memory_version_id,
        );
        let response = self.client.execute(&OPERATIONS[47], span, path, params.to_query(), Body::Empty, options)?;
        response.json()
    }

    /// Redact a Memory Version
    ///
    /// `POST /v1/memory_stores/{memory_store_id}/memory_versions/{memory_version_id}/redact`
    pub fn redact(&self, memory_store_id: &str, memory_version_id: &str) -> Result<MemoryVersion> {
        self.redact_with(memory_store_id, memory_version_id, &RequestOptions::default())
    }

    /// [`Self::redact`] with per-call options (deadline, retries, extra headers and query).
    pub fn redact_with(&self, memory_store_id: &str, memory_version_id: &str, options: &RequestOptions) -> Result<MemoryVersion> {
        let path = format!("/v1/memory_stores/{}/memory_versions/{}/redact", path_segment("memory_store_id", memory_store_id)?, path_segment("memory_version_id", memory_version_id)?);
        let span = crate::trace::call_span!(
            "anthropic.memory_stores.memory_versions.redact",
            "gen_ai.memory.store.id" = memory_store_id,
            "anthropic.memory_store.memory_version.id" = memory_version_id,
        );
        let response = self.client.execute(&OPERATIONS[48], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `sessions` resource: `client.sessions()`.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'c> {
    client: &'c Client,
}

impl<'c> Sessions<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// The `sessions.events` resource.
    pub fn events(&self) -> SessionsEvents<'c> {
        SessionsEvents { client: self.client }
    }

    /// The `sessions.resources` resource.
    pub fn resources(&self) -> SessionsResources<'c> {
        SessionsResources { client: self.client }
    }

    /// The `sessions.threads` resource.
    pub fn threads(&self) -> SessionsThreads<'c> {
        SessionsThreads { client: self.client }
    }

    /// List Sessions
    ///
    /// `GET /v1/sessions`
    pub fn list(&self, params: &SessionListParams) -> Result<Page<Session>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &SessionListParams, options: &RequestOptions) -> Result<Page<Session>> {
        let path = "/v1/sessions".to_string();
        let span = crate::trace::call_span!("anthropic.sessions.list");
        let response = self.client.execute(&OPERATIONS[49], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<Session> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.sessions().list_with(&params, &options)
        }))
    }

    /// Create Session
    ///
    /// `POST /v1/sessions`
    pub fn create(&self, body: &SessionCreateParams) -> Result<Session> {
        self.create_with(body, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, body: &SessionCreateParams, options: &RequestOptions) -> Result<Session> {
        let path = "/v1/sessions".to_string();
        let span = crate::trace::call_span!(
            "anthropic.sessions.create",
            "anthropic.session.id" = crate::trace::LATER,
            "anthropic.session.environment.id" = crate::trace::LATER,
            "gen_ai.agent.id" = crate::trace::LATER,
            "gen_ai.agent.name" = crate::trace::LATER,
            "gen_ai.request.model" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[50], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Delete Session
    ///
    /// `DELETE /v1/sessions/{session_id}`
    pub fn delete(&self, session_id: &str) -> Result<DeletedSession> {
        self.delete_with(session_id, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, session_id: &str, options: &RequestOptions) -> Result<DeletedSession> {
        let path = format!("/v1/sessions/{}", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.delete",
            "anthropic.session.id" = session_id,
        );
        let response = self.client.execute(&OPERATIONS[51], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Get Session
    ///
    /// `GET /v1/sessions/{session_id}`
    pub fn retrieve(&self, session_id: &str) -> Result<Session> {
        self.retrieve_with(session_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, session_id: &str, options: &RequestOptions) -> Result<Session> {
        let path = format!("/v1/sessions/{}", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.retrieve",
            "anthropic.session.id" = session_id,
        );
        let response = self.client.execute(&OPERATIONS[52], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Update Session
    ///
    /// `POST /v1/sessions/{session_id}`
    pub fn update(&self, session_id: &str, body: &SessionUpdateParams) -> Result<Session> {
        self.update_with(session_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, session_id: &str, body: &SessionUpdateParams, options: &RequestOptions) -> Result<Session> {
        let path = format!("/v1/sessions/{}", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.update",
            "anthropic.session.id" = session_id,
        );
        let response = self.client.execute(&OPERATIONS[53], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Archive Session
    ///
    /// `POST /v1/sessions/{session_id}/archive`
    pub fn archive(&self, session_id: &str) -> Result<Session> {
        self.archive_with(session_id, &RequestOptions::default())
    }

    /// [`Self::archive`] with per-call options (deadline, retries, extra headers and query).
    pub fn archive_with(&self, session_id: &str, options: &RequestOptions) -> Result<Session> {
        let path = format!("/v1/sessions/{}/archive", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.archive",
            "anthropic.session.id" = session_id,
        );
        let response = self.client.execute(&OPERATIONS[54], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `sessions.events` resource: `client.sessions().events()`.
#[derive(Debug, Clone, Copy)]
pub struct SessionsEvents<'c> {
    client: &'c Client,
}

impl<'c> SessionsEvents<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Events
    ///
    /// `GET /v1/sessions/{session_id}/events`
    pub fn list(&self, session_id: &str, params: &SessionsEventListParams) -> Result<Page<SessionEvent>> {
        self.list_with(session_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, session_id: &str, params: &SessionsEventListParams, options: &RequestOptions) -> Result<Page<SessionEvent>> {
        let path = format!("/v1/sessions/{}/events", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.events.list",
            "anthropic.session.id" = session_id,
        );
        let response = self.client.execute(&OPERATIONS[55], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<SessionEvent> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let session_id = session_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.sessions().events().list_with(&session_id, &params, &options)
        }))
    }

    /// Send Events
    ///
    /// `POST /v1/sessions/{session_id}/events`
    pub fn send(&self, session_id: &str, body: &EventSendParams) -> Result<SendSessionEvents> {
        self.send_with(session_id, body, &RequestOptions::default())
    }

    /// [`Self::send`] with per-call options (deadline, retries, extra headers and query).
    pub fn send_with(&self, session_id: &str, body: &EventSendParams, options: &RequestOptions) -> Result<SendSessionEvents> {
        let path = format!("/v1/sessions/{}/events", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.events.send",
            "anthropic.session.id" = session_id,
        );
        let response = self.client.execute(&OPERATIONS[56], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Stream Events
    ///
    /// `GET /v1/sessions/{session_id}/events/stream`
    pub fn stream_response(&self, session_id: &str, params: &SessionsEventStreamParams) -> Result<Response> {
        self.stream_response_with(session_id, params, &RequestOptions::default())
    }

    /// [`Self::stream_response`] with per-call options (deadline, retries, extra headers and query).
    pub fn stream_response_with(&self, session_id: &str, params: &SessionsEventStreamParams, options: &RequestOptions) -> Result<Response> {
        let path = format!("/v1/sessions/{}/events/stream", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.events.stream",
            "anthropic.session.id" = session_id,
            "gen_ai.response.time_to_first_chunk" = crate::trace::LATER,
            "anthropic.stream.events" = crate::trace::LATER,
            "anthropic.stream.reconnects" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[57], span, path, params.to_query(), Body::Empty, options)?;
        Ok(response)
    }

}

/// The `sessions.resources` resource: `client.sessions().resources()`.
#[derive(Debug, Clone, Copy)]
pub struct SessionsResources<'c> {
    client: &'c Client,
}

impl<'c> SessionsResources<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Session Resources
    ///
    /// `GET /v1/sessions/{session_id}/resources`
    pub fn list(&self, session_id: &str, params: &ResourceListParams) -> Result<Page<SessionResource>> {
        self.list_with(session_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, session_id: &str, params: &ResourceListParams, options: &RequestOptions) -> Result<Page<SessionResource>> {
        let path = format!("/v1/sessions/{}/resources", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.resources.list",
            "anthropic.session.id" = session_id,
        );
        let response = self.client.execute(&OPERATIONS[58], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<SessionResource> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let session_id = session_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.sessions().resources().list_with(&session_id, &params, &options)
        }))
    }

    /// Add Session Resource
    ///
    /// `POST /v1/sessions/{session_id}/resources`
    pub fn add(&self, session_id: &str, body: &ResourceAddParams) -> Result<FileResource> {
        self.add_with(session_id, body, &RequestOptions::default())
    }

    /// [`Self::add`] with per-call options (deadline, retries, extra headers and query).
    pub fn add_with(&self, session_id: &str, body: &ResourceAddParams, options: &RequestOptions) -> Result<FileResource> {
        let path = format!("/v1/sessions/{}/resources", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.resources.add",
            "anthropic.session.id" = session_id,
            "anthropic.session.resource.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[59], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Delete Session Resource
    ///
    /// `DELETE /v1/sessions/{session_id}/resources/{resource_id}`
    pub fn delete(&self, session_id: &str, resource_id: &str) -> Result<DeleteSessionResource> {
        self.delete_with(session_id, resource_id, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, session_id: &str, resource_id: &str, options: &RequestOptions) -> Result<DeleteSessionResource> {
        let path = format!("/v1/sessions/{}/resources/{}", path_segment("session_id", session_id)?, path_segment("resource_id", resource_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.resources.delete",
            "anthropic.session.id" = session_id,
            "anthropic.session.resource.id" = resource_id,
        );
        let response = self.client.execute(&OPERATIONS[60], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Get Session Resource
    ///
    /// `GET /v1/sessions/{session_id}/resources/{resource_id}`
    pub fn retrieve(&self, session_id: &str, resource_id: &str) -> Result<ResourceRetrieveResponse> {
        self.retrieve_with(session_id, resource_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, session_id: &str, resource_id: &str, options: &RequestOptions) -> Result<ResourceRetrieveResponse> {
        let path = format!("/v1/sessions/{}/resources/{}", path_segment("session_id", session_id)?, path_segment("resource_id", resource_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.resources.retrieve",
            "anthropic.session.id" = session_id,
            "anthropic.session.resource.id" = resource_id,
        );
        let response = self.client.execute(&OPERATIONS[61], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Update Session Resource
    ///
    /// `POST /v1/sessions/{session_id}/resources/{resource_id}`
    pub fn update(&self, session_id: &str, resource_id: &str, body: &ResourceUpdateParams) -> Result<ResourceUpdateResponse> {
        self.update_with(session_id, resource_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, session_id: &str, resource_id: &str, body: &ResourceUpdateParams, options: &RequestOptions) -> Result<ResourceUpdateResponse> {
        let path = format!("/v1/sessions/{}/resources/{}", path_segment("session_id", session_id)?, path_segment("resource_id", resource_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.resources.update",
            "anthropic.session.id" = session_id,
            "anthropic.session.resource.id" = resource_id,
        );
        let response = self.client.execute(&OPERATIONS[62], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

}

/// The `sessions.threads` resource: `client.sessions().threads()`.
#[derive(Debug, Clone, Copy)]
pub struct SessionsThreads<'c> {
    client: &'c Client,
}

impl<'c> SessionsThreads<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// The `sessions.threads.events` resource.
    pub fn events(&self) -> SessionsThreadsEvents<'c> {
        SessionsThreadsEvents { client: self.client }
    }

    /// List Session Threads
    ///
    /// `GET /v1/sessions/{session_id}/threads`
    pub fn list(&self, session_id: &str, params: &ThreadListParams) -> Result<Page<SessionThread>> {
        self.list_with(session_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, session_id: &str, params: &ThreadListParams, options: &RequestOptions) -> Result<Page<SessionThread>> {
        let path = format!("/v1/sessions/{}/threads", path_segment("session_id", session_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.threads.list",
            "anthropic.session.id" = session_id,
        );
        let response = self.client.execute(&OPERATIONS[63], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<SessionThread> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let session_id = session_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.sessions().threads().list_with(&session_id, &params, &options)
        }))
    }

    /// Get Session Thread
    ///
    /// `GET /v1/sessions/{session_id}/threads/{thread_id}`
    pub fn retrieve(&self, session_id: &str, thread_id: &str) -> Result<SessionThread> {
        self.retrieve_with(session_id, thread_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, session_id: &str, thread_id: &str, options: &RequestOptions) -> Result<SessionThread> {
        let path = format!("/v1/sessions/{}/threads/{}", path_segment("session_id", session_id)?, path_segment("thread_id", thread_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.threads.retrieve",
            "anthropic.session.id" = session_id,
            "anthropic.session.thread.id" = thread_id,
            "gen_ai.conversation.id" = thread_id,
        );
        let response = self.client.execute(&OPERATIONS[64], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Archive Session Thread
    ///
    /// `POST /v1/sessions/{session_id}/threads/{thread_id}/archive`
    pub fn archive(&self, session_id: &str, thread_id: &str) -> Result<SessionThread> {
        self.archive_with(session_id, thread_id, &RequestOptions::default())
    }

    /// [`Self::archive`] with per-call options (deadline, retries, extra headers and query).
    pub fn archive_with(&self, session_id: &str, thread_id: &str, options: &RequestOptions) -> Result<SessionThread> {
        let path = format!("/v1/sessions/{}/threads/{}/archive", path_segment("session_id", session_id)?, path_segment("thread_id", thread_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.threads.archive",
            "anthropic.session.id" = session_id,
            "anthropic.session.thread.id" = thread_id,
            "gen_ai.conversation.id" = thread_id,
        );
        let response = self.client.execute(&OPERATIONS[65], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `sessions.threads.events` resource: `client.sessions().threads().events()`.
#[derive(Debug, Clone, Copy)]
pub struct SessionsThreadsEvents<'c> {
    client: &'c Client,
}

impl<'c> SessionsThreadsEvents<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Session Thread Events
    ///
    /// `GET /v1/sessions/{session_id}/threads/{thread_id}/events`
    pub fn list(&self, session_id: &str, thread_id: &str, params: &ThreadsEventListParams) -> Result<Page<SessionEvent>> {
        self.list_with(session_id, thread_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, session_id: &str, thread_id: &str, params: &ThreadsEventListParams, options: &RequestOptions) -> Result<Page<SessionEvent>> {
        let path = format!("/v1/sessions/{}/threads/{}/events", path_segment("session_id", session_id)?, path_segment("thread_id", thread_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.threads.events.list",
            "anthropic.session.id" = session_id,
            "anthropic.session.thread.id" = thread_id,
            "gen_ai.conversation.id" = thread_id,
        );
        let response = self.client.execute(&OPERATIONS[66], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<SessionEvent> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let session_id = session_id.to_string();
        let thread_id = thread_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.sessions().threads().events().list_with(&session_id, &thread_id, &params, &options)
        }))
    }

    /// Stream Session Thread Events
    ///
    /// `GET /v1/sessions/{session_id}/threads/{thread_id}/stream`
    pub fn stream_response(&self, session_id: &str, thread_id: &str, params: &ThreadsEventStreamParams) -> Result<Response> {
        self.stream_response_with(session_id, thread_id, params, &RequestOptions::default())
    }

    /// [`Self::stream_response`] with per-call options (deadline, retries, extra headers and query).
    pub fn stream_response_with(&self, session_id: &str, thread_id: &str, params: &ThreadsEventStreamParams, options: &RequestOptions) -> Result<Response> {
        let path = format!("/v1/sessions/{}/threads/{}/stream", path_segment("session_id", session_id)?, path_segment("thread_id", thread_id)?);
        let span = crate::trace::call_span!(
            "anthropic.sessions.threads.events.stream",
            "anthropic.session.id" = session_id,
            "anthropic.session.thread.id" = thread_id,
            "gen_ai.conversation.id" = thread_id,
            "gen_ai.response.time_to_first_chunk" = crate::trace::LATER,
            "anthropic.stream.events" = crate::trace::LATER,
            "anthropic.stream.reconnects" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[67], span, path, params.to_query(), Body::Empty, options)?;
        Ok(response)
    }

}

/// The `skills` resource: `client.skills()`.
#[derive(Debug, Clone, Copy)]
pub struct Skills<'c> {
    client: &'c Client,
}

impl<'c> Skills<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// The `skills.versions` resource.
    pub fn versions(&self) -> SkillsVersions<'c> {
        SkillsVersions { client: self.client }
    }

    /// List Skills
    ///
    /// `GET /v1/skills`
    pub fn list(&self, params: &SkillListParams) -> Result<Page<Skill>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &SkillListParams, options: &RequestOptions) -> Result<Page<Skill>> {
        let path = "/v1/skills".to_string();
        let span = crate::trace::call_span!("anthropic.skills.list");
        let response = self.client.execute(&OPERATIONS[68], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<Skill> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.skills().list_with(&params, &options)
        }))
    }

    /// Create Skill
    ///
    /// `POST /v1/skills`
    ///
    /// The body is `multipart/form-data`; `Files::upload` builds it from a path or any reader.
    pub fn create(&self, form: impl Into<Multipart>) -> Result<Skill> {
        self.create_with(form, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, form: impl Into<Multipart>, options: &RequestOptions) -> Result<Skill> {
        let path = "/v1/skills".to_string();
        let span = crate::trace::call_span!(
            "anthropic.skills.create",
            "anthropic.skill.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[69], span, path, Vec::new(), Body::Multipart(form.into()), options)?;
        response.json()
    }

    /// Delete Skill
    ///
    /// `DELETE /v1/skills/{skill_id}`
    pub fn delete(&self, skill_id: &str) -> Result<DeletedSkill> {
        self.delete_with(skill_id, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, skill_id: &str, options: &RequestOptions) -> Result<DeletedSkill> {
        let path = format!("/v1/skills/{}", path_segment("skill_id", skill_id)?);
        let span = crate::trace::call_span!(
            "anthropic.skills.delete",
            "anthropic.skill.id" = skill_id,
        );
        let response = self.client.execute(&OPERATIONS[70], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Get Skill
    ///
    /// `GET /v1/skills/{skill_id}`
    pub fn retrieve(&self, skill_id: &str) -> Result<Skill> {
        self.retrieve_with(skill_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, skill_id: &str, options: &RequestOptions) -> Result<Skill> {
        let path = format!("/v1/skills/{}", path_segment("skill_id", skill_id)?);
        let span = crate::trace::call_span!(
            "anthropic.skills.retrieve",
            "anthropic.skill.id" = skill_id,
        );
        let response = self.client.execute(&OPERATIONS[71], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `skills.versions` resource: `client.skills().versions()`.
#[derive(Debug, Clone, Copy)]
pub struct SkillsVersions<'c> {
    client: &'c Client,
}

impl<'c> SkillsVersions<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Skill Versions
    ///
    /// `GET /v1/skills/{skill_id}/versions`
    pub fn list(&self, skill_id: &str, params: &SkillsVersionListParams) -> Result<Page<SkillVersion>> {
        self.list_with(skill_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, skill_id: &str, params: &SkillsVersionListParams, options: &RequestOptions) -> Result<Page<SkillVersion>> {
        let path = format!("/v1/skills/{}/versions", path_segment("skill_id", skill_id)?);
        let span = crate::trace::call_span!(
            "anthropic.skills.versions.list",
            "anthropic.skill.id" = skill_id,
        );
        let response = self.client.execute(&OPERATIONS[72], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<SkillVersion> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let skill_id = skill_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.skills().versions().list_with(&skill_id, &params, &options)
        }))
    }

    /// Create Skill Version
    ///
    /// `POST /v1/skills/{skill_id}/versions`
    ///
    /// The body is `multipart/form-data`; `Files::upload` builds it from a path or any reader.
    pub fn create(&self, skill_id: &str, form: impl Into<Multipart>) -> Result<SkillVersion> {
        self.create_with(skill_id, form, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, skill_id: &str, form: impl Into<Multipart>, options: &RequestOptions) -> Result<SkillVersion> {
        let path = format!("/v1/skills/{}/versions", path_segment("skill_id", skill_id)?);
        let span = crate::trace::call_span!(
            "anthropic.skills.versions.create",
            "anthropic.skill.id" = skill_id,
            "anthropic.skill.version.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[73], span, path, Vec::new(), Body::Multipart(form.into()), options)?;
        response.json()
    }

    /// Delete Skill Version
    ///
    /// `DELETE /v1/skills/{skill_id}/versions/{version}`
    pub fn delete(&self, skill_id: &str, version: &str) -> Result<DeletedSkillVersion> {
        self.delete_with(skill_id, version, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, skill_id: &str, version: &str, options: &RequestOptions) -> Result<DeletedSkillVersion> {
        let path = format!("/v1/skills/{}/versions/{}", path_segment("skill_id", skill_id)?, path_segment("version", version)?);
        let span = crate::trace::call_span!(
            "anthropic.skills.versions.delete",
            "anthropic.skill.id" = skill_id,
            "anthropic.skill.version.id" = version,
        );
        let response = self.client.execute(&OPERATIONS[74], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Get Skill Version
    ///
    /// `GET /v1/skills/{skill_id}/versions/{version}`
    pub fn retrieve(&self, skill_id: &str, version: &str) -> Result<SkillVersion> {
        self.retrieve_with(skill_id, version, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, skill_id: &str, version: &str, options: &RequestOptions) -> Result<SkillVersion> {
        let path = format!("/v1/skills/{}/versions/{}", path_segment("skill_id", skill_id)?, path_segment("version", version)?);
        let span = crate::trace::call_span!(
            "anthropic.skills.versions.retrieve",
            "anthropic.skill.id" = skill_id,
            "anthropic.skill.version.id" = version,
        );
        let response = self.client.execute(&OPERATIONS[75], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Download a skill version's content as a zip archive.
    ///
    /// `GET /v1/skills/{skill_id}/versions/{version}/content`
    pub fn download(&self, skill_id: &str, version: &str) -> Result<Response> {
        self.download_with(skill_id, version, &RequestOptions::default())
    }

    /// [`Self::download`] with per-call options (deadline, retries, extra headers and query).
    pub fn download_with(&self, skill_id: &str, version: &str, options: &RequestOptions) -> Result<Response> {
        let path = format!("/v1/skills/{}/versions/{}/content", path_segment("skill_id", skill_id)?, path_segment("version", version)?);
        let span = crate::trace::call_span!(
            "anthropic.skills.versions.download",
            "anthropic.skill.id" = skill_id,
            "anthropic.skill.version.id" = version,
        );
        let response = self.client.execute(&OPERATIONS[76], span, path, Vec::new(), Body::Empty, options)?;
        Ok(response)
    }

}

/// The `vaults` resource: `client.vaults()`.
#[derive(Debug, Clone, Copy)]
pub struct Vaults<'c> {
    client: &'c Client,
}

impl<'c> Vaults<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// The `vaults.credentials` resource.
    pub fn credentials(&self) -> VaultsCredentials<'c> {
        VaultsCredentials { client: self.client }
    }

    /// List Vaults
    ///
    /// `GET /v1/vaults`
    pub fn list(&self, params: &VaultListParams) -> Result<Page<Vault>> {
        self.list_with(params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, params: &VaultListParams, options: &RequestOptions) -> Result<Page<Vault>> {
        let path = "/v1/vaults".to_string();
        let span = crate::trace::call_span!("anthropic.vaults.list");
        let response = self.client.execute(&OPERATIONS[77], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<Vault> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.vaults().list_with(&params, &options)
        }))
    }

    /// Create a Vault
    ///
    /// `POST /v1/vaults`
    pub fn create(&self, body: &VaultCreateParams) -> Result<Vault> {
        self.create_with(body, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, body: &VaultCreateParams, options: &RequestOptions) -> Result<Vault> {
        let path = "/v1/vaults".to_string();
        let span = crate::trace::call_span!(
            "anthropic.vaults.create",
            "anthropic.vault.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[78], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Delete a Vault
    ///
    /// `DELETE /v1/vaults/{vault_id}`
    pub fn delete(&self, vault_id: &str) -> Result<DeletedVault> {
        self.delete_with(vault_id, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, vault_id: &str, options: &RequestOptions) -> Result<DeletedVault> {
        let path = format!("/v1/vaults/{}", path_segment("vault_id", vault_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.delete",
            "anthropic.vault.id" = vault_id,
        );
        let response = self.client.execute(&OPERATIONS[79], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Retrieve a Vault
    ///
    /// `GET /v1/vaults/{vault_id}`
    pub fn retrieve(&self, vault_id: &str) -> Result<Vault> {
        self.retrieve_with(vault_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, vault_id: &str, options: &RequestOptions) -> Result<Vault> {
        let path = format!("/v1/vaults/{}", path_segment("vault_id", vault_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.retrieve",
            "anthropic.vault.id" = vault_id,
        );
        let response = self.client.execute(&OPERATIONS[80], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Update a Vault
    ///
    /// `POST /v1/vaults/{vault_id}`
    pub fn update(&self, vault_id: &str, body: &VaultUpdateParams) -> Result<Vault> {
        self.update_with(vault_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, vault_id: &str, body: &VaultUpdateParams, options: &RequestOptions) -> Result<Vault> {
        let path = format!("/v1/vaults/{}", path_segment("vault_id", vault_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.update",
            "anthropic.vault.id" = vault_id,
        );
        let response = self.client.execute(&OPERATIONS[81], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Archive a Vault
    ///
    /// `POST /v1/vaults/{vault_id}/archive`
    pub fn archive(&self, vault_id: &str) -> Result<Vault> {
        self.archive_with(vault_id, &RequestOptions::default())
    }

    /// [`Self::archive`] with per-call options (deadline, retries, extra headers and query).
    pub fn archive_with(&self, vault_id: &str, options: &RequestOptions) -> Result<Vault> {
        let path = format!("/v1/vaults/{}/archive", path_segment("vault_id", vault_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.archive",
            "anthropic.vault.id" = vault_id,
        );
        let response = self.client.execute(&OPERATIONS[82], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

/// The `vaults.credentials` resource: `client.vaults().credentials()`.
#[derive(Debug, Clone, Copy)]
pub struct VaultsCredentials<'c> {
    client: &'c Client,
}

impl<'c> VaultsCredentials<'c> {
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// List Credentials
    ///
    /// `GET /v1/vaults/{vault_id}/credentials`
    pub fn list(&self, vault_id: &str, params: &CredentialListParams) -> Result<Page<Credential>> {
        self.list_with(vault_id, params, &RequestOptions::default())
    }

    /// [`Self::list`] with per-call options (deadline, retries, extra headers and query).
    pub fn list_with(&self, vault_id: &str, params: &CredentialListParams, options: &RequestOptions) -> Result<Page<Credential>> {
        let path = format!("/v1/vaults/{}/credentials", path_segment("vault_id", vault_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.credentials.list",
            "anthropic.vault.id" = vault_id,
        );
        let response = self.client.execute(&OPERATIONS[83], span, path, params.to_query(), Body::Empty, options)?;
        let page: Page<Credential> = response.json()?;
        let client = self.client.clone();
        let params = params.clone();
        let options = options.clone();
        let vault_id = vault_id.to_string();
        Ok(page.with_next(move |cursor| {
            let mut params = params.clone();
            params.page = Some(cursor.to_string());
            client.vaults().credentials().list_with(&vault_id, &params, &options)
        }))
    }

    /// Create a Credential
    ///
    /// `POST /v1/vaults/{vault_id}/credentials`
    pub fn create(&self, vault_id: &str, body: &CredentialCreateParams) -> Result<Credential> {
        self.create_with(vault_id, body, &RequestOptions::default())
    }

    /// [`Self::create`] with per-call options (deadline, retries, extra headers and query).
    pub fn create_with(&self, vault_id: &str, body: &CredentialCreateParams, options: &RequestOptions) -> Result<Credential> {
        let path = format!("/v1/vaults/{}/credentials", path_segment("vault_id", vault_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.credentials.create",
            "anthropic.vault.id" = vault_id,
            "anthropic.vault.credential.id" = crate::trace::LATER,
        );
        let response = self.client.execute(&OPERATIONS[84], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Delete a Credential
    ///
    /// `DELETE /v1/vaults/{vault_id}/credentials/{credential_id}`
    pub fn delete(&self, vault_id: &str, credential_id: &str) -> Result<DeletedCredential> {
        self.delete_with(vault_id, credential_id, &RequestOptions::default())
    }

    /// [`Self::delete`] with per-call options (deadline, retries, extra headers and query).
    pub fn delete_with(&self, vault_id: &str, credential_id: &str, options: &RequestOptions) -> Result<DeletedCredential> {
        let path = format!("/v1/vaults/{}/credentials/{}", path_segment("vault_id", vault_id)?, path_segment("credential_id", credential_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.credentials.delete",
            "anthropic.vault.id" = vault_id,
            "anthropic.vault.credential.id" = credential_id,
        );
        let response = self.client.execute(&OPERATIONS[85], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Retrieve a Credential
    ///
    /// `GET /v1/vaults/{vault_id}/credentials/{credential_id}`
    pub fn retrieve(&self, vault_id: &str, credential_id: &str) -> Result<Credential> {
        self.retrieve_with(vault_id, credential_id, &RequestOptions::default())
    }

    /// [`Self::retrieve`] with per-call options (deadline, retries, extra headers and query).
    pub fn retrieve_with(&self, vault_id: &str, credential_id: &str, options: &RequestOptions) -> Result<Credential> {
        let path = format!("/v1/vaults/{}/credentials/{}", path_segment("vault_id", vault_id)?, path_segment("credential_id", credential_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.credentials.retrieve",
            "anthropic.vault.id" = vault_id,
            "anthropic.vault.credential.id" = credential_id,
        );
        let response = self.client.execute(&OPERATIONS[86], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Update a Credential
    ///
    /// `POST /v1/vaults/{vault_id}/credentials/{credential_id}`
    pub fn update(&self, vault_id: &str, credential_id: &str, body: &CredentialUpdateParams) -> Result<Credential> {
        self.update_with(vault_id, credential_id, body, &RequestOptions::default())
    }

    /// [`Self::update`] with per-call options (deadline, retries, extra headers and query).
    pub fn update_with(&self, vault_id: &str, credential_id: &str, body: &CredentialUpdateParams, options: &RequestOptions) -> Result<Credential> {
        let path = format!("/v1/vaults/{}/credentials/{}", path_segment("vault_id", vault_id)?, path_segment("credential_id", credential_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.credentials.update",
            "anthropic.vault.id" = vault_id,
            "anthropic.vault.credential.id" = credential_id,
        );
        let response = self.client.execute(&OPERATIONS[87], span, path, Vec::new(), Body::json(body)?, options)?;
        response.json()
    }

    /// Archive a Credential
    ///
    /// `POST /v1/vaults/{vault_id}/credentials/{credential_id}/archive`
    pub fn archive(&self, vault_id: &str, credential_id: &str) -> Result<Credential> {
        self.archive_with(vault_id, credential_id, &RequestOptions::default())
    }

    /// [`Self::archive`] with per-call options (deadline, retries, extra headers and query).
    pub fn archive_with(&self, vault_id: &str, credential_id: &str, options: &RequestOptions) -> Result<Credential> {
        let path = format!("/v1/vaults/{}/credentials/{}/archive", path_segment("vault_id", vault_id)?, path_segment("credential_id", credential_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.credentials.archive",
            "anthropic.vault.id" = vault_id,
            "anthropic.vault.credential.id" = credential_id,
        );
        let response = self.client.execute(&OPERATIONS[88], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

    /// Validate an MCP OAuth Credential
    ///
    /// `POST /v1/vaults/{vault_id}/credentials/{credential_id}/mcp_oauth_validate`
    pub fn mcp_oauth_validate(&self, vault_id: &str, credential_id: &str) -> Result<CredentialValidation> {
        self.mcp_oauth_validate_with(vault_id, credential_id, &RequestOptions::default())
    }

    /// [`Self::mcp_oauth_validate`] with per-call options (deadline, retries, extra headers and query).
    pub fn mcp_oauth_validate_with(&self, vault_id: &str, credential_id: &str, options: &RequestOptions) -> Result<CredentialValidation> {
        let path = format!("/v1/vaults/{}/credentials/{}/mcp_oauth_validate", path_segment("vault_id", vault_id)?, path_segment("credential_id", credential_id)?);
        let span = crate::trace::call_span!(
            "anthropic.vaults.credentials.mcp_oauth_validate",
            "anthropic.vault.id" = vault_id,
            "anthropic.vault.credential.id" = credential_id,
        );
        let response = self.client.execute(&OPERATIONS[89], span, path, Vec::new(), Body::Empty, options)?;
        response.json()
    }

}

impl Client {
    /// The `agents` resource.
    pub fn agents(&self) -> Agents<'_> {
        Agents { client: self }
    }

    /// The `deployment_runs` resource.
    pub fn deployment_runs(&self) -> DeploymentRuns<'_> {
        DeploymentRuns { client: self }
    }

    /// The `deployments` resource.
    pub fn deployments(&self) -> Deployments<'_> {
        Deployments { client: self }
    }

    /// The `environments` resource.
    pub fn environments(&self) -> Environments<'_> {
        Environments { client: self }
    }

    /// The `files` resource.
    pub fn files(&self) -> Files<'_> {
        Files { client: self }
    }

    /// The `memory_stores` resource.
    pub fn memory_stores(&self) -> MemoryStores<'_> {
        MemoryStores { client: self }
    }

    /// The `sessions` resource.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { client: self }
    }

    /// The `skills` resource.
    pub fn skills(&self) -> Skills<'_> {
        Skills { client: self }
    }

    /// The `vaults` resource.
    pub fn vaults(&self) -> Vaults<'_> {
        Vaults { client: self }
    }

}

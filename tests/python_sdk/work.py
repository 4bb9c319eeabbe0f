"""The official SDK's self-hosted environment helpers against the emulator's work queue.

Run by tests/python_sdk/run.sh with an emulator whose script calls the built-in `write` tool,
then `read`, then says "done". The SDK's work poller (`work.poller`, async only) claims an
item, heartbeats it with compare-and-set (a stale value is answered 412 with the server's
state) and stops it; then its `EnvironmentWorker.handle_item` runs a session end to end: the
agent's `write` and `read` calls are run by the SDK's toolset in a local work directory.
"""
import asyncio
import contextlib
import os
import sys
import tempfile

import anthropic

ENV_KEY = "env-key-for-the-sdk"
checks = []


def check(name, ok):
    checks.append((name, bool(ok)))
    print(("ok   " if ok else "FAIL ") + name, flush=True)


async def claim_heartbeat_stop(client, env, agent):
    work = client.beta.environments.work
    session = await client.beta.sessions.create(agent={"type": "agent", "id": agent.id, "version": agent.version},
        environment_id=env.id,
    )
    claimed = None
    # closing the generator when the loop ends runs its stop (a bare `break` leaves that to
    # the garbage collector)
    poller = work.poller(environment_id=env.id, environment_key=ENV_KEY)
    async with contextlib.aclosing(poller):
        async for item in poller:
            claimed = item
            check("the poller claims the session's item", item.data.id == session.id)
            check("the item carries a secret", bool(item.secret))
            acked = await work.retrieve(item.id, environment_id=env.id)
            check("the poller acknowledged it", acked.state == "active" and acked.acknowledged_at)
            beat = await work.heartbeat(
                item.id, environment_id=env.id, expected_last_heartbeat="NO_HEARTBEAT"
            )
            check(
                "a heartbeat extends the lease",
                beat.lease_extended and beat.state == "active" and beat.ttl_seconds > 0,
            )
            try:
                await work.heartbeat(
                    item.id, environment_id=env.id, expected_last_heartbeat="NO_HEARTBEAT"
                )
                check("a stale heartbeat is answered 412", False)
            except anthropic.APIStatusError as e:
                state = e.body.get("error", {}).get("details", {}).get("current_state", {})
                check(
                    "a stale heartbeat is answered 412 with the server's state",
                    e.status_code == 412 and state.get("state") == "active",
                )
            break  # the poller stops the item when the loop body ends
    stats = await work.stats(env.id)
    check("the stats count the poller among the workers polling", stats.workers_polling == 1)
    done = await work.retrieve(claimed.id, environment_id=env.id)
    check("the poller stopped the item gracefully", done.state in ("stopping", "stopped"))
    await asyncio.sleep(2.5)  # the emulator's grace for a graceful stop is 2 s
    done = await work.retrieve(claimed.id, environment_id=env.id)
    check("the graceful stop ended", done.state == "stopped" and done.stopped_at)


async def worker_runs_a_session(client, env, agent):
    work = client.beta.environments.work
    session = await client.beta.sessions.create(agent={"type": "agent", "id": agent.id, "version": agent.version},
        environment_id=env.id,
    )
    await client.beta.sessions.events.send(
        session.id,
        events=[{"type": "user.message", "content": [{"type": "text", "text": "go"}]}],
    )
    item = None
    async for it in work.poller(
        environment_id=env.id, environment_key=ENV_KEY, drain=True, auto_stop=False
    ):
        item = it
        break
    check("a drain poll claims the item", item is not None and item.data.id == session.id)
    with tempfile.TemporaryDirectory() as workdir:
        worker = work.worker(environment_id=env.id, environment_key=ENV_KEY, workdir=workdir)
        await asyncio.wait_for(
            worker.handle_item(
                work_id=item.id,
                environment_id=env.id,
                session_id=session.id,
                work_secret=item.secret,
            ),
            timeout=120,
        )
        path = os.path.join(workdir, "notes.txt")
        written = open(path).read() if os.path.exists(path) else None
        check("the agent's write ran in the work directory", written == "hello from the agent\n")
    events = [e async for e in client.beta.sessions.events.list(session.id, limit=1000)]
    results = [e for e in events if e.type == "user.tool_result"]
    check("both tool calls were answered once", len(results) == 2)
    check(
        "the read returned what was written",
        len(results) == 2 and "hello from the agent" in str(results[1].content),
    )
    check("the session ended its turn", events[-1].type == "session.status_idle")
    done = await work.retrieve(item.id, environment_id=env.id)
    check("the worker stopped the item", done.state == "stopped")


async def main():
    client = anthropic.AsyncAnthropic()
    env = await client.beta.environments.create(name="local", config={"type": "self_hosted"})
    agent = await client.beta.agents.create(
        name="Local",
        model="claude-opus-4-5",
        tools=[{"type": "agent_toolset_20260401", "default_config": {"enabled": True}}],
    )
    await claim_heartbeat_stop(client, env, agent)
    await worker_runs_a_session(client, env, agent)


asyncio.run(main())
failed = [n for n, ok in checks if not ok]
print(f"{len(checks) - len(failed)}/{len(checks)} checks passed")
sys.exit(1 if failed else 0)

"""The batch of benches/batch.sh with the official Python SDK's async client: one session per
task line, at most N at a time (asyncio), each stream-first then the message, read until the
session is idle, the session read back for its usage, one JSON line per task.

Usage: python batch.py TASKS.jsonl OUT.jsonl PARALLEL AGENT_ID ENVIRONMENT_ID
(ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment)
"""
import asyncio
import json
import sys

import anthropic


async def one(client, sem, task, agent, environment, out):
    async with sem:
        result = {"id": task["id"], "session_id": None, "stop_reason": None, "text": "", "usage": None, "error": None}
        try:
            session = await client.beta.sessions.create(
                agent=agent, environment_id=environment, title=task["id"]
            )
            result["session_id"] = session.id
            texts = []
            stream = await client.beta.sessions.events.stream(session_id=session.id)
            async with stream:
                await client.beta.sessions.events.send(
                    session_id=session.id,
                    events=[{"type": "user.message", "content": [{"type": "text", "text": task["message"]}]}],
                )
                async for event in stream:
                    if event.type == "agent.message":
                        texts.extend(b.text for b in event.content if b.type == "text")
                    elif event.type == "session.status_idle":
                        result["stop_reason"] = event.stop_reason.type if event.stop_reason else None
                        break
                    elif event.type == "session.status_terminated":
                        result["stop_reason"] = "terminated"
                        break
            result["text"] = "\n".join(texts)
            done = await client.beta.sessions.retrieve(session.id)
            result["usage"] = done.usage.model_dump() if done.usage else None
        except anthropic.APIError as e:
            result["error"] = str(e)
        out.write(json.dumps(result) + "\n")


async def main():
    tasks_path, out_path, parallel, agent, environment = sys.argv[1:6]
    tasks = [json.loads(line) for line in open(tasks_path) if line.strip()]
    sem = asyncio.Semaphore(int(parallel))
    async with anthropic.AsyncAnthropic() as client:
        with open(out_path, "w") as out:
            await asyncio.gather(*(one(client, sem, t, agent, environment, out) for t in tasks))


asyncio.run(main())

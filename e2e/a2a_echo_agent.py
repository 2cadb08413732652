"""An A2A agent for the gateway's tests, built with the official `a2a-sdk` server parts: it
answers every message with `echo: <text>` as a task whose artifact streams word by word
(`slow` in the text: 0.3 s between words; `sleep` in the text: 5 s before answering).

It wants its own key (`--key`, as `Authorization: Bearer`) and records the headers of every
call it receives; `GET /_seen` lists them, so a test can check what the gateway forwarded.
"""
import argparse
import asyncio

import uvicorn
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.apps import A2AStarletteApplication
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentSkill, Part, TextPart
from a2a.utils import new_task
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

SEEN: list[dict] = []


class Echo(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = context.get_user_input()
        if "sleep" in text:
            await asyncio.sleep(5)
        task = context.current_task or new_task(context.message)
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        words = f"echo: {text}".split(" ")
        for i, w in enumerate(words):
            await updater.add_artifact(
                [Part(root=TextPart(text=w if i == 0 else " " + w))],
                artifact_id="echo",
                name="echo",
                append=i > 0,
                last_chunk=i == len(words) - 1,
            )
            if "slow" in text:
                await asyncio.sleep(0.3)
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        await updater.cancel()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()
    url = f"http://127.0.0.1:{args.port}/"
    card = AgentCard(
        name="Echo Agent",
        description="Echoes what it is sent",
        url=url,
        version="1.0.0",
        default_input_modes=["text"],
        default_output_modes=["text"],
        capabilities=AgentCapabilities(streaming=True),
        skills=[AgentSkill(id="echo", name="Echo", description="echoes", tags=["echo"])],
    )
    handler = DefaultRequestHandler(agent_executor=Echo(), task_store=InMemoryTaskStore())
    app = A2AStarletteApplication(agent_card=card, http_handler=handler).build()

    async def seen(_request):
        return JSONResponse(SEEN)

    app.router.routes.insert(0, Route("/_seen", seen))

    class OwnKey(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            if request.method == "POST":
                SEEN.append({k.lower(): v for k, v in request.headers.items()})
                if request.headers.get("authorization") != f"Bearer {args.key}":
                    return JSONResponse({"error": "wrong agent key"}, status_code=401)
            return await call_next(request)

    app.add_middleware(OwnKey)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

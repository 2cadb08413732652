"""An agent that speaks only A2A 1.0's JSON-RPC binding (method names `SendMessage`,
`SendStreamingMessage`, `GetTask`, `CancelTask`; ProtoJSON shapes: oneof-wrapped answers,
`TASK_STATE_*` / `ROLE_*` enums, parts without `kind`), written from the 1.0 specification
because the installed `a2a-sdk` (0.3) has no 1.0 server. It refuses 0.3 names and shapes, so
a test sees whether the gateway mapped a 0.3 client's call. `GET /_seen` lists the calls'
methods and `A2A-Version` headers.
"""
import argparse
import json
from uuid import uuid4

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

SEEN: list[dict] = []
TASKS: dict[str, dict] = {}


def card(port: int) -> dict:
    url = f"http://127.0.0.1:{port}/"
    return {"protocolVersion": "1.0", "name": "V1 Agent", "description": "echoes, in A2A 1.0",
            "supportedInterfaces": [{"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
            "version": "1.0.0", "capabilities": {"streaming": True},
            "defaultInputModes": ["text"], "defaultOutputModes": ["text"], "skills": []}


def error(id_, code, message):
    return JSONResponse({"jsonrpc": "2.0", "id": id_, "error": {"code": code, "message": message}})


async def rpc(request):
    body = await request.json()
    SEEN.append({"method": body.get("method"), "a2a-version": request.headers.get("a2a-version")})
    id_, method, params = body.get("id"), body.get("method"), body.get("params") or {}
    if method in ("SendMessage", "SendStreamingMessage"):
        msg = params.get("message") or {}
        if msg.get("role") != "ROLE_USER" or "kind" in msg or any("kind" in p for p in msg.get("parts", [])):
            return error(id_, -32602, f"not an A2A 1.0 message: {msg}")
        text = "".join(p.get("text", "") for p in msg["parts"])
        task_id, ctx = uuid4().hex, uuid4().hex
        artifact = {"artifactId": "echo", "parts": [{"text": f"v1 echo: {text}"}]}
        done = {"state": "TASK_STATE_COMPLETED",
                "message": {"messageId": uuid4().hex, "role": "ROLE_AGENT", "parts": [{"text": "done"}]}}
        task = {"id": task_id, "contextId": ctx, "status": done, "artifacts": [artifact], "history": [msg]}
        TASKS[task_id] = task
        if method == "SendMessage":
            return JSONResponse({"jsonrpc": "2.0", "id": id_, "result": {"task": task}})

        async def events():
            working = {**task, "status": {"state": "TASK_STATE_WORKING"}, "artifacts": []}
            for result in ({"task": working},
                           {"artifactUpdate": {"taskId": task_id, "contextId": ctx, "artifact": artifact,
                                               "lastChunk": True}},
                           {"statusUpdate": {"taskId": task_id, "contextId": ctx, "status": done}}):
                yield f"data: {json.dumps({'jsonrpc': '2.0', 'id': id_, 'result': result})}\n\n"
        return StreamingResponse(events(), media_type="text/event-stream")
    if method == "GetTask":
        task = TASKS.get(params.get("id"))
        if task is None:
            return error(id_, -32001, "Task not found")
        return JSONResponse({"jsonrpc": "2.0", "id": id_, "result": task})
    if method == "CancelTask":
        return error(id_, -32002, "Task cannot be canceled")
    return error(id_, -32601, f"Method not found: {method}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()

    async def seen(_request):
        return JSONResponse(SEEN)

    async def agent_card(_request):
        return JSONResponse(card(args.port))

    app = Starlette(routes=[Route("/", rpc, methods=["POST"]), Route("/_seen", seen),
                            Route("/.well-known/agent-card.json", agent_card)])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

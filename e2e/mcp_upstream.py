"""An MCP server for the gateway's end-to-end tests, built with the official `mcp` SDK's
MCPServer (FastMCP in mcp 1.x): `python mcp_upstream.py NAME http PORT`, `... sse PORT` or
`... stdio`. Its tools answer from their arguments and from the request, so a test can tell
which server, transport and headers a call reached."""
import os
import sys
import time

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings

name, transport = sys.argv[1], sys.argv[2]
server = MCPServer(name)


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="Echo the text back, prefixed with the server's name.")
def echo(text: str) -> str:
    return f"{name}: {text}"


@server.tool(description="Return a request header the server received (HTTP transports).")
def header(header_name: str, ctx: Context) -> str:
    return (ctx.headers or {}).get(header_name.lower(), "<absent>")


@server.tool(description="Return an environment variable of the server process (stdio: the config's `env`).")
def env(var: str) -> str:
    return os.environ.get(var, "<absent>")


@server.tool(description="Fail: the tool raises, so its result is an error.")
def fail(why: str) -> str:
    raise ValueError(f"failed: {why}")


@server.tool(description="Sleep, then answer.")
def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


@server.tool(description="The process id of the server (stdio: a respawned child has another).")
def pid() -> int:
    return os.getpid()


@server.tool(description="Exit the server process at once.")
def crash() -> str:
    os._exit(3)


@server.prompt(description="A greeting prompt.")
def greet(who: str) -> str:
    return f"Say hello to {who}, from {name}."


@server.resource(f"note://{name}/readme", description="The server's readme.", mime_type="text/plain")
def readme() -> str:
    return f"readme of {name}"


open_security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
if transport == "stdio":
    server.run("stdio")
elif transport == "sse":
    server.run("sse", host="127.0.0.1", port=int(sys.argv[3]), transport_security=open_security)
else:
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[3]), transport_security=open_security)

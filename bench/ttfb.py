"""Time to first byte of streamed chat completions: N requests at concurrency C over raw
HTTP/1.1 (standard library only), from sending the request to the first `data:` line."""
import asyncio
import statistics
import sys
import time


async def one(host, port, path, key, body, out):
    reader, writer = await asyncio.open_connection(host, port)
    req = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    t0 = time.perf_counter()
    writer.write(req)
    await writer.drain()
    while True:
        line = await reader.readline()
        if not line:
            raise RuntimeError("stream ended before any data")
        if line.startswith(b"data:"):
            out.append((time.perf_counter() - t0) * 1000)
            break
    while await reader.read(65536):
        pass
    writer.close()


async def main(host, port, path, key, n, c):
    body = b'{"model":"bench","stream":true,"messages":[{"role":"user","content":"Hello"}]}'
    times, sem = [], asyncio.Semaphore(c)

    async def guarded():
        async with sem:
            await one(host, port, path, key, body, times)

    await asyncio.gather(*(guarded() for _ in range(n)))
    times.sort()
    p50 = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"RESULT p50={p50:.3f} p99={p99:.3f} n={len(times)}")


if __name__ == "__main__":
    host, port, path, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    asyncio.run(main(host, port, path, key, int(sys.argv[5]), int(sys.argv[6])))

"""A thousand concurrent acompletion calls on one event loop, no thread per call; blocking
calls release the GIL while they wait."""
import asyncio
import threading
import time

import llmgate

HELLO = [{"role": "user", "content": "Hello"}]


def os_threads() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def test_thousand_acompletions_on_one_loop(mock):
    kw = {"api_base": f"{mock.base}/v1", "api_key": "sk"}

    async def go():
        # Each answer takes 300 ms upstream: run one after another that would be 300 s.
        calls = [llmgate.acompletion(model="openai/mock-slow-300", messages=HELLO, **kw)
                 for _ in range(1000)]
        return await asyncio.gather(*calls)

    before = os_threads()
    t = time.perf_counter()
    answers = asyncio.run(go())
    elapsed = time.perf_counter() - t
    assert len(answers) == 1000
    assert all(a.choices[0].message.content == "Hello from mock" for a in answers)
    assert elapsed < 30, elapsed
    # The runtime's worker threads only, not one per call.
    assert os_threads() - before < 50


def test_blocking_calls_release_the_gil(mock):
    kw = {"api_base": f"{mock.base}/v1", "api_key": "sk"}
    llmgate.completion(model="openai/gpt-4o", messages=HELLO, **kw)  # warm the pool
    results = []

    def call():
        results.append(llmgate.completion(model="openai/mock-slow-500", messages=HELLO, **kw))

    threads = [threading.Thread(target=call) for _ in range(4)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    # The main thread runs Python meanwhile.
    spins = 0
    while any(th.is_alive() for th in threads):
        spins += 1
    elapsed = time.perf_counter() - t
    assert len(results) == 4
    assert elapsed < 1.5, elapsed  # four 500 ms calls at once, not one after another
    assert spins > 1000

"""One pass of the official Python SDK over an event log, for counting instructions with
callgrind (benches/instructions.sh): `sse` decodes it with the SDK's SSEDecoder, `typed` also
reads each event as the SDK's Stream does, `none` only cuts it into the same chunks (the
baseline, subtracted from the others).
"""
import sys

from anthropic._models import construct_type
from anthropic._streaming import SSEDecoder
from anthropic.types.beta.sessions import BetaManagedAgentsStreamSessionEvents
import json

what, path = sys.argv[1], sys.argv[2]
log = open(path, "rb").read()


def chunks(data, size=64 * 1024):
    for i in range(0, len(data), size):
        yield data[i : i + size]


n = 0
if what == "sse":
    for _ in SSEDecoder().iter_bytes(chunks(log)):
        n += 1
elif what == "typed":
    for sse in SSEDecoder().iter_bytes(chunks(log)):
        if sse.event is None or sse.event == "ping" or not sse.data:
            continue
        construct_type(type_=BetaManagedAgentsStreamSessionEvents, value=json.loads(sse.data))
        n += 1
else:
    for c in chunks(log):
        n += len(c)
print(n)

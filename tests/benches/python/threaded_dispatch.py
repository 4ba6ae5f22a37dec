"""The like-for-like baseline of the dispatch bench: Microsoft's Python
client (azure-devops 7.1.0b4) creating one Bug per ticket from a pool of
THREADS threads, the concurrency of `ticketing-host dispatch --jobs 16`,
with the fields the connector's example mapping sets. Each thread has its
own connection and client: requests' session (and its pool of 10
connections) is not meant to be shared by 16 threads.

Usage: threaded_dispatch.py ORG_URL PAT PROJECT COUNT THREADS
Prints "created N" and the wall time of the creates in seconds on the last
line. The caller measures the process's CPU time (user + sys) itself.
"""

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from azure.devops.connection import Connection
from azure.devops.v7_1.work_item_tracking.models import JsonPatchOperation
from msrest.authentication import BasicAuthentication

ORG_URL, PAT, PROJECT = sys.argv[1], sys.argv[2], sys.argv[3]
COUNT, THREADS = int(sys.argv[4]), int(sys.argv[5])

local = threading.local()


def client():
    if not hasattr(local, "wit"):
        connection = Connection(base_url=ORG_URL, creds=BasicAuthentication("", PAT))
        local.wit = connection.clients_v7_1.get_work_item_tracking_client()
    return local.wit


def op(path, value):
    return JsonPatchOperation(op="add", path=path, value=value)


def create(i):
    doc = [
        op("/fields/System.Title", f"Critical OpenSSL vulnerability {i}"),
        op("/fields/Microsoft.VSTS.TCM.ReproSteps", f"<p>SecOps ticket BENCH-{i}</p>"),
        op("/fields/Microsoft.VSTS.Common.Priority", 1),
        op("/fields/Microsoft.VSTS.Common.Severity", "1 - Critical"),
        op("/fields/System.Tags", f"secops; secops:BENCH-{i}"),
    ]
    item = client().create_work_item(document=doc, project=PROJECT, type="Bug")
    assert item.id
    return item.id


start = time.monotonic()
with ThreadPoolExecutor(max_workers=THREADS) as pool:
    ids = list(pool.map(create, range(COUNT)))
elapsed = time.monotonic() - start
assert len(set(ids)) == COUNT
print(f"created {len(ids)}")
print(f"{elapsed:.3f}")

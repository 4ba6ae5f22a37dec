"""The baseline of the dispatch bench: what a team would write instead of the
connector. Microsoft's Python client (azure-devops 7.1.0b4) creates one Bug
per ticket, sequentially, as its samples do, with the same fields the
connector's example mapping sets (title, repro steps, priority, severity,
tags).

Usage: baseline_dispatch.py ORG_URL PAT PROJECT COUNT
Prints "created N" and the wall time in seconds on the last line.
"""

import sys
import time

from azure.devops.connection import Connection
from azure.devops.v7_1.work_item_tracking.models import JsonPatchOperation
from msrest.authentication import BasicAuthentication

ORG_URL, PAT, PROJECT, COUNT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def op(path, value):
    return JsonPatchOperation(op="add", path=path, value=value)


connection = Connection(base_url=ORG_URL, creds=BasicAuthentication("", PAT))
wit = connection.clients_v7_1.get_work_item_tracking_client()

start = time.monotonic()
created = 0
for i in range(COUNT):
    doc = [
        op("/fields/System.Title", f"Critical OpenSSL vulnerability {i}"),
        op("/fields/Microsoft.VSTS.TCM.ReproSteps", f"<p>SecOps ticket BENCH-{i}</p>"),
        op("/fields/Microsoft.VSTS.Common.Priority", 1),
        op("/fields/Microsoft.VSTS.Common.Severity", "1 - Critical"),
        op("/fields/System.Tags", f"secops; secops:BENCH-{i}"),
    ]
    item = wit.create_work_item(document=doc, project=PROJECT, type="Bug")
    assert item.id
    created += 1
elapsed = time.monotonic() - start
print(f"created {created}")
print(f"{elapsed:.3f}")

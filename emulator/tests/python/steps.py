"""What the client scripts share: the command line (ORG_URL PAT PROJECT),
Microsoft's client connected with the PAT, one line per step ("PASS name"
or "FAIL name: why", going on after a failure) and the closing verdict."""

import sys
import traceback

from azure.devops.connection import Connection
from azure.devops.v7_1.work_item_tracking.models import JsonPatchOperation
from msrest.authentication import BasicAuthentication

ORG_URL, PAT, PROJECT = sys.argv[1], sys.argv[2], sys.argv[3]
connection = Connection(base_url=ORG_URL, creds=BasicAuthentication("", PAT))
failures = []


def step(name):
    def run(fn):
        try:
            fn()
            print(f"PASS {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            failures.append(name)
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            print(f"FAIL {name}: {detail}", flush=True)
        return fn
    return run


def op(operation, path, value=None):
    return JsonPatchOperation(op=operation, path=path, value=value)


def finish():
    if failures:
        print(f"{len(failures)} step(s) failed: {', '.join(failures)}", flush=True)
        sys.exit(1)
    print("all steps passed", flush=True)

"""Microsoft's own Python client (azure-devops 7.1.0b4, unchanged) against
the ADO emulator: it discovers routes through the location service
(OPTIONS {org}/_apis, _apis/ResourceAreas) and then calls the work item
APIs the connector uses.

Usage: client_smoke.py ORG_URL PAT PROJECT
Prints one line per step, "PASS <step>" or "FAIL <step>: <why>", and exits
non-zero when any step failed. Steps go on after a failure, so one run
shows everything that works.
"""

import io

from azure.devops.exceptions import AzureDevOpsServiceError
from azure.devops.v7_1.work_item_tracking.models import (
    CommentCreate,
    TeamContext,
    Wiql,
    WorkItemBatchGetRequest,
)
from steps import PROJECT, connection, finish, op, step

state = {}

core = connection.clients_v7_1.get_core_client()
wit = connection.clients_v7_1.get_work_item_tracking_client()


@step("list projects")
def _():
    projects = core.get_projects()
    names = [p.name for p in projects]
    assert PROJECT in names, names
    state["project_id"] = next(p.id for p in projects if p.name == PROJECT)


@step("work item types, their fields and states")
def _():
    types = wit.get_work_item_types(PROJECT)
    assert "Bug" in [t.name for t in types], [t.name for t in types]
    fields = wit.get_work_item_type_fields_with_references(PROJECT, "Bug", expand="allowedValues")
    refs = [f.reference_name for f in fields]
    assert "System.Title" in refs and "System.State" in refs, refs
    states = wit.get_work_item_type_states(PROJECT, "Bug")
    assert [s.name for s in states][:1] == ["New"], [s.name for s in states]


@step("create a work item")
def _():
    item = wit.create_work_item(
        [op("add", "/fields/System.Title", "Smoke test: SQL injection in login"), op("add", "/fields/System.Tags", "secops")],
        PROJECT,
        "Bug",
    )
    assert item.id and item.rev == 1, (item.id, item.rev)
    assert item.fields["System.State"] == "New", item.fields.get("System.State")
    state["id"], state["rev"] = item.id, item.rev


@step("update with test /rev, and a stale rev is refused")
def _():
    item = wit.update_work_item([op("test", "/rev", state["rev"]), op("add", "/fields/System.State", "Active")], state["id"])
    assert item.rev == state["rev"] + 1 and item.fields["System.State"] == "Active", (item.rev, item.fields.get("System.State"))
    try:
        wit.update_work_item([op("test", "/rev", state["rev"]), op("add", "/fields/System.Title", "stale")], state["id"])
    except AzureDevOpsServiceError as e:
        assert "TF26071" in str(e), str(e)
    else:
        raise AssertionError("a stale test /rev was accepted")
    state["rev"] = item.rev


@step("get a work item")
def _():
    item = wit.get_work_item(state["id"], expand="All")
    assert item.rev == state["rev"], item.rev
    assert item.fields["System.Title"].startswith("Smoke test"), item.fields.get("System.Title")


@step("get_work_items_batch")
def _():
    items = wit.get_work_items_batch(WorkItemBatchGetRequest(ids=[state["id"]], fields=["System.Id", "System.State"]))
    assert [i.id for i in items] == [state["id"]], [i.id for i in items]
    assert items[0].fields["System.State"] == "Active", items[0].fields


@step("query_by_wiql")
def _():
    query = "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS 'secops' ORDER BY [System.Id]"
    result = wit.query_by_wiql(Wiql(query=query), team_context=TeamContext(project=PROJECT))
    ids = [w.id for w in result.work_items]
    assert state["id"] in ids, ids


@step("add_comment and get_comments")
def _():
    added = wit.add_comment(CommentCreate(text="Scanner re-ran: still vulnerable."), PROJECT, state["id"])
    assert added.id and added.text == "Scanner re-ran: still vulnerable.", (added.id, added.text)
    listed = wit.get_comments(PROJECT, state["id"])
    assert added.id in [c.id for c in listed.comments], [c.id for c in listed.comments]
    state["rev"] = wit.get_work_item(state["id"]).rev


@step("create_attachment and link it")
def _():
    ref = wit.create_attachment(io.BytesIO(b"finding,severity\nSQLi,critical\n"), project=PROJECT, file_name="findings.csv")
    assert ref.id and ref.url, (ref.id, ref.url)
    relation = {"rel": "AttachedFile", "url": ref.url, "attributes": {"comment": "Scanner output"}}
    item = wit.update_work_item([op("test", "/rev", state["rev"]), op("add", "/relations/-", relation)], state["id"], expand="Relations")
    # ADO stores the attachment URL without its ?fileName= query.
    linked = [r.url for r in (item.relations or []) if r.rel == "AttachedFile"]
    assert any(ref.id in url for url in linked), linked


finish()

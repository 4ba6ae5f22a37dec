"""Microsoft's own Python client (azure-devops 7.1.0b4, unchanged) against
the ADO emulator, beyond the calls the connector makes: asOf reads, area
and iteration paths (valid and invalid), classification nodes, tags add
and replace, revisions and updates, comments paging, the recycle bin.
Each step names the Microsoft source of the behaviour it expects.

Usage: client_acceptance.py ORG_URL PAT PROJECT
Prints "PASS <step>" or "FAIL <step>: <why>" per step and exits non-zero
when any step failed; steps go on after a failure.
"""

import datetime
import time

from azure.devops.exceptions import AzureDevOpsServiceError
from azure.devops.v7_1.work_item_tracking.models import (
    CommentCreate,
    WorkItemBatchGetRequest,
    WorkItemClassificationNode,
    WorkItemDeleteUpdate,
)
from steps import PROJECT, connection, finish, op, step

state = {}


def refused(code, call):
    try:
        call()
    except AzureDevOpsServiceError as e:
        assert code in str(e), str(e)
    else:
        raise AssertionError(f"expected {code}, the call was accepted")


wit = connection.clients_v7_1.get_work_item_tracking_client()


@step("classification nodes: create under the roots, read with $depth (spec Classification Nodes_*)")
def _():
    area = wit.create_or_update_classification_node(WorkItemClassificationNode(name="Website"), PROJECT, "Areas")
    assert area.name == "Website" and area.structure_type == "area", (area.name, area.structure_type)
    wit.create_or_update_classification_node(WorkItemClassificationNode(name="Login"), PROJECT, "Areas", path="Website")
    it = wit.create_or_update_classification_node(WorkItemClassificationNode(name="Sprint 1"), PROJECT, "Iterations")
    assert it.structure_type == "iteration", it.structure_type
    tree = wit.get_classification_node(PROJECT, "Areas", depth=2)
    assert tree.name == PROJECT and tree.has_children, (tree.name, tree.has_children)
    assert [c.name for c in tree.children] == ["Website"], [c.name for c in tree.children]
    assert [c.name for c in tree.children[0].children] == ["Login"]
    leaf = wit.get_classification_node(PROJECT, "Areas", path="Website/Login")
    assert leaf.name == "Login", leaf.name
    roots = wit.get_root_nodes(PROJECT, depth=1)
    assert sorted(r.structure_type for r in roots) == ["area", "iteration"], [r.structure_type for r in roots]
    state["area_id"] = area.id


@step("area and iteration paths written by path (Microsoft's PATCH examples)")
def _():
    item = wit.create_work_item(
        [
            op("add", "/fields/System.Title", "Acceptance: tree paths"),
            op("add", "/fields/System.AreaPath", PROJECT + "\\Website"),
            op("add", "/fields/System.IterationPath", PROJECT + "\\Sprint 1"),
        ],
        PROJECT,
        "Bug",
    )
    assert item.fields["System.AreaPath"] == PROJECT + "\\Website", item.fields["System.AreaPath"]
    assert item.fields["System.AreaId"] == state["area_id"], item.fields.get("System.AreaId")
    assert item.fields["System.IterationPath"] == PROJECT + "\\Sprint 1"


@step("a path that names no node is refused with TF401347")
def _():
    refused("TF401347", lambda: wit.create_work_item(
        [op("add", "/fields/System.Title", "x"), op("add", "/fields/System.AreaPath", PROJECT + "\\Nowhere")],
        PROJECT,
        "Bug",
    ))


@step("tags: add appends, replace sets (Microsoft's examples 'Add tags', 'Replace tags')")
def _():
    item = wit.create_work_item(
        [op("add", "/fields/System.Title", "Acceptance: tags"), op("add", "/fields/System.Tags", "Tag0")], PROJECT, "Bug"
    )
    item = wit.update_work_item([op("add", "/fields/System.Tags", "Tag1; Tag2")], item.id)
    assert item.fields["System.Tags"] == "Tag0; Tag1; Tag2", item.fields["System.Tags"]
    item = wit.update_work_item([op("replace", "/fields/System.Tags", "Tag2")], item.id)
    assert item.fields["System.Tags"] == "Tag2", item.fields["System.Tags"]


@step("revisions and updates list every change")
def _():
    item = wit.create_work_item([op("add", "/fields/System.Title", "first")], PROJECT, "Bug")
    time.sleep(0.05)
    state["between"] = datetime.datetime.now(datetime.timezone.utc)
    time.sleep(0.05)
    wit.update_work_item([op("add", "/fields/System.Title", "second")], item.id)
    state["history_id"] = item.id
    revisions = wit.get_revisions(item.id)
    assert [r.rev for r in revisions] == [1, 2], [r.rev for r in revisions]
    assert revisions[0].fields["System.Title"] == "first"
    updates = wit.get_updates(item.id)
    assert updates[1].fields["System.Title"].old_value == "first", updates[1].fields["System.Title"]
    assert updates[1].fields["System.Title"].new_value == "second"


@step("asOf on get, list and workitemsbatch (Microsoft's example 'GET workItems/{id}?asOf=')")
def _():
    at, id_ = state["between"], state["history_id"]
    one = wit.get_work_item(id_, as_of=at)
    assert one.rev == 1 and one.fields["System.Title"] == "first", (one.rev, one.fields["System.Title"])
    many = wit.get_work_items([id_], as_of=at)
    assert many[0].fields["System.Title"] == "first", many[0].fields
    batch = wit.get_work_items_batch(WorkItemBatchGetRequest(ids=[id_], as_of=at, fields=["System.Title"]))
    assert batch[0].fields["System.Title"] == "first", batch[0].fields
    assert wit.get_work_item(id_).fields["System.Title"] == "second"


@step("comments paging with $top and continuationToken (spec Comments_Get Comments)")
def _():
    id_ = state["history_id"]
    for n in range(3):
        wit.add_comment(CommentCreate(text=f"comment {n}"), PROJECT, id_)
    first = wit.get_comments(PROJECT, id_, top=2)
    assert len(first.comments) == 2 and first.continuation_token, (len(first.comments), first.continuation_token)
    rest = wit.get_comments(PROJECT, id_, top=2, continuation_token=first.continuation_token)
    texts = [c.text for c in first.comments + rest.comments]
    assert sorted(texts) == ["comment 0", "comment 1", "comment 2"], texts
    assert not rest.continuation_token, rest.continuation_token


@step("recycle bin: delete, read, restore, destroy (recycleBin samples)")
def _():
    item = wit.create_work_item([op("add", "/fields/System.Title", "Acceptance: recycle bin")], PROJECT, "Bug")
    deleted = wit.delete_work_item(item.id, PROJECT)
    assert deleted.id == item.id, deleted.id
    entry = wit.get_deleted_work_item(item.id, PROJECT)
    assert entry.id == item.id and entry.name == "Acceptance: recycle bin", (entry.id, entry.name)
    refused("TF401232", lambda: wit.get_work_item(item.id))
    wit.restore_work_item(WorkItemDeleteUpdate(is_deleted=False), item.id, PROJECT)
    assert wit.get_work_item(item.id).id == item.id
    wit.delete_work_item(item.id, PROJECT)
    wit.destroy_work_item(item.id, PROJECT)
    refused("", lambda: wit.get_deleted_work_item(item.id, PROJECT))


finish()

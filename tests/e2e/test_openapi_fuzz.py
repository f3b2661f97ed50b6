"""API-level fuzzing with schemathesis against the OpenAPI v3 documents the server publishes: every operation of
every group-version gets generated valid and invalid requests, and none may answer 5xx (or crash the server, which
conftest checks). It also holds the documents to describing collection paths and path parameters correctly:
schemathesis builds its requests from them."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

# Streaming parameters are left out: a generated watch=true would hold its request open until it timed out.
STREAMING = {"watch", "allowWatchBookmarks", "timeoutSeconds"}


def documents(server):
    index = json.loads(server.raw("/openapi/v3")[1])
    for key in sorted(index["paths"]):
        status, body = server.raw(f"/openapi/v3/{key}")
        assert status == 200, key
        yield key, json.loads(body)


def without_streaming(doc):
    for path in doc["paths"].values():
        for op in path.values():
            if isinstance(op, dict) and "parameters" in op:
                op["parameters"] = [p for p in op["parameters"] if p["name"] not in STREAMING]
    return doc


def test_documents_describe_collections_and_path_parameters(server):
    docs = dict(documents(server))
    core = docs["api/v1"]["paths"]
    pods = core["/api/v1/namespaces/{namespace}/pods"]
    assert {"get", "post", "delete"} <= set(pods)
    assert pods["get"]["x-kubernetes-action"] == "list"
    assert pods["parameters"][0] == {"name": "namespace", "in": "path", "required": True,
                                     "description": "object name and auth scope, such as for teams and projects",
                                     "schema": {"type": "string", "uniqueItems": True}}
    item = core["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert [p["name"] for p in item["parameters"] if p["in"] == "path"] == ["name", "namespace"]
    assert "/api/v1/pods" in core and "/api/v1/nodes/{name}/status" in core
    assert "/api/v1/namespaces/{namespace}/nodes" not in core
    ref = pods["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/io.k8s.api.core.v1.PodList"
    assert docs["api/v1"]["components"]["schemas"]["io.k8s.api.core.v1.PodList"]["properties"]["items"]["items"]["$ref"] \
        == "#/components/schemas/io.k8s.api.core.v1.Pod"
    # Every path parameter a path names is declared.
    for key, doc in docs.items():
        for path, ops in doc["paths"].items():
            declared = {p["name"] for p in ops.get("parameters", []) if p["in"] == "path"}
            named = {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert declared == named, (key, path)


def test_generated_requests_never_get_a_server_error(fresh_server):
    s = fresh_server
    work = tempfile.mkdtemp(prefix="tug-schemathesis-")
    runs = {}
    # Schemathesis spends its time generating (the server answers each request in milliseconds): the documents
    # run side by side.
    for key, doc in documents(s):
        spec = os.path.join(work, key.replace("/", "_") + ".json")
        with open(spec, "w") as f:
            json.dump(without_streaming(doc), f)
        runs[key] = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", spec, "--url", f"https://127.0.0.1:{s.port}", "-H", f"Authorization: Bearer {s.token()}",
             "--tls-verify", os.path.join(s.data_dir, "server/tls/ca.crt"), "--checks", "not_a_server_error",
             "--phases", "fuzzing", "--max-examples", "3", "--seed", "1", "--workers", "1", "--request-timeout", "20", "--no-color"],
            # Its cache goes to the working directory: the scratch one, not the checkout.
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    failures = []
    try:
        for key, run in runs.items():
            output, _ = run.communicate(timeout=600)
            if run.returncode != 0:
                failures.append(f"{key}:\n{output[-4000:]}")
    finally:
        for run in runs.values():
            if run.poll() is None:
                run.kill()
        shutil.rmtree(work, ignore_errors=True)
    assert not failures, "\n\n".join(failures) + "\nserver log:\n" + s.tail()
    assert s.raw("/readyz", auth=False)[0] == 200

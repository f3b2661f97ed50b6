"""API Priority and Fairness end to end: upstream's bootstrap objects, their maintenance, classification of real
clients into priority levels, and a flooding user rejected with 429 while another user of the same level is served."""
import asyncio
import json
import os
import subprocess
import tempfile
import ssl
import urllib.request

import aiohttp
import pytest

from conftest import wait_until

SUGGESTED_LEVELS = {"exempt", "catch-all", "system", "node-high", "leader-election", "workload-high", "workload-low", "global-default"}
SUGGESTED_SCHEMAS = {"exempt", "probes", "system-leader-election", "endpoint-controller", "workload-leader-election", "system-node-high",
                     "system-nodes", "kube-controller-manager", "kube-scheduler", "kube-system-service-accounts", "service-accounts",
                     "global-default", "catch-all"}


def items(server, resource):
    return json.loads(server.kubectl("get", resource, "-o", "json").stdout)["items"]


def uids(server, resource):
    return {o["metadata"]["name"]: o["metadata"]["uid"] for o in items(server, resource)}


def headers_of(server, path, token=None, context=None):
    req = urllib.request.Request(f"https://127.0.0.1:{server.port}{path}", headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, context=context or server.ssl_context(), timeout=10) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def node_context(server):
    """A TLS context presenting a node's client certificate (system:node:flow-node in system:nodes), signed with
    the cluster CA's key as the server would sign a node's request."""
    tls = os.path.join(server.data_dir, "server/tls")
    directory = tempfile.mkdtemp(prefix="node-cert-")
    key, csr, crt, ext = (os.path.join(directory, name) for name in ("node.key", "node.csr", "node.crt", "ext"))
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", csr, "-subj", "/O=system:nodes/CN=system:node:flow-node"], check=True, capture_output=True, timeout=30)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", f"{tls}/ca.crt", "-CAkey", f"{tls}/ca.key", "-CAcreateserial",
                    "-out", crt, "-days", "1", "-extfile", ext], check=True, capture_output=True, timeout=30)
    context = server.ssl_context()
    context.load_cert_chain(crt, key)
    return context


def test_bootstrap_objects_as_upstream(server):
    levels = {o["metadata"]["name"]: o for o in items(server, "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io")}
    assert set(levels) == SUGGESTED_LEVELS
    assert levels["exempt"]["spec"]["type"] == "Exempt"
    assert levels["catch-all"]["spec"]["limited"]["limitResponse"] == {"type": "Reject"}
    assert levels["workload-low"]["spec"]["limited"]["nominalConcurrencyShares"] == 100
    assert levels["node-high"]["spec"]["limited"]["limitResponse"]["queuing"] == {"queues": 64, "handSize": 6, "queueLengthLimit": 50}
    schemas = {o["metadata"]["name"]: o for o in items(server, "flowschemas")}
    assert set(schemas) == SUGGESTED_SCHEMAS
    assert schemas["system-node-high"]["spec"]["priorityLevelConfiguration"]["name"] == "node-high"
    assert all(o["metadata"]["annotations"]["apf.kubernetes.io/autoupdate-spec"] == "true" for o in schemas.values())
    wait_until(lambda: all(any(c["type"] == "Dangling" and c["status"] == "False" for c in o.get("status", {}).get("conditions", []))
                           for o in items(server, "flowschemas")), 10, "every FlowSchema reports Dangling=False")
    table = server.kubectl("get", "flowschemas").stdout.splitlines()
    assert table[0].split() == ["NAME", "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "AGE", "MISSINGPL"]
    assert any(line.split()[:4] == ["exempt", "exempt", "1", "*"] for line in table)


def test_requests_are_classified_and_say_so(server, namespace):
    levels, schemas = uids(server, "prioritylevelconfigurations"), uids(server, "flowschemas")
    # The administrator (system:masters) is exempt.
    status, headers = headers_of(server, "/api/v1/namespaces", server.token())
    assert status == 200
    assert headers["X-Kubernetes-PF-FlowSchema-UID"] == schemas["exempt"]
    assert headers["X-Kubernetes-PF-PriorityLevel-UID"] == levels["exempt"]
    # Node agents' lease and node traffic goes to node-high, ahead of bulk work (a node may get only its own lease,
    # which does not exist here).
    node = node_context(server)
    status, headers = headers_of(server, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/flow-node", context=node)
    assert status == 404
    assert headers["X-Kubernetes-PF-PriorityLevel-UID"] == levels["node-high"]
    status, headers = headers_of(server, "/api/v1/pods", context=node)
    assert headers["X-Kubernetes-PF-FlowSchema-UID"] == schemas["system-nodes"]
    # A service account is workload-low.
    server.kubectl("create", "serviceaccount", "reader", "-n", namespace)
    token = server.kubectl("create", "token", "reader", "-n", namespace).stdout.strip()
    server.kubectl("create", "rolebinding", "reader-view", "-n", namespace, "--clusterrole=view", f"--serviceaccount={namespace}:reader")
    status, headers = wait_until(lambda: (r := headers_of(server, f"/api/v1/namespaces/{namespace}/configmaps", token))[0] == 200 and r, 10,
                                 "the reader may list ConfigMaps")
    assert headers["X-Kubernetes-PF-FlowSchema-UID"] == schemas["service-accounts"]
    assert headers["X-Kubernetes-PF-PriorityLevel-UID"] == levels["workload-low"]


def test_bootstrap_objects_are_maintained(fresh_server):
    s = fresh_server
    wait_until(lambda: len(items(s, "flowschemas")) == len(SUGGESTED_SCHEMAS), 10, "bootstrap flow schemas")
    # Deleted: re-created.
    s.kubectl("delete", "flowschema", "service-accounts")
    wait_until(lambda: any(o["metadata"]["name"] == "service-accounts" for o in items(s, "flowschemas")), 10, "service-accounts re-created")
    # Edited while autoupdate-spec is "true": restored.
    s.kubectl("patch", "prioritylevelconfiguration", "workload-low", "--type=merge", "-p",
              '{"spec":{"limited":{"nominalConcurrencyShares":7}}}')
    wait_until(lambda: json.loads(s.kubectl("get", "prioritylevelconfiguration", "workload-low", "-o", "json").stdout)
               ["spec"]["limited"]["nominalConcurrencyShares"] == 100, 10, "workload-low restored")
    # Edited with autoupdate-spec "false": the user's spec stays.
    s.kubectl("annotate", "--overwrite", "prioritylevelconfiguration", "global-default", "apf.kubernetes.io/autoupdate-spec=false")
    s.kubectl("patch", "prioritylevelconfiguration", "global-default", "--type=merge", "-p",
              '{"spec":{"limited":{"nominalConcurrencyShares":33}}}')
    metric = 'apiserver_flowcontrol_nominal_limit_seats{priority_level="global-default"}'
    # 600 seats * 33 / (245 - 20 + 33) shares, rounded up: the new share is in force.
    wait_until(lambda: f"{metric} 77" in s.raw("/metrics")[1].decode(), 10, "global-default's nominal seats follow its new shares")
    assert json.loads(s.kubectl("get", "prioritylevelconfiguration", "global-default", "-o", "json").stdout)["spec"]["limited"]["nominalConcurrencyShares"] == 33
    # A schema pointing at a missing level is dangling (and ignored).
    s.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": {"name": "orphan"},
        "spec": {"priorityLevelConfiguration": {"name": "nowhere"}, "matchingPrecedence": 50,
                 "rules": [{"subjects": [{"kind": "Group", "group": {"name": "system:authenticated"}}],
                            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}}))
    wait_until(lambda: "True" in s.kubectl("get", "flowschema", "orphan", "--no-headers").stdout.split(), 10, "orphan shows MISSINGPL True")


def test_invalid_configuration_is_refused(server):
    bad = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration", "metadata": {"name": "bad-level"},
           "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 1, "lendablePercent": 101,
                                                   "limitResponse": {"type": "Queue", "queuing": {"queues": 4, "handSize": 8, "queueLengthLimit": 5}}}}}
    result = server.kubectl("create", "-f", "-", input=json.dumps(bad), check=False)
    assert result.returncode != 0
    assert "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive" in result.stderr
    assert "spec.limited.limitResponse.queuing.handSize: Invalid value: 8: should not be greater than queues (4)" in result.stderr
    bad_schema = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": {"name": "bad-schema"},
                  "spec": {"priorityLevelConfiguration": {"name": "exempt"}, "matchingPrecedence": 20000, "rules": []}}
    result = server.kubectl("create", "-f", "-", input=json.dumps(bad_schema), check=False)
    assert "spec.matchingPrecedence: Invalid value: 20000: must be between 1 and 10000, inclusive" in result.stderr


async def flood(server, flooder, victim, path, victim_path, flooders=200, rounds=10, victim_requests=40):
    ctx = server.ssl_context()
    outcome = {"flooder": {}, "victim": {}, "rejection": None}

    async def call(session, token, who):
        async with session.get(f"https://127.0.0.1:{server.port}{victim_path if who == 'victim' else path}", headers={"Authorization": f"Bearer {token}"}, ssl=ctx) as resp:
            body = await resp.read()
            outcome[who][resp.status] = outcome[who].get(resp.status, 0) + 1
            if resp.status == 429 and outcome["rejection"] is None:
                outcome["rejection"] = (dict(resp.headers), json.loads(body))
            return resp.status

    async def flooder_loop(session):
        for _ in range(rounds):
            await call(session, flooder, "flooder")

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session, aiohttp.ClientSession() as victim_session:
        tasks = [asyncio.create_task(flooder_loop(session)) for _ in range(flooders)]
        await asyncio.sleep(0)
        for _ in range(victim_requests):
            await call(victim_session, victim, "victim")
        await asyncio.gather(*tasks)
    return outcome


def test_a_flooding_user_gets_429_while_another_is_served(server, namespace):
    # A small priority level of its own (3 seats of 600, no borrowing), two service accounts as two flows of it.
    for manifest in [
        {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration", "metadata": {"name": f"{namespace}-tiny"},
         "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 1, "lendablePercent": 0, "borrowingLimitPercent": 0,
                                                 "limitResponse": {"type": "Queue", "queuing": {"queues": 64, "handSize": 2, "queueLengthLimit": 4}}}}},
        {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": {"name": f"{namespace}-flows"},
         "spec": {"priorityLevelConfiguration": {"name": f"{namespace}-tiny"}, "matchingPrecedence": 300, "distinguisherMethod": {"type": "ByUser"},
                  "rules": [{"subjects": [{"kind": "ServiceAccount", "serviceAccount": {"namespace": namespace, "name": "*"}}],
                             "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": True}]}]}},
    ]:
        server.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    for name in ("flooder", "victim"):
        server.kubectl("create", "serviceaccount", name, "-n", namespace)
    server.kubectl("create", "rolebinding", "accounts-view", "-n", namespace, "--clusterrole=view", f"--group=system:serviceaccounts:{namespace}")
    flooder = server.kubectl("create", "token", "flooder", "-n", namespace).stdout.strip()
    victim = server.kubectl("create", "token", "victim", "-n", namespace).stdout.strip()
    schema_uid = uids(server, "flowschemas")[f"{namespace}-flows"]
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    # 400 ConfigMaps make each LIST worth 4 seats (one per hundred objects), more than the level's 3: the flooder's
    # LISTs run one at a time, and its queues fill.
    body = lambda i: json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"k": "v" * 200}}).encode()
    for i in range(400):
        assert server.raw(path, method="POST", body=body(i), headers={"Content-Type": "application/json"})[0] == 201
    wait_until(lambda: (r := headers_of(server, f"{path}/c0", victim))[0] == 200 and r[1].get("X-Kubernetes-PF-FlowSchema-UID") == schema_uid,
               10, "the new flow schema and the RoleBinding are in force")

    outcome = asyncio.run(flood(server, flooder, victim, path, victim_path=f"{path}/c0"))
    assert outcome["victim"] == {200: 40}, outcome
    assert outcome["flooder"].get(429, 0) > 0, outcome
    assert outcome["flooder"].get(200, 0) > 0, outcome
    assert set(outcome["flooder"]) <= {200, 429}, outcome
    headers, status = outcome["rejection"]
    assert headers["Retry-After"] == "1"
    assert headers["X-Kubernetes-PF-FlowSchema-UID"] == schema_uid
    assert status["kind"] == "Status" and status["reason"] == "TooManyRequests" and status["code"] == 429
    assert status["details"]["retryAfterSeconds"] == 1
    metrics = server.raw("/metrics")[1].decode()
    label = f'flow_schema="{namespace}-flows",priority_level="{namespace}-tiny",reason="queue-full"'
    assert f"apiserver_flowcontrol_rejected_requests_total{{{label}}}" in metrics
    # The server is still fine for everyone else.
    assert server.raw("/readyz", auth=False)[0] == 200

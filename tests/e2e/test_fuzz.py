"""Thousands of mutated requests: every answer is a proper Status (no 5xx), and the server stays up."""
import base64
import copy
import http.client
import json
import os
import random
import threading
import urllib.parse

VALID = {
    "/api/v1/namespaces/default/pods": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
                                        "spec": {"containers": [{"name": "c", "image": "busybox", "ports": [{"containerPort": 80}],
                                                                 "env": [{"name": "X", "value": "1"}]}]}},
    "/apis/apps/v1/namespaces/default/deployments": {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
                 "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
    "/api/v1/namespaces/default/configmaps": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}},
    "/api/v1/namespaces/default/services": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                                            "spec": {"type": "NodePort", "selector": {"app": "d"}, "ports": [{"port": 80, "targetPort": 8080}]}},
    "/api/v1/namespaces/default/secrets": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}},
    "/apis/batch/v1/namespaces/default/cronjobs": {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj"},
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never",
                                                                                              "containers": [{"name": "c", "image": "busybox"}]}}}}}},
    "/api/v1/namespaces": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fz"}},
}

CONTENT_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/merge-patch+json",
                 "application/strategic-merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml", "text/plain", ""]
QUERIES = ["", "?fieldValidation=Strict", "?dryRun=All", "?dryRun=Maybe", "?limit=-1", "?limit=2&continue=garbage", "?labelSelector=a%20in%20(",
           "?fieldSelector=spec.bogus%3D1", "?resourceVersion=abc&watch=true", "?watch=true&timeoutSeconds=0.5",
           "?watch=true&resourceVersion=1&timeoutSeconds=1", "?fieldValidation=Bogus", "?gracePeriodSeconds=x", "?propagationPolicy=Sideways"]
WEIRD_VALUES = [None, True, -1, 2**40, 1.5, "", "x" * 300, [], {}, [[[]]], {"$patch": "delete"}, "\u0000\ud7ff", "Invalid_Name!", 99999]


def random_value(rng):
    return copy.deepcopy(rng.choice(WEIRD_VALUES))


def mutate_json(rng, obj, depth=0):
    if isinstance(obj, dict):
        obj = dict(obj)
        for key in list(obj):
            roll = rng.random()
            if roll < 0.08:
                del obj[key]
            elif roll < 0.16:
                obj[key] = random_value(rng)
            elif roll < 0.9:
                obj[key] = mutate_json(rng, obj[key], depth + 1)
        if rng.random() < 0.1:
            obj[rng.choice(["unknownField", "$retainKeys", "$setElementOrder/containers", "metadata", "spec"])] = random_value(rng)
        return obj
    if isinstance(obj, list):
        out = [mutate_json(rng, x, depth + 1) for x in obj]
        if rng.random() < 0.1:
            out.append(random_value(rng))
        return out
    return random_value(rng) if rng.random() < 0.2 else obj


def mutate_bytes(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        if not data:
            break
        i = rng.randrange(len(data))
        if op < 0.4:
            data[i] = rng.randrange(256)
        elif op < 0.6:
            del data[i:i + rng.randint(1, 20)]
        elif op < 0.8:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            data = data[:i]
    return bytes(data)


def protobuf_fixtures():
    path = os.path.join(os.path.dirname(__file__), "../../../shared/fixtures/kubectl-probe/protobuf-bodies.jsonl")
    with open(path) as f:
        return [(json.loads(l)["path"], base64.b64decode(json.loads(l)["body_b64"])) for l in f if l.strip()]


def make_request(rng, fixtures):
    collection = rng.choice(list(VALID))
    body_obj = mutate_json(rng, VALID[collection])
    name = body_obj.get("metadata", {}).get("name") if isinstance(body_obj, dict) and isinstance(body_obj.get("metadata"), dict) else "x"
    item = f"{collection}/{urllib.parse.quote(name if isinstance(name, str) and name else 'x', safe='')}"
    method, path = rng.choice([("POST", collection), ("POST", collection), ("PUT", item), ("PATCH", item), ("DELETE", item), ("GET", collection),
                               ("GET", item), ("POST", item), ("PATCH", collection), ("GET", collection + "/x/y/z/w")])
    content_type = rng.choice(CONTENT_TYPES)
    roll = rng.random()
    if roll < 0.15:
        fpath, fbody = rng.choice(fixtures)
        path, method, content_type = fpath, "POST", "application/vnd.kubernetes.protobuf"
        body = mutate_bytes(rng, fbody)
    elif roll < 0.3:
        body = mutate_bytes(rng, json.dumps(VALID[collection]).encode())
    elif roll < 0.35:
        body = b"[" * rng.randint(100, 5000)
    elif content_type == "application/json-patch+json":
        body = json.dumps([{"op": rng.choice(["add", "remove", "replace", "move", "copy", "test", "bogus"]),
                            "path": rng.choice(["/metadata/labels/a", "/spec/replicas", "", "/x/~2", "/spec/containers/-"]),
                            "value": random_value(rng), "from": "/metadata"}]).encode()
    else:
        try:
            body = json.dumps(body_obj).encode()
        except (TypeError, ValueError):
            body = b"{}"
    if method in ("GET", "DELETE") and rng.random() < 0.5:
        body = b""
    return method, path + rng.choice(QUERIES), content_type, body


def test_mutated_requests_get_statuses_not_crashes(server):
    fixtures = protobuf_fixtures()
    token = server.token()
    failures = []
    counts = {"total": 0}
    lock = threading.Lock()

    def worker(seed, n):
        rng = random.Random(seed)
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.ssl_context(), timeout=30)
        for _ in range(n):
            method, path, content_type, body = make_request(rng, fixtures)
            headers = {"Authorization": f"Bearer {token}"}
            if content_type:
                headers["Content-Type"] = content_type
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError) as e:
                with lock:
                    failures.append((method, path, content_type, body[:200], f"connection error: {e}"))
                conn.close()
                conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.ssl_context(), timeout=30)
                continue
            problem = None
            if resp.status >= 500:
                problem = f"{resp.status}: {data[:300]!r}"
            elif resp.status >= 400:
                try:
                    status = json.loads(data)
                    if status.get("kind") != "Status" or status.get("code") != resp.status or not status.get("reason"):
                        problem = f"non-Status error body: {data[:300]!r}"
                except ValueError:
                    problem = f"unparseable error body: {data[:300]!r}"
            with lock:
                counts["total"] += 1
                if problem:
                    failures.append((method, path, content_type, body[:200], problem))
        conn.close()

    # FUZZ_REQUESTS and FUZZ_SEED widen a local run; CI uses the fixed default.
    total = int(os.environ.get("FUZZ_REQUESTS", "3000"))
    base_seed = int(os.environ.get("FUZZ_SEED", "0"))
    threads = [threading.Thread(target=worker, args=(base_seed + seed, total // 4)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=1800)
    assert counts["total"] >= total * 0.95
    assert not failures, f"{len(failures)} bad answers, first: {failures[:3]}"
    assert server.proc.poll() is None, "server died"
    assert server.raw("/readyz", auth=False) == (200, b"ok")

"""RBAC, impersonation and the review APIs, as a new user meets them: real kubectl and the official Python client."""
import base64
import json
import os
import socket
import ssl
import subprocess
import threading

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from conftest import wait_until


def as_token(server, token, *args, check=False):
    """kubectl with only a bearer token (no admin credentials in the kubeconfig)."""
    return server.kubectl("--kubeconfig", "/dev/null", "--server", f"https://127.0.0.1:{server.port}",
                          "--certificate-authority", f"{server.data_dir}/server/tls/ca.crt", "--token", token, *args, check=check)


def token_for(server, namespace, name, *extra):
    server.kubectl("create", "serviceaccount", name, "-n", namespace)
    return server.kubectl("create", "token", name, "-n", namespace, *extra).stdout.strip()


def test_a_service_account_reads_secrets_only_once_a_role_binding_grants_it(server, namespace):
    token = token_for(server, namespace, "app")
    server.kubectl("create", "secret", "generic", "s1", "-n", namespace, "--from-literal=k=v")
    denied = as_token(server, token, "get", "secrets", "-n", namespace)
    assert denied.returncode != 0
    assert (f'Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:{namespace}:app" cannot list resource '
            f'"secrets" in API group "" in the namespace "{namespace}"') in denied.stderr
    server.kubectl("create", "role", "secret-reader", "-n", namespace, "--verb=get,list", "--resource=secrets")
    server.kubectl("create", "rolebinding", "app-reads", "-n", namespace, "--role=secret-reader", f"--serviceaccount={namespace}:app")
    listed = wait_until(lambda: (r := as_token(server, token, "get", "secrets", "-n", namespace, "-o", "name")).returncode == 0 and r, 10,
                        "the RoleBinding takes effect")
    assert listed.stdout.split() == ["secret/s1"]
    # Only in its namespace, only what the role names.
    assert as_token(server, token, "get", "secrets", "-n", "default").returncode != 0
    assert as_token(server, token, "delete", "secret", "s1", "-n", namespace).returncode != 0
    # Nodes, namespaces and other cluster-wide objects stay out of reach.
    assert "cannot list resource \"nodes\" in API group \"\" at the cluster scope" in as_token(server, token, "get", "nodes").stderr
    # Removing the binding removes the access.
    server.kubectl("delete", "rolebinding", "app-reads", "-n", namespace)
    wait_until(lambda: as_token(server, token, "get", "secrets", "-n", namespace).returncode != 0, 10, "access goes with the binding")


def test_escalation_is_refused(server, namespace):
    server.kubectl("create", "rolebinding", "jane-admin", "-n", namespace, "--clusterrole=admin", "--user=jane")
    wait_until(lambda: server.kubectl("auth", "can-i", "create", "roles", "-n", namespace, "--as=jane", check=False).stdout.strip() == "yes",
               10, "jane is admin of the namespace")
    # What jane holds she may grant.
    server.kubectl("create", "role", "pod-reader", "-n", namespace, "--verb=get", "--resource=pods", "--as=jane")
    server.kubectl("create", "rolebinding", "bob-view", "-n", namespace, "--clusterrole=view", "--user=bob", "--as=jane")
    # What she does not hold she may not.
    role = server.kubectl("create", "role", "nodes", "-n", namespace, "--verb=list", "--resource=nodes", "--as=jane", check=False)
    assert role.returncode != 0
    assert ('roles.rbac.authorization.k8s.io "nodes" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant '
            'RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}') in role.stderr
    binding = server.kubectl("create", "rolebinding", "root", "-n", namespace, "--clusterrole=cluster-admin", "--user=jane", "--as=jane", check=False)
    assert binding.returncode != 0 and "is attempting to grant RBAC permissions not currently held" in binding.stderr
    cluster = server.kubectl("create", "clusterrolebinding", f"{namespace}-root", "--clusterrole=cluster-admin", "--user=jane", "--as=jane", check=False)
    assert cluster.returncode != 0 and "cannot create resource \"clusterrolebindings\"" in cluster.stderr
    # `bind` on a role lets one grant it without holding it.
    server.kubectl("create", "role", "binder", "-n", namespace, "--verb=bind", "--resource=clusterroles", "--resource-name=cluster-admin")
    server.kubectl("create", "rolebinding", "jane-binds", "-n", namespace, "--role=binder", "--user=jane")
    wait_until(lambda: server.kubectl("create", "rolebinding", "root", "-n", namespace, "--clusterrole=cluster-admin", "--user=carl",
                                      "--as=jane", check=False).returncode == 0, 10, "the bind verb takes effect")


def test_can_i_whoami_and_impersonation(server, namespace):
    assert server.kubectl("auth", "can-i", "*", "*").stdout.strip() == "yes"
    assert server.kubectl("auth", "can-i", "get", "pods", "--as=jane", check=False).stdout.strip() == "no"
    server.kubectl("create", "rolebinding", "jane-view", "-n", namespace, "--clusterrole=view", "--user=jane")
    wait_until(lambda: server.kubectl("auth", "can-i", "list", "pods", "-n", namespace, "--as=jane", check=False).stdout.strip() == "yes",
               10, "jane may list pods in the namespace")
    assert server.kubectl("auth", "can-i", "list", "secrets", "-n", namespace, "--as=jane", check=False).stdout.strip() == "no"
    listing = server.kubectl("auth", "can-i", "--list", "-n", namespace, "--as=jane").stdout
    rows = [line.split() for line in listing.splitlines()]
    assert rows[0] == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in rows
    assert not any(row[0] == "secrets" for row in rows)
    who = server.kubectl("auth", "whoami", "--as=jane", "--as-group=devs", "-o", "json").stdout
    assert json.loads(who)["status"]["userInfo"] == {"username": "jane", "groups": ["devs", "system:authenticated"]}
    # Impersonation is itself authorized: a user may not become someone else without `impersonate`.
    token = token_for(server, namespace, "nosy")
    refused = as_token(server, token, "get", "pods", "--as=admin")
    assert 'users "admin" is forbidden: User "system:serviceaccount:' in refused.stderr
    assert 'cannot impersonate resource "users" in API group "" at the cluster scope' in refused.stderr
    server.kubectl("create", "clusterrole", f"{namespace}-imp", "--verb=impersonate", "--resource=users", "--resource-name=jane")
    server.kubectl("create", "clusterrolebinding", f"{namespace}-imp", f"--clusterrole={namespace}-imp", f"--serviceaccount={namespace}:nosy")
    allowed = wait_until(lambda: (r := as_token(server, token, "get", "pods", "-n", namespace, "--as=jane")).returncode == 0 and r, 10,
                         "nosy may impersonate jane")
    assert "No resources found" in allowed.stderr
    assert as_token(server, token, "get", "pods", "-n", namespace, "--as=jane", "--as-group=system:masters").returncode != 0


def test_anonymous_and_foreign_tokens_get_401(server, namespace):
    assert server.raw("/api/v1/namespaces", auth=False)[0] == 401
    assert server.raw("/version", auth=False)[0] == 200
    assert server.raw("/readyz", auth=False)[0] == 200
    other = token_for(server, namespace, "aud", "--audience=foo")
    assert server.raw("/api", headers={"Authorization": f"Bearer {other}"}, auth=False)[0] == 401
    mine = server.kubectl("create", "token", "aud", "-n", namespace).stdout.strip()
    assert server.raw("/api", headers={"Authorization": f"Bearer {mine}"}, auth=False)[0] == 200
    # A deleted service account's token is worthless.
    server.kubectl("delete", "serviceaccount", "aud", "-n", namespace)
    assert server.raw("/api", headers={"Authorization": f"Bearer {mine}"}, auth=False)[0] == 401


def test_review_apis_with_the_python_client(server, namespace):
    api = config.new_client_from_config(config_file=server.kubeconfig)
    authz, authn, rbac = client.AuthorizationV1Api(api), client.AuthenticationV1Api(api), client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role_binding(namespace, client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="devs-edit"), role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="edit"),
        subjects=[client.RbacV1Subject(kind="Group", name="devs", api_group="rbac.authorization.k8s.io")]))

    def sar(verb, resource, ns=namespace, groups=("devs",)):
        review = client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
            user="kim", groups=list(groups), resource_attributes=client.V1ResourceAttributes(namespace=ns, verb=verb, resource=resource)))
        return authz.create_subject_access_review(review).status
    status = wait_until(lambda: (s := sar("create", "configmaps")).allowed and s, 10, "the edit binding applies to group devs")
    assert status.reason == f'RBAC: allowed by RoleBinding "{namespace}/devs-edit" of ClusterRole "edit" to Group "devs"'
    assert not sar("create", "configmaps", ns="default").allowed
    assert not sar("create", "configmaps", groups=()).allowed
    local = authz.create_namespaced_local_subject_access_review(namespace, client.V1LocalSubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user="kim", groups=["devs"], resource_attributes=client.V1ResourceAttributes(
            namespace=namespace, verb="delete", resource="pods"))))
    assert local.status.allowed
    with pytest.raises(ApiException) as mismatch:
        authz.create_namespaced_local_subject_access_review(namespace, client.V1LocalSubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(user="kim", resource_attributes=client.V1ResourceAttributes(namespace="default", verb="get", resource="pods"))))
    assert mismatch.value.status == 400
    with pytest.raises(ApiException) as nobody:
        authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb="get", resource="pods"))))
    assert nobody.value.status == 422
    mine = authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
        non_resource_attributes=client.V1NonResourceAttributes(path="/metrics", verb="get"))))
    assert mine.status.allowed
    token = token_for(server, namespace, "reviewed")
    review = authn.create_token_review(client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token)))
    assert review.status.authenticated and review.status.user.username == f"system:serviceaccount:{namespace}:reviewed"
    assert set(review.status.user.groups) == {"system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"}
    bad = authn.create_token_review(client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token, audiences=["vault"])))
    assert not bad.status.authenticated


def test_bootstrap_roles_are_reconciled_and_aggregated(fresh_server):
    s = fresh_server
    names = set(s.kubectl("get", "clusterroles", "-o", "name").stdout.split())
    for role in ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user", "system:public-info-viewer",
                 "system:kube-scheduler", "system:kube-controller-manager", "system:node", "system:node-proxier",
                 "system:controller:replicaset-controller", "system:controller:generic-garbage-collector"]:
        assert f"clusterrole.rbac.authorization.k8s.io/{role}" in names, role
    table = s.kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "wide").stdout.splitlines()
    assert table[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert table[1].split()[:2] == ["cluster-admin", "ClusterRole/cluster-admin"] and "system:masters" in table[1]
    # A label joins a role into an aggregated one within moments.
    s.kubectl("create", "clusterrole", "node-viewer", "--verb=get", "--resource=nodes")
    s.kubectl("label", "clusterrole", "node-viewer", "rbac.authorization.k8s.io/aggregate-to-view=true")

    def aggregates_nodes(role):
        rules = json.loads(s.kubectl("get", "clusterrole", role, "-o", "json").stdout)["rules"]
        return any("nodes" in r.get("resources", []) for r in rules)
    wait_until(lambda: aggregates_nodes("view"), 10, "view aggregates the labelled role")
    wait_until(lambda: aggregates_nodes("edit") and aggregates_nodes("admin"), 10, "and so do edit and admin")
    # A deleted bootstrap role comes back at the next start; an edited one gets its rules back.
    s.kubectl("delete", "clusterrole", "system:basic-user")
    s.kubectl("patch", "clusterrole", "system:discovery", "--type=json", "-p", '[{"op":"replace","path":"/rules","value":[]}]')
    s.stop()
    s.start()
    assert s.kubectl("get", "clusterrole", "system:basic-user", check=False).returncode == 0
    assert "/version" in s.kubectl("get", "clusterrole", "system:discovery", "-o", "json").stdout


def test_client_certificates_name_the_user_and_groups(server, tmp_path):
    tls = f"{server.data_dir}/server/tls"
    kubeconfig = open(server.kubeconfig).read()
    assert "client-certificate-data:" in kubeconfig and "token:" not in kubeconfig
    assert oct(os.stat(f"{tls}/ca.key").st_mode & 0o777) == "0o600"

    def issue(name, subject, usage):
        key, csr, crt, ext = (str(tmp_path / f"{name}.{suffix}") for suffix in ("key", "csr", "crt", "ext"))
        with open(ext, "w") as f:
            f.write(f"extendedKeyUsage={usage}\n")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                        "-out", csr, "-subj", subject], check=True, capture_output=True, timeout=30)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", f"{tls}/ca.crt", "-CAkey", f"{tls}/ca.key", "-CAcreateserial",
                        "-out", crt, "-days", "1", "-extfile", ext], check=True, capture_output=True, timeout=30)
        return ["--kubeconfig", "/dev/null", "--server", f"https://127.0.0.1:{server.port}", "--certificate-authority", f"{tls}/ca.crt",
                "--client-certificate", crt, "--client-key", key]
    jane = issue("jane", "/O=devs/O=qa/CN=jane", "clientAuth")
    who = json.loads(server.kubectl(*jane, "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who == {"username": "jane", "groups": ["devs", "qa", "system:authenticated"]}
    assert server.kubectl(*jane, "get", "pods", check=False).returncode != 0
    # A certificate for serving, not for clients, authenticates nobody (TLS itself refuses it).
    server_only = issue("web", "/CN=mallory/O=system:masters", "serverAuth")
    refused = server.kubectl(*server_only, "get", "pods", check=False)
    assert refused.returncode != 0 and ("Unauthorized" in refused.stderr or "unsupported certificate" in refused.stderr), refused.stderr


def test_certificate_signing_requests_approved_with_kubectl(server, tmp_path):
    key, csr = str(tmp_path / "kim.key"), str(tmp_path / "kim.csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", csr, "-subj", "/O=ops/CN=kim"], check=True, capture_output=True, timeout=30)
    request = base64.b64encode(open(csr, "rb").read()).decode()
    manifest = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": "kim"},
                "spec": {"request": request, "signerName": "kubernetes.io/kube-apiserver-client", "expirationSeconds": 3600, "usages": ["client auth"]}}
    server.kubectl("create", "-f", "-", input=json.dumps(manifest))
    row = server.kubectl("get", "csr", "kim").stdout.splitlines()
    assert row[0].split() == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    assert row[1].split()[2:] == ["kubernetes.io/kube-apiserver-client", "admin", "60m", "Pending"]
    # Approving is itself authorized.
    refused = server.kubectl("certificate", "approve", "kim", "--as=bob", check=False)
    assert refused.returncode != 0
    server.kubectl("certificate", "approve", "kim")
    issued = wait_until(lambda: json.loads(server.kubectl("get", "csr", "kim", "-o", "json").stdout).get("status", {}).get("certificate"), 10,
                        "the signer issues the certificate")
    crt = str(tmp_path / "kim.crt")
    with open(crt, "wb") as f:
        f.write(base64.b64decode(issued))
    who = server.kubectl("--kubeconfig", "/dev/null", "--server", f"https://127.0.0.1:{server.port}", "--certificate-authority",
                         f"{server.data_dir}/server/tls/ca.crt", "--client-certificate", crt, "--client-key", key, "auth", "whoami", "-o", "json")
    assert json.loads(who.stdout)["status"]["userInfo"] == {"username": "kim", "groups": ["ops", "system:authenticated"]}
    assert "Approved,Issued" in server.kubectl("get", "csr", "kim").stdout
    # A node client request that is not a node's is marked Failed once approved.
    manifest["metadata"]["name"], manifest["spec"]["signerName"] = "fake-node", "kubernetes.io/kube-apiserver-client-kubelet"
    server.kubectl("create", "-f", "-", input=json.dumps(manifest))
    server.kubectl("certificate", "approve", "fake-node")
    wait_until(lambda: "Failed" in server.kubectl("get", "csr", "fake-node").stdout, 10, "the kubelet signer refuses a non-node subject")


def test_a_node_pointing_at_a_strangers_listener_gets_no_credential(server, namespace, tmp_path):
    # A listener of the test's own, with a certificate the cluster's CA never signed.
    key, crt = str(tmp_path / "evil.key"), str(tmp_path / "evil.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "1", "-subj", "/CN=evil", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    received = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.settimeout(5)
                    received.append(tls.recv(65536))
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
            except (OSError, ssl.SSLError):
                received.append(b"<handshake refused>")
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"{namespace}-evil"},
            "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}], "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}}
    server.kubectl("create", "-f", "-", input=json.dumps(node))
    server.kubectl("patch", "node", f"{namespace}-evil", "--subresource=status", "--type=merge", "-p", json.dumps({"status": node["status"]}))
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bait"},
           "spec": {"nodeName": f"{namespace}-evil", "containers": [{"name": "c", "image": "busybox"}]}}
    server.kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(pod))
    logs = server.kubectl("logs", "bait", "-n", namespace, check=False)
    listener.close()
    server.kubectl("delete", "node", f"{namespace}-evil")
    assert logs.returncode != 0
    # The API server refused the stranger's certificate before sending anything; nothing it sent carries a secret.
    assert received and all(b"Authorization" not in data and b"Bearer" not in data for data in received), received


def test_a_node_reads_only_its_own_pods_secrets_and_writes_only_itself(server, namespace, tmp_path):
    tls = f"{server.data_dir}/server/tls"

    def node_kubectl(name):
        key, csr, crt, ext = (str(tmp_path / f"{name}.{suffix}") for suffix in ("key", "csr", "crt", "ext"))
        with open(ext, "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                        "-out", csr, "-subj", f"/O=system:nodes/CN=system:node:{name}"], check=True, capture_output=True, timeout=30)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", f"{tls}/ca.crt", "-CAkey", f"{tls}/ca.key", "-CAcreateserial",
                        "-out", crt, "-days", "1", "-extfile", ext], check=True, capture_output=True, timeout=30)
        return lambda *args, input=None: server.kubectl("--kubeconfig", "/dev/null", "--server", f"https://127.0.0.1:{server.port}",
                                                        "--certificate-authority", f"{tls}/ca.crt", "--client-certificate", crt, "--client-key", key,
                                                        *args, input=input, check=False)
    mine, theirs = f"{namespace}-a", f"{namespace}-b"
    for secret in ("mine", "theirs"):
        server.kubectl("create", "secret", "generic", secret, "-n", namespace, "--from-literal=k=v")
    for pod, node_name, secret in (("p-mine", mine, "mine"), ("p-theirs", theirs, "theirs")):
        server.kubectl("create", "-n", namespace, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
            "spec": {"nodeName": node_name, "containers": [{"name": "c", "image": "busybox"}],
                     "volumes": [{"name": "s", "secret": {"secretName": secret}}]}}))
    as_node = node_kubectl(mine)
    assert as_node("get", "secret", "mine", "-n", namespace).returncode == 0
    refused = as_node("get", "secret", "theirs", "-n", namespace)
    assert refused.returncode != 0 and "no relationship found between node" in refused.stderr, refused.stderr
    assert as_node("get", "secrets", "-n", namespace).returncode != 0
    # Its own Node it may create; another's it may not (NodeRestriction).
    assert as_node("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": mine}})).returncode == 0
    other = as_node("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": theirs}}))
    assert f'node "{mine}" is not allowed to modify node "{theirs}"' in other.stderr
    # Pod status it writes as the agent does (PUT of the status subresource), only for its own pods.
    def put_status(pod):
        current = json.loads(server.kubectl("get", "pod", pod, "-n", namespace, "-o", "json").stdout)
        current["status"]["message"] = "hi"
        return as_node("replace", "--raw", f"/api/v1/namespaces/{namespace}/pods/{pod}/status", "-f", "-", input=json.dumps(current))
    assert f'node "{mine}" can only update pod status for pods with spec.nodeName set to itself' in put_status("p-theirs").stderr
    assert put_status("p-mine").returncode == 0
    # Deletes too: only its own pods (and no Node at all: RBAC gives nodes no delete on nodes).
    deleted = as_node("delete", "pod", "p-theirs", "-n", namespace, "--grace-period=0", "--wait=false")
    assert f'node "{mine}" can only delete pods with spec.nodeName set to itself' in deleted.stderr, deleted.stderr
    assert as_node("delete", "pod", "p-mine", "-n", namespace, "--grace-period=0", "--wait=false").returncode == 0
    server.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": theirs}}))
    refused = as_node("delete", "node", theirs, "--wait=false")
    assert refused.returncode != 0 and "Forbidden" in refused.stderr, refused.stderr
    server.kubectl("delete", "node", mine, theirs)


def test_bound_tokens_die_with_their_pod_and_oidc_discovery_is_public(server, namespace):
    server.kubectl("run", "holder", "-n", namespace, "--image=busybox")
    token = server.kubectl("create", "token", "default", "-n", namespace, "--bound-object-kind", "Pod", "--bound-object-name", "holder").stdout.strip()
    header = {"Authorization": f"Bearer {token}"}
    assert server.raw("/api", headers=header, auth=False)[0] == 200
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["kubernetes.io"]["pod"]["name"] == "holder" and claims["iss"] == "https://kubernetes.default.svc.cluster.local"
    server.kubectl("delete", "pod", "holder", "-n", namespace, "--wait=true")
    assert server.raw("/api", headers=header, auth=False)[0] == 401
    status, body = server.raw("/.well-known/openid-configuration", auth=False)
    assert status == 200 and json.loads(body)["jwks_uri"] == "https://kubernetes.default.svc.cluster.local/openid/v1/jwks"
    status, body = server.raw("/openid/v1/jwks", auth=False)
    key = json.loads(body)["keys"][0]
    assert status == 200 and key["kty"] == "EC" and key["alg"] == "ES256" and key["crv"] == "P-256"

"""exec, attach, cp and the Python client's stream() against real containers (WebSocket v5/v4.channel.k8s.io through
the API server to the node agent)."""
import json
import os
import subprocess
import tempfile

from kubernetes import client, config
from kubernetes.stream import stream

from conftest import wait_until
from podhelpers import apply, running_ready, wait_pod


def sleeper(node, ns, name="box"):
    node.kubectl("run", name, "-n", ns, "--image=busybox", "--", "sleep", "3600")
    wait_pod(node, ns, name, running_ready, 30, "Running")


def test_exec_output_exit_codes_and_stdin(node, pod_namespace):
    sleeper(node, pod_namespace)
    assert node.kubectl("exec", "box", "-n", pod_namespace, "--", "echo", "hi", "there").stdout == "hi there\n"
    failed = node.kubectl("exec", "box", "-n", pod_namespace, "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert failed.returncode == 3
    assert failed.stdout == "out\n" and "err\n" in failed.stderr
    assert "command terminated with exit code 3" in failed.stderr
    piped = node.kubectl("exec", "-i", "box", "-n", pod_namespace, "--", "sh", "-c", "cat; echo end", input="line one\nline two\n")
    assert piped.stdout == "line one\nline two\nend\n", "stdin reaches the command and its end (v5 close) ends cat"
    missing = node.kubectl("exec", "box", "-n", pod_namespace, "--", "no-such-command", check=False)
    assert missing.returncode != 0


def test_exec_with_a_terminal(node, pod_namespace):
    sleeper(node, pod_namespace)
    # `script` gives kubectl a terminal of its own, as a user's shell would; its size reaches the container.
    # `runc exec -t` sizes the container's terminal just after the process starts (its parent copies the size once
    # it holds the console), so the command awaits a non-zero size, with a deadline of 2 s, instead of reading it
    # once: a 0x0 terminal makes busybox's `stty size` fail with a stale errno ("No child processes").
    wait_size = "i=0; until s=$(stty size 2>/dev/null) && [ \"$s\" != \"0 0\" ]; do i=$((i+1)); [ $i -gt 100 ] && break; usleep 20000; done; echo $s"
    command = f"stty cols 91 rows 27; kubectl --kubeconfig {node.kubeconfig} --cache-dir {node.cache_dir} " \
              f"exec -it box -n {pod_namespace} -- sh -c '{wait_size}; tty; exit 4'"
    result = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert "/dev/pts/" in result.stdout
    assert "27 91" in result.stdout
    assert result.returncode == 4


def test_cp_both_ways(node, pod_namespace):
    sleeper(node, pod_namespace)
    source = tempfile.NamedTemporaryFile(delete=False)
    source.write(os.urandom(300_000))
    source.close()
    node.kubectl("cp", source.name, f"{pod_namespace}/box:/tmp/data.bin")
    back = source.name + ".back"
    node.kubectl("cp", f"{pod_namespace}/box:/tmp/data.bin", back)
    assert open(back, "rb").read() == open(source.name, "rb").read()
    os.unlink(source.name)
    os.unlink(back)


def test_attach_and_run_interactive(node, pod_namespace):
    apply(node, pod_namespace, """
        apiVersion: v1
        kind: Pod
        metadata: {name: ticker}
        spec:
          containers: [{name: c, image: busybox, command: [sh, -c, "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]}]
        """)
    wait_pod(node, pod_namespace, "ticker", running_ready, 30, "Running")
    attached = subprocess.run(["timeout", "2", "kubectl", "--kubeconfig", node.kubeconfig, "--cache-dir", node.cache_dir,
                               "attach", "ticker", "-n", pod_namespace], capture_output=True, text=True, timeout=30)
    assert attached.stdout.count("tick ") >= 3, f"attach streams the container's output: {attached.stdout!r} {attached.stderr!r}"
    piped = node.kubectl("run", "-i", "--rm", "echoer", "-n", pod_namespace, "--image=busybox", "--restart=Never", "--",
                         "sh", "-c", "read line; echo got $line", input="hello\n", timeout=60)
    assert "got hello" in piped.stdout, "kubectl run -i feeds the container's own stdin"


def test_python_client_exec_stream(node, pod_namespace):
    sleeper(node, pod_namespace)
    api = client.CoreV1Api(config.new_client_from_config(config_file=node.kubeconfig))
    out = stream(api.connect_get_namespaced_pod_exec, "box", pod_namespace, command=["sh", "-c", "echo from-python; echo e >&2"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert "from-python" in out
    resp = stream(api.connect_get_namespaced_pod_exec, "box", pod_namespace, command=["sh", "-c", "exit 5"],
                  stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=20)
    assert resp.returncode == 5
    logs = api.read_namespaced_pod_log("box", pod_namespace)
    assert logs == ""


def test_logs_of_a_deployment(node, pod_namespace):
    # kubectl resolves deploy/x to one of the pods its controller made.
    node.kubectl("create", "deployment", "web", "-n", pod_namespace, "--image=busybox", "--", "sh", "-c", "echo from-web; sleep 3600")
    node.kubectl("rollout", "status", "deploy/web", "-n", pod_namespace, "--timeout=60s", timeout=70)
    logs = wait_until(lambda: (lambda out: out if "from-web" in out else None)(
        node.kubectl("logs", "deploy/web", "-n", pod_namespace, check=False).stdout), 10, "logs of deploy/web")
    assert logs == "from-web\n"


def test_exec_over_v4_channel_protocol(node, pod_namespace):
    import ssl
    import websocket

    sleeper(node, pod_namespace)
    url = (f"wss://127.0.0.1:{node.port}/api/v1/namespaces/{pod_namespace}/pods/box/exec"
           "?command=sh&command=-c&command=echo%20v4-out%3B%20exit%202&stdout=true&stderr=true")
    ws = websocket.create_connection(url, subprotocols=["v4.channel.k8s.io"], header=[f"Authorization: Bearer {node.token()}"],
                                     sslopt={"ca_certs": os.path.join(node.data_dir, "server/tls/ca.crt"), "cert_reqs": ssl.CERT_REQUIRED},
                                     timeout=20)
    assert ws.getsubprotocol() == "v4.channel.k8s.io"
    frames = []
    while True:
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketConnectionClosedException:
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
        frames.append((data[0], data[1:]))
    out = b"".join(d for c, d in frames if c == 1)
    status = [json.loads(d) for c, d in frames if c == 3]
    assert out == b"v4-out\n"
    assert status and status[0]["reason"] == "NonZeroExitCode" and status[0]["details"]["causes"][0]["message"] == "2"


def test_the_agent_endpoint_refuses_anonymous_and_unauthorized_callers(node, pod_namespace):
    import ssl
    import urllib.error
    import urllib.request
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE

    def call(path, token=None):
        request = urllib.request.Request(f"https://127.0.0.1:{node.agent_port}{path}", headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(request, context=insecure, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
    status, body = call(f"/containerLogs/{pod_namespace}/any/c")
    assert status == 401 and json.loads(body)["reason"] == "Unauthorized"
    assert call(f"/exec/{pod_namespace}/any/c?command=id")[0] == 401
    # A real service account's token authenticates but is not allowed nodes/proxy.
    node.kubectl("create", "serviceaccount", "peeker", "-n", pod_namespace)
    token = node.kubectl("create", "token", "peeker", "-n", pod_namespace).stdout.strip()
    status, body = call(f"/containerLogs/{pod_namespace}/any/c", token=token)
    assert status == 403 and f"user=system:serviceaccount:{pod_namespace}:peeker, verb=get, resource=nodes, subresource(s)=[proxy]" in json.loads(body)["message"]

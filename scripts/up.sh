#!/usr/bin/env bash
# Starts `tug server` in the background and waits until it is ready.
set -euo pipefail
bin=$1 data_dir=$2 port=$3
mkdir -p "$data_dir"
log="$data_dir/server.log"
pidfile="$data_dir/server.pid"
if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "tug server already running (pid $(cat "$pidfile"))"
else
  nohup "$bin" server --data-dir "$data_dir" --https-port "$port" >"$log" 2>&1 &
  echo $! >"$pidfile"
fi
kubeconfig="$data_dir/admin.kubeconfig"
for _ in $(seq 1 100); do
  if [[ -f $kubeconfig ]] && kubectl --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1; then
    cat <<MSG
tug server is ready on https://127.0.0.1:$port (log: $log)

  export KUBECONFIG=$kubeconfig
  kubectl get nodes -o wide
  kubectl run hello --image=busybox -- sh -c 'echo hello from \$(hostname); sleep 3600'
  kubectl logs -f hello
  kubectl exec -it hello -- sh
  kubectl create deployment web --image=busybox --replicas=2 -- httpd -f -p 80 -h /etc
  kubectl expose deployment web --port 8080 --target-port 80 --type LoadBalancer
  curl http://127.0.0.1:8080/hostname     # a LoadBalancer answers on the node; each replica names itself
  kubectl run -it --rm q --image=busybox --restart=Never -- nslookup kubernetes.default.svc.cluster.local

Ingress (class tug) listens on ports 80 and 443 of this machine.
Stop it with: make down     Remove its state with: $bin reset --data-dir $data_dir
MSG
    exit 0
  fi
  sleep 0.1
done
echo "tug server did not become ready; last log lines:" >&2
tail -20 "$log" >&2
exit 1

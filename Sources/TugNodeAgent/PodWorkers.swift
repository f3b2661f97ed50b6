import TugAPIMachinery

/// One worker per pod, so a pod's syncs never overlap while different pods sync in parallel. Updates arriving
/// during a sync mark the pod dirty and it syncs once more with the newest spec; a sync that asks to look again
/// later (a back-off) is re-queued after that delay.
actor PodWorkers {
    private var pods: JSONObject = [:]
    private var busy: Set<String> = []
    private var dirty: Set<String> = []
    private var timers: [String: Task<Void, Never>] = [:]
    /// Until the first full list arrives, a pod the workers do not know may simply not be listed yet: it must not
    /// be mistaken for a deleted one (that would tear down running containers after an agent restart).
    private var listed = false
    private let syncer: PodSyncer

    init(syncer: PodSyncer) {
        self.syncer = syncer
    }

    /// A pod bound to this node was added or changed.
    func update(_ pod: JSONValue) {
        guard let uid = pod["metadata"]["uid"].stringValue else { return }
        pods[uid] = pod
        kick(uid)
    }

    /// A pod left the API (or this node): its containers are torn down.
    func remove(uid: String) {
        guard pods.removeValue(forKey: uid) != nil else { return }
        kick(uid)
    }

    /// After a (re)list: these are all the pods bound here; any other known pod is gone.
    func replace(_ list: [JSONValue]) {
        listed = true
        let uids = Set(list.compactMap { $0["metadata"]["uid"].stringValue })
        for uid in pods.keys where !uids.contains(uid) { remove(uid: uid) }
        for pod in list { update(pod) }
    }

    func knownUIDs() -> Set<String> { Set(pods.keys) }

    func pod(uid: String) -> JSONValue? { pods[uid] }

    /// Asks for a sync of `uid` (runtime events, probe changes, orphans).
    func kick(_ uid: String) {
        guard listed || pods[uid] != nil else { return }
        timers.removeValue(forKey: uid)?.cancel()
        if busy.contains(uid) {
            dirty.insert(uid)
            return
        }
        busy.insert(uid)
        Task { await self.work(uid) }
    }

    private func work(_ uid: String) async {
        var requeue: Duration? = nil
        while true {
            dirty.remove(uid)
            if let pod = pods[uid] {
                requeue = await syncer.sync(pod)
            } else {
                await syncer.terminate(uid: uid, pod: nil, deleteFromAPI: false)
                requeue = nil
            }
            if !dirty.contains(uid) { break }
        }
        busy.remove(uid)
        if let requeue, pods[uid] != nil {
            timers[uid] = Task {
                try? await Task.sleep(for: requeue)
                guard !Task.isCancelled else { return }
                await self.kick(uid)
            }
        }
    }

    func shutdown() {
        for timer in timers.values { timer.cancel() }
        timers.removeAll()
    }
}

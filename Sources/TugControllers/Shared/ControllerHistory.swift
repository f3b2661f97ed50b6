public import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// A workload's template history as ControllerRevisions (what StatefulSets and DaemonSets keep and
/// `kubectl rollout history|undo` read): one revision per distinct template, named `<owner>-<hash>`, whose `data`
/// is the strategic merge patch that restores the template.
public struct ControllerHistory {
    let client: RESTClient
    let owner: JSONValue
    let resource: APIResource

    public init(client: RESTClient, owner: JSONValue, resource: APIResource) {
        self.client = client
        self.owner = owner
        self.resource = resource
    }

    public static func data(_ template: JSONValue) -> JSONValue {
        var replaced = DeploymentRollout.normalized(template)
        replaced["$patch"] = "replace"
        return ["spec": ["template": replaced]]
    }

    static func sameData(_ revision: JSONValue, _ data: JSONValue) -> Bool {
        DeploymentRollout.normalized(revision["data"]) == DeploymentRollout.normalized(data)
    }

    /// The revision for the owner's current template, created or renumbered to be the newest; returns it and the
    /// owner's revisions.
    public func ensure(_ revisions: [JSONValue], template: JSONValue) async throws -> (JSONValue, [JSONValue]) {
        let data = Self.data(template)
        let newest = revisions.map { $0["revision"].intValue ?? 0 }.max() ?? 0
        if let existing = revisions.first(where: { Self.sameData($0, data) }) {
            if (existing["revision"].intValue ?? 0) == newest { return (existing, revisions) }
            var renumbered = existing
            renumbered["revision"] = .int(newest + 1)
            let updated = try await client.update(APIResource.controllerRevisions.path(ObjectKey(existing)), renumbered)
            return (updated, revisions.map { $0.uid == updated.uid ? updated : $0 })
        }
        let collisions = owner["status"]["collisionCount"].intValue
        let hash = DeploymentRollout.templateHash(DeploymentRollout.normalized(template), collisionCount: collisions)
        var labels = (try? LabelSelector.from(owner["spec"]["selector"])).map { _ in owner["spec"]["selector"]["matchLabels"].stringMap } ?? [:]
        labels["controller-revision-hash"] = hash
        let revision: JSONValue = [
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": ["name": .string("\(owner.name)-\(hash)"), "namespace": .string(owner.namespace), "labels": JSONValue(stringMap: labels),
                         "ownerReferences": [ControllerRef.reference(to: owner, resource)]],
            "data": data, "revision": .int(newest + 1),
        ]
        do {
            let created = try await client.create(APIResource.controllerRevisions.collectionPath(namespace: owner.namespace), revision)
            return (created, revisions + [created])
        } catch let error as StatusError where error.reason == .alreadyExists {
            let existing = try await client.send(.GET, APIResource.controllerRevisions.path(ObjectKey(namespace: owner.namespace, name: "\(owner.name)-\(hash)")))
            if ControllerRef.isControlled(existing, by: owner), Self.sameData(existing, data) { return (existing, revisions + [existing]) }
            throw error
        }
    }

    /// Deletes the oldest revisions beyond `limit`, never one in `keep` (current, update, or used by a pod).
    public func prune(_ revisions: [JSONValue], keep: Set<String>, limit: Int) async throws {
        let candidates = revisions.filter { !keep.contains($0.name) }.sorted { ($0["revision"].intValue ?? 0) < ($1["revision"].intValue ?? 0) }
        guard candidates.count > limit else { return }
        for revision in candidates.prefix(candidates.count - limit) {
            try await client.delete(APIResource.controllerRevisions.path(ObjectKey(revision)), uid: revision.uid)
        }
    }
}

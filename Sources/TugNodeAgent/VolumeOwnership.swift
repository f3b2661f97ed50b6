import TugAPIMachinery

/// Who owns a pod's secret, configMap, downwardAPI and projected volumes on the host, as the kubelet decides it:
/// `fsUser`, the one non-root `runAsUser` every container shares, and the pod's `fsGroup`. The tmpfs under such a
/// volume is 0700 for its owner (0750 with the fsGroup); projected service-account tokens are 0600 for the owner,
/// 0640 when group-owned. Host users never reach any of it: pod directories are 0750 under a 0700 agent root.
struct VolumeOwnership: Equatable {
    var user: UInt32?
    var group: UInt32?
    /// Every container runs as root (said so explicitly): a 0700 root tmpfs serves them all.
    var allRoot = false

    init(user: UInt32? = nil, group: UInt32? = nil, allRoot: Bool = false) {
        self.user = user
        self.group = group
        self.allRoot = allRoot
    }

    init(pod: JSONValue) {
        let spec = pod["spec"]
        let podUser = spec["securityContext"]["runAsUser"].intValue
        let containers = ["initContainers", "containers"].flatMap { spec[$0].arrayValue ?? [] }
        let users = Set(containers.map { $0["securityContext"]["runAsUser"].intValue ?? podUser })
        group = spec["securityContext"]["fsGroup"].intValue.flatMap(UInt32.init(exactly:))
        if users.count == 1, let only = users.first, let uid = only {
            if uid == 0 { allRoot = true } else { user = UInt32(exactly: uid) }
        }
    }

    /// The tmpfs root's mode and owner. With nothing known of the containers' users (an image's USER), it stays
    /// traversable (0755) so any of them can read what the volume's own modes allow.
    var tmpfs: (mode: Int, uid: UInt32, gid: UInt32) {
        if let group { return (0o750, user ?? 0, group) }
        if let user { return (0o700, user, 0) }
        return (allRoot ? 0o700 : 0o755, 0, 0)
    }

    /// The owner files are given (nil: root, as written).
    var fileOwner: (uid: UInt32, gid: UInt32)? {
        user == nil && group == nil ? nil : (user ?? 0, group ?? 0)
    }

    /// A service-account token's mode: 0600 for its owner, 0640 when group-owned (the kubelet's fsUser/fsGroup rule).
    func tokenMode(requested: Int) -> Int {
        if group != nil { return 0o640 }
        if user != nil || allRoot { return 0o600 }
        return requested
    }

    /// Other files keep their mode; a group-owned volume is readable by the group (the kubelet's SetVolumeOwnership).
    func fileMode(requested: Int) -> Int {
        group != nil ? requested | 0o440 : requested
    }
}

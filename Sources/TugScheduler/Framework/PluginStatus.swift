/// What a plugin says about a pod on a node (kube-scheduler's framework.Status): fits, does not fit for reasons
/// that preemption might fix, or does not fit in a way that removing pods cannot change.
struct PluginStatus: Sendable, Equatable {
    enum Code: Sendable, Equatable { case success, unschedulable, unresolvable }

    var code: Code
    var reasons: [String]

    static let success = PluginStatus(code: .success, reasons: [])
    static func unschedulable(_ reasons: String...) -> PluginStatus { PluginStatus(code: .unschedulable, reasons: reasons) }
    static func unresolvable(_ reasons: String...) -> PluginStatus { PluginStatus(code: .unresolvable, reasons: reasons) }

    var isSuccess: Bool { code == .success }
}

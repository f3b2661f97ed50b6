public import TugAPIMachinery

/// Pod Security Standards levels, as the `pod-security.kubernetes.io/*` namespace labels name them.
public enum PodSecurityLevel: String, Sendable, Comparable, CaseIterable {
    case privileged, baseline, restricted

    public static func < (a: PodSecurityLevel, b: PodSecurityLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One mode's level and version (`restricted:latest`, `baseline:v1.30`).
public struct PodSecurityLevelVersion: Sendable, Equatable, CustomStringConvertible {
    public var level: PodSecurityLevel
    public var version: String

    public init(_ level: PodSecurityLevel, version: String = "latest") {
        self.level = level
        self.version = version
    }

    public var description: String { "\(level.rawValue):\(version)" }

    /// The version's 1.x minor number; latest (and anything unreadable, refused when labels are written) is newest.
    public var minor: Int {
        guard version != "latest", version.hasPrefix("v1."), let minor = Int(version.dropFirst(3)) else { return .max }
        return minor
    }
}

/// What a namespace asks of its pods in each mode: `enforce` refuses, `warn` tells the client, `audit` annotates
/// the audit event. Labels override the cluster defaults mode by mode.
public struct PodSecurityPolicy: Sendable, Equatable {
    public var enforce: PodSecurityLevelVersion
    public var audit: PodSecurityLevelVersion
    public var warn: PodSecurityLevelVersion

    public static let labelPrefix = "pod-security.kubernetes.io/"
    public static let modes = ["enforce", "audit", "warn"]

    public init(enforce: PodSecurityLevelVersion = .init(.privileged), audit: PodSecurityLevelVersion = .init(.privileged),
                warn: PodSecurityLevelVersion = .init(.privileged)) {
        self.enforce = enforce
        self.audit = audit
        self.warn = warn
    }

    /// The cluster's defaults as `enforce=privileged,warn=restricted` (optionally `enforce-version=v1.30`).
    public static func parseDefaults(_ text: String) throws(ParseError) -> PodSecurityPolicy {
        var labels: [String: String] = [:]
        for pair in text.split(separator: ",") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw ParseError("expected mode=level, got \"\(pair)\"") }
            labels[labelPrefix + kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces)
        }
        for key in labels.keys where !modes.flatMap({ [labelPrefix + $0, labelPrefix + $0 + "-version"] }).contains(key) {
            throw ParseError("unknown mode \"\(key.dropFirst(labelPrefix.count))\" (enforce, audit, warn and their -version)")
        }
        let (policy, errors) = PodSecurityPolicy().overridden(by: labels)
        if let first = errors.errors.first { throw ParseError(first.description) }
        return policy
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// This policy with a namespace's labels applied, and the labels' errors (field paths as upstream's).
    public func overridden(by labels: [String: String]) -> (PodSecurityPolicy, FieldErrorList) {
        var policy = self
        var errors = FieldErrorList()
        for mode in Self.modes {
            var current = policy[mode]
            let levelKey = Self.labelPrefix + mode, versionKey = levelKey + "-version"
            if let value = labels[levelKey] {
                if let level = PodSecurityLevel(rawValue: value) { current.level = level } else {
                    errors.invalid("metadata.labels[\(levelKey)]", .string(value), "must be one of privileged, baseline, restricted")
                }
            }
            if let value = labels[versionKey] {
                if Self.validVersion(value) { current.version = value } else {
                    errors.invalid("metadata.labels[\(versionKey)]", .string(value), "must be \"latest\" or \"v1.x\"")
                }
            }
            policy[mode] = current
        }
        return (policy, errors)
    }

    static func validVersion(_ value: String) -> Bool {
        if value == "latest" { return true }
        guard value.hasPrefix("v1."), let minor = Int(value.dropFirst(3)), minor >= 0 else { return false }
        return true
    }

    subscript(mode: String) -> PodSecurityLevelVersion {
        get { mode == "enforce" ? enforce : mode == "audit" ? audit : warn }
        set {
            switch mode {
            case "enforce": enforce = newValue
            case "audit": audit = newValue
            default: warn = newValue
            }
        }
    }
}

import Foundation
import TugAPIMachinery

/// A container's seccomp filter: `securityContext.seccompProfile` in runtime terms.
public enum SeccompProfile: Sendable, Hashable {
    /// No filter (`Unconfined`, and what the kubelet applies when nothing is asked for).
    case unconfined
    /// The runtime's default allow-list, adjusted to the container's capabilities.
    case runtimeDefault
    /// A `Localhost` profile: an OCI `LinuxSeccomp` document read from the node's seccomp directory.
    case localhost(name: String, document: JSONValue)

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads Localhost profile `name` (a relative path) under `directory`, as the kubelet reads
    /// `<root-dir>/seccomp/<localhostProfile>`: it must be a JSON object with a `defaultAction`.
    public static func localhost(_ name: String, under directory: String) throws -> SeccompProfile {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
            throw Invalid(description: "localhost seccomp profile \"\(name)\" must be a relative path without \"..\"")
        }
        let path = "\(directory)/\(name)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "failed to load seccomp profile \"\(name)\": \(path) cannot be read")
        }
        guard let document = try? JSONParser.parseValue([UInt8](data)), document.objectValue != nil,
              document["defaultAction"].stringValue?.hasPrefix("SCMP_ACT_") == true else {
            throw Invalid(description: "failed to load seccomp profile \"\(name)\": \(path) is not a seccomp profile (a JSON object with a defaultAction)")
        }
        return .localhost(name: name, document: document)
    }

    /// The `linux.seccomp` section for a container whose bounding set is `capabilities`; nil for no filter.
    func document(capabilities: [String]) -> JSONValue? {
        switch self {
        case .unconfined: return nil
        case .runtimeDefault: return RuntimeDefaultSeccomp.document(capabilities: capabilities)
        case .localhost(_, let document): return document
        }
    }
}

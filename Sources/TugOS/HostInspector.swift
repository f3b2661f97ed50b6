import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What host checks may look at: files, executables, the user, and commands. Real on the machine, scripted in tests.
public protocol HostInspector: Sendable {
    func read(_ path: String) -> String?
    func exists(_ path: String) -> Bool
    func isExecutable(_ path: String) -> Bool
    var isRoot: Bool { get }
    func run(_ command: Command) async -> CommandResult?
}

/// The machine itself.
public struct LocalHostInspector: HostInspector {
    let runner: any CommandRunner

    public init(runner: any CommandRunner = ProcessCommandRunner()) {
        self.runner = runner
    }

    public func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
    public func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    public func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }
    public var isRoot: Bool { geteuid() == 0 }
    public func run(_ command: Command) async -> CommandResult? { try? await runner.run(command) }
}

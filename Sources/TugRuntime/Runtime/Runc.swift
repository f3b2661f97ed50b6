import Foundation
import TugAPIMachinery
import TugOS

/// The runc command line, scoped to one state root (`--root`), so `list` shows only this node's containers.
/// Every call is bounded by a timeout and reads runc's JSON output.
public struct Runc: Sendable {
    public let binary: String
    public let root: String
    let runner: any CommandRunner

    public init(binary: String = "/usr/sbin/runc", root: String, runner: any CommandRunner) {
        self.binary = binary
        self.root = root
        self.runner = runner
    }

    public struct State: Sendable, Hashable {
        public var id: String
        public var pid: Int32
        /// created, running, paused or stopped.
        public var status: String
        public var bundle: String
    }

    func command(_ arguments: [String], timeout: Duration = .seconds(30)) -> Command {
        Command([binary, "--root", root] + arguments, timeout: timeout)
    }

    /// The state of a container, or nil when runc does not know it.
    public func state(_ id: String) async throws -> State? {
        let result = try await runner.run(command(["state", id]))
        guard result.status == 0 else { return nil }
        return Self.parseState(try JSONParser.parseValue(result.stdout))
    }

    public func list() async throws -> [State] {
        let result = try await runner.output(command(["list", "--format", "json"]))
        let document = try JSONParser.parseValue(result.stdout)
        return (document.arrayValue ?? []).compactMap(Self.parseState)
    }

    static func parseState(_ value: JSONValue) -> State? {
        guard let id = value["id"].stringValue, let status = value["status"].stringValue else { return nil }
        return State(id: id, pid: Int32(value["pid"].intValue ?? 0), status: status, bundle: value["bundle"].stringValue ?? "")
    }

    /// Sends a signal to the container's init process (the whole container with `all`).
    public func kill(_ id: String, signal: String, all: Bool = false) async throws {
        let result = try await runner.run(command(["kill"] + (all ? ["--all"] : []) + [id, signal]))
        // Killing a container that already stopped is not an error for us.
        guard result.status == 0 || result.stderrText.contains("not running") || result.stderrText.contains("does not exist") else {
            throw CommandError(argv: [binary, "kill", id, signal], kind: .nonZeroExit(result.status), stderrTail: result.stderrText)
        }
    }

    /// Removes the container's runc state and cgroup, killing it first if it still runs.
    public func delete(_ id: String) async throws {
        let result = try await runner.run(command(["delete", "--force", id]))
        guard result.status == 0 || result.stderrText.contains("does not exist") else {
            throw CommandError(argv: [binary, "delete", id], kind: .nonZeroExit(result.status), stderrTail: result.stderrText)
        }
    }

    /// runc's JSON log (`--log-format json`): the last error message, for a failed start.
    public static func lastError(inLog path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n").reversed() {
            guard let entry = try? JSONParser.parseValue(Array(line.utf8)) else { continue }
            if entry["level"].stringValue == "error", let message = entry["msg"].stringValue { return message }
        }
        return nil
    }
}

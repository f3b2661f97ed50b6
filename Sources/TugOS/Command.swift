/// One program to run: argv (never a shell string), an explicit environment, a deadline and an output bound.
public struct Command: Sendable, Hashable {
    public var argv: [String]
    public var environment: [String: String]
    public var timeout: Duration
    public var stdin: [UInt8]
    /// Bytes of stdout and of stderr kept; the rest is discarded (the process still runs to completion).
    public var maxOutputBytes: Int

    public init(_ argv: [String], environment: [String: String] = Command.defaultEnvironment, timeout: Duration = .seconds(30),
                stdin: [UInt8] = [], maxOutputBytes: Int = 4 * 1024 * 1024) {
        self.argv = argv
        self.environment = environment
        self.timeout = timeout
        self.stdin = stdin
        self.maxOutputBytes = maxOutputBytes
    }

    /// A minimal environment: a standard PATH and nothing inherited.
    public static let defaultEnvironment = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
}

public struct CommandResult: Sendable, Hashable {
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// A command that failed to start, exited non-zero, or ran past its timeout.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case launchFailed, nonZeroExit(Int32), timedOut }
    public var argv: [String]
    public var kind: Kind
    public var stderrTail: String

    public init(argv: [String], kind: Kind, stderrTail: String) {
        self.argv = argv
        self.kind = kind
        self.stderrTail = stderrTail
    }

    public var description: String {
        let command = argv.joined(separator: " ")
        switch kind {
        case .launchFailed: return "\(command): could not start: \(stderrTail)"
        case .nonZeroExit(let status): return "\(command): exit status \(status)" + (stderrTail.isEmpty ? "" : ": \(stderrTail)")
        case .timedOut: return "\(command): timed out" + (stderrTail.isEmpty ? "" : ": \(stderrTail)")
        }
    }
}

/// Runs commands. Every exec in Tugboat goes through this, so each has a timeout, a teardown and bounded output,
/// and tests can substitute a scripted runner.
public protocol CommandRunner: Sendable {
    /// The result of a command that exited (any status); throws `CommandError` on launch failure or timeout.
    func run(_ command: Command) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs and requires exit status 0.
    public func output(_ command: Command) async throws -> CommandResult {
        let result = try await run(command)
        guard result.status == 0 else {
            throw CommandError(argv: command.argv, kind: .nonZeroExit(result.status), stderrTail: String(result.stderrText.suffix(2000)))
        }
        return result
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Streams one container log file as `kubectl logs` shows it: the last `tailLines`, lines since a time, byte
/// limit; with `follow`, keeps reading as the monitor appends (re-opening after a rotation) until the container
/// stops and everything written has been sent.
struct LogStreamer {
    let path: String
    let options: CRILogOptions
    /// Whether the container still runs (following ends once it does not and the file is drained).
    let isRunning: @Sendable () async -> Bool

    init(path: String, options: CRILogOptions, isRunning: @escaping @Sendable () async -> Bool) {
        self.path = path
        self.options = options
        self.isRunning = isRunning
    }

    func stream(_ emit: ([UInt8]) async throws -> Void) async throws {
        var renderer = CRILogRenderer(options: options)
        var sent = 0
        let limit = options.limitBytes ?? Int.max
        func send(_ lines: [[UInt8]]) async throws -> Bool {
            for line in lines {
                guard sent < limit else { return false }
                let chunk = line.count > limit - sent ? Array(line.prefix(limit - sent)) : line
                try await emit(chunk)
                sent += chunk.count
            }
            return sent < limit
        }

        var file = FileHandle(forReadingAtPath: path)
        var identity = Self.identity(path)
        let initial = file.map { [UInt8]($0.readDataToEndOfFile()) } ?? []
        let parsed = CRILogRenderer.entries(in: initial[...])
        var carry = Array(initial[parsed.consumed...])
        var lines = renderer.lines(from: parsed.entries)
        if let tail = options.tailLines { lines = Array(lines.suffix(tail)) }
        guard try await send(lines), options.follow else { return }

        var lastCheck = ContinuousClock.now
        var running = true
        while !Task.isCancelled {
            var grew = false
            if let handle = file {
                let data = [UInt8](handle.availableData)
                if !data.isEmpty {
                    grew = true
                    carry += data
                    let batch = CRILogRenderer.entries(in: carry[...])
                    carry.removeFirst(batch.consumed)
                    guard try await send(renderer.lines(from: batch.entries)) else { return }
                }
            }
            if !grew {
                // A rotated log is a new file under the same name: switch to it once the old one is drained.
                let now = Self.identity(path)
                if now != identity {
                    try? file?.close()
                    file = FileHandle(forReadingAtPath: path)
                    identity = now
                    continue
                }
                if !running { return }
                if ContinuousClock.now - lastCheck > .milliseconds(500) {
                    running = await isRunning()
                    lastCheck = ContinuousClock.now
                    if !running { continue }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Device and inode of the file at `path` (nil when absent).
    static func identity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }
}

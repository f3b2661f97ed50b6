import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TugOS

/// The processes a benchmark started (its `tug server`, `tug agent`), stopped with it: SIGTERM or SIGINT to the
/// benchmark sends SIGTERM to each one still its child, waits for them (SIGKILL after 20 s), and exits with the
/// shell's status for the signal. Without this a benchmark stopped halfway left its server running, holding a
/// core and its port, with 150,000 pods in memory.
enum BenchChildren {
    private static let pids = Mutex<Set<Int32>>([])
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let armed = Mutex(false)
    private static let directories = Mutex<[String]>([])

    static func adopt(_ pid: Int32) {
        arm()
        pids.withLock { _ = $0.insert(pid) }
    }

    /// Removed after the children stopped: a data dir that holds no mounts (a server run with `--disable-agent`).
    static func removeOnSignal(_ directory: String) {
        directories.withLock { $0.append(directory) }
    }

    private static func arm() {
        guard armed.withLock({ armed in defer { armed = true }; return !armed }) else { return }
        for signal in [SIGTERM, SIGINT] {
            // A signal source sees the signal only once its default action (ending the process here) is off.
            Glibc.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { stopAll(then: signal) }
            source.resume()
            sources.append(source)
        }
    }

    private static func stopAll(then signal: Int32) {
        let children = pids.withLock { $0 }.filter(isChild)
        let line = Array("tug bench: \(signal == SIGINT ? "SIGINT" : "SIGTERM"); stopping \(children.count) benchmark process(es)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        for pid in children { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(20)
        var waiting = Set(children)
        while !waiting.isEmpty {
            for pid in waiting {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) != 0 { waiting.remove(pid) }
            }
            if ContinuousClock.now >= deadline {
                for pid in waiting { kill(pid, SIGKILL) }
                break
            }
            usleep(20_000)
        }
        for directory in directories.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: directory) }
        _exit(128 + signal)
    }

    /// Whether `pid` is still a process whose parent is this one (not a reused number).
    private static func isChild(_ pid: Int32) -> Bool {
        guard let stat = ProcFS.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 && Int32(fields[1]) == getpid()
    }
}

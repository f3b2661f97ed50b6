import Foundation
import Testing
import TugOS
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CommandRunnerTests {
    let runner = ProcessCommandRunner(killGrace: .milliseconds(200))

    @Test func capturesStatusOutputAndStdin() async throws {
        let result = try await runner.run(Command(["sh", "-c", "read line; echo out:$line; echo err >&2; exit 3"], stdin: Array("hello\n".utf8)))
        #expect(result.status == 3)
        #expect(result.stdoutText == "out:hello\n")
        #expect(result.stderrText == "err\n")
        await #expect(throws: CommandError.self) { _ = try await runner.output(Command(["false"])) }
    }

    @Test func environmentIsExplicit() async throws {
        let result = try await runner.run(Command(["sh", "-c", "echo ${HOME:-unset} $X"], environment: Command.defaultEnvironment.merging(["X": "1"]) { a, _ in a }))
        #expect(result.stdoutText == "unset 1\n")
    }

    @Test func outputIsBounded() async throws {
        let result = try await runner.run(Command(["sh", "-c", "head -c 100000 /dev/zero"], maxOutputBytes: 1000))
        #expect(result.status == 0)
        #expect(result.stdout.count == 1000)
    }

    @Test func timeoutTerminatesTheProcess() async throws {
        let started = ContinuousClock.now
        do {
            _ = try await runner.run(Command(["sh", "-c", "trap '' TERM; sleep 30"], timeout: .milliseconds(300)))
            Issue.record("expected a timeout")
        } catch let error as CommandError {
            #expect(error.kind == .timedOut)
        }
        // SIGTERM is ignored by the script, so SIGKILL after the grace period ended it — long before 30 s.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func aGrandchildHoldingThePipesDoesNotHoldTheResult() async throws {
        let started = ContinuousClock.now
        let result = try await runner.run(Command(["sh", "-c", "sleep 20 & echo $!; exit 4"], timeout: .seconds(15)))
        if let grandchild = Int32(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) { kill(grandchild, SIGKILL) }
        #expect(result.status == 4)
        #expect(Int32(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) != nil)
        // Output collection stops about a second after the exit, not when the grandchild ends.
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func missingExecutableIsALaunchFailure() async {
        do {
            _ = try await runner.run(Command(["definitely-not-a-command-tug"]))
            Issue.record("expected a launch failure")
        } catch let error as CommandError {
            #expect(error.kind == .launchFailed)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

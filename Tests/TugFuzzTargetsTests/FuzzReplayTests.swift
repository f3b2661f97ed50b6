import Foundation
import Testing
import TugFuzzTargets

/// Every kept fuzz input — the seeds and each input that once crashed or hung a target — replayed through its
/// target, so a fixed parser bug stays fixed without the fuzzer.
struct FuzzReplayTests {
    static let inputs: URL = Bundle.module.resourceURL!.appendingPathComponent("Inputs")

    @Test(arguments: FuzzTargets.all.keys.sorted())
    func keptInputsPass(_ target: String) throws {
        let run = try #require(FuzzTargets.all[target])
        let directory = Self.inputs.appendingPathComponent(target)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!files.isEmpty, "no kept inputs for \(target)")
        for file in files {
            run(Array(try Data(contentsOf: directory.appendingPathComponent(file))))
        }
    }
}

import TugFuzzTargets

#if canImport(Glibc)
import Glibc
#endif

/// The libFuzzer driver: `TUG_FUZZ_TARGET` names the parser (see `FuzzTargets.all`).
///
/// SwiftPM links an executable's entry point as `tug_fuzz_main`, so that is where libFuzzer is started, through
/// its `LLVMFuzzerRunDriver` (libFuzzer's own `main` is then not linked).
nonisolated(unsafe) var target: (@Sendable ([UInt8]) -> Void)?

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("tug_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    guard let name = getenv("TUG_FUZZ_TARGET").map({ String(cString: $0) }), let found = FuzzTargets.all[name] else {
        let names = FuzzTargets.all.keys.sorted().joined(separator: ", ")
        let message = Array("tug-fuzz: set TUG_FUZZ_TARGET to one of: \(names)\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        return 2
    }
    target = found
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments, testOneInput)
}

/// libFuzzer's own `main` is linked too and names this symbol; the run goes through `tug_fuzz_main` above.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    target?(bytes)
    return 0
}

// The libFuzzer entry point scripts/fuzz links against Moat's modules;
// MOAT_FUZZ_TARGET names the input (see UntrustedInput).
import Glibc
import OCI

nonisolated(unsafe) var target: UntrustedInput?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if target == nil {
        let name = getenv("MOAT_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let known = UntrustedInput(rawValue: name) else {
            fatalError("MOAT_FUZZ_TARGET must be one of \(UntrustedInput.allCases.map(\.rawValue))")
        }
        target = known
    }
    target!.consume(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

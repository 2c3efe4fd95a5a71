import CShims

/// The machine code of the sentry vDSO (CShims/vdso.S, never run by Moat
/// itself), and where this process's own vDSO is mapped.
public enum VDSOCode {
    /// The code's bytes.
    public static var bytes: [UInt8] {
        var length = 0
        let start = moat_vdso_code(&length)
        return Array(UnsafeBufferPointer(start: start, count: length))
    }

    /// Each exported function (as the kernel's vDSO names it, without
    /// `__vdso_`) and where it starts in `bytes`.
    public static var functions: [(name: String, offset: Int)] {
        let exports: [(String, moat_vdso_function)] = [
            ("clock_gettime", MOAT_VDSO_CLOCK_GETTIME), ("gettimeofday", MOAT_VDSO_GETTIMEOFDAY),
            ("time", MOAT_VDSO_TIME), ("clock_getres", MOAT_VDSO_CLOCK_GETRES), ("getcpu", MOAT_VDSO_GETCPU)
        ]
        return exports.map { ($0.0, moat_vdso_function_offset($0.1)) }
    }

    /// This process's own vDSO (its AT_SYSINFO_EHDR), or 0.
    public static var hostBase: UInt { UInt(moat_own_vdso()) }
}

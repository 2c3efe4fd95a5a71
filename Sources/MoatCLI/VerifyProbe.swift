/// The C source of `moat syscalls --verify`'s probe: built with gcc -static
/// when asked for, run inside a sandbox. Each line it prints is "ok NAME" or
/// "fail NAME what (errno)"; "#NR" names the refused numbers it was given.
enum VerifyProbe {
    /// Sources/MoatCLI/Probes/verify.c, embedded at build time (a real C file: compilers and the tests see it).
    static let source = String(decoding: PackageResources.verify_c, as: UTF8.self)
}

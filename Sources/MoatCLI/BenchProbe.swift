/// The C source of `moat bench`'s workload, built with gcc -static into the
/// bench's own bundle. Modes: `true` (exit at once), `first` (print the
/// REALTIME at its first instruction of main, in ns), `sleep S`, and
/// `cost DIR` (ns per call of each measured syscall; DIR holds the file
/// `data` to open and stat, named relative to it so that the path walked is
/// the same natively and in a sandbox).
enum BenchProbe {
    /// Sources/MoatCLI/Probes/bench.c, embedded at build time (a real C file: compilers and the tests see it).
    static let source = String(decoding: PackageResources.bench_c, as: UTF8.self)
}

// swift-tools-version: 6.0
import PackageDescription

// On x86-64 the kernels are compiled for x86-64-v3 (AVX2 and FMA: Intel since Haswell, AMD since Zen)
// instead of baseline SSE2: SIMD lanes 8 wide and fused multiply-adds (docs/benchmarks.md,
// "Against the machine"). A machine without them cannot run this build: `lens` says so and exits
// (Sources/lens/CPUCheck.swift), and `LATENTLENS_PORTABLE=1 make build` builds for any x86-64.
#if arch(x86_64)
let portable = Context.environment["LATENTLENS_PORTABLE"].map { !$0.isEmpty && $0 != "0" } ?? false
#else
let portable = true
#endif
let vectorISA: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
/// Tells `lens` which instruction set its kernels were built for, so it can check the CPU first.
let builtForV3: [SwiftSetting] = portable ? [] : [.define("LATENTLENS_X86_64_V3")]
// The hottest leaf kernels are also built for x86-64-v4 (AVX-512) in a module of their own, which
// the Transformer module calls only on a CPU that has it (Sources/KernelsAVX512/KernelsAVX512.swift).
let avx512ISA: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-Xcc", "-march=x86-64-v4"])]
let callsAVX512Kernels: [SwiftSetting] = portable ? [] : [.define("LATENTLENS_AVX512_KERNELS")]
// Whether the CPU the build targets has fused multiply-adds: x86-64-v3 has, baseline x86-64 has
// not (Swift then calls a library fmaf for every lane, and the kernels that use them are slower
// than the alternatives), arm64 has.
#if arch(x86_64)
let fusedMultiplyAdd: [SwiftSetting] = portable ? [] : [.define("LATENTLENS_FMA")]
#else
let fusedMultiplyAdd: [SwiftSetting] = [.define("LATENTLENS_FMA")]
#endif

// Hot numeric code is compiled without runtime exclusivity checks and, in release builds,
// without overflow/bounds traps: the kernels index through unsafe buffers they size themselves.
// It uses the Swift 5 language mode: raw pointers are not Sendable, and the parallel loops hand
// disjoint ranges of one buffer to each core by construction.
let uncheckedMath: [SwiftSetting] = [
    .swiftLanguageMode(.v5),
    .unsafeFlags(["-enforce-exclusivity=unchecked"]),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]
let fastMath = uncheckedMath + vectorISA

let package = Package(
    name: "LatentLens",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lens", targets: ["lens"]),
    ],
    targets: [
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Outputs"),
        .target(name: "GraphTask"),
        .target(name: "KernelsAVX512", swiftSettings: uncheckedMath + avx512ISA),
        .target(name: "Transformer", dependencies: ["CBLAS", "HDF5", "GraphTask", "Outputs", "KernelsAVX512"],
                swiftSettings: fastMath + callsAVX512Kernels + fusedMultiplyAdd),
        .target(name: "Training", dependencies: ["GraphTask", "Transformer", "HDF5"], swiftSettings: fastMath),
        .target(name: "Probes", dependencies: ["GraphTask"]),
        .target(name: "Recording", dependencies: ["HDF5", "Transformer", "GraphTask", "Probes", "Outputs"],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "Analysis", dependencies: ["Transformer", "GraphTask", "HDF5", "Recording"]),
        .target(name: "Reports", dependencies: ["Analysis", "Recording", "GraphTask", "Transformer"]),
        .target(name: "Timeline", dependencies: ["Analysis", "Recording", "Probes", "Training", "Transformer", "Reports", "GraphTask"]),
        .executableTarget(name: "lens", dependencies: ["HDF5", "GraphTask", "Transformer", "Training", "Probes", "Recording", "Reports", "Analysis", "Outputs", "Timeline"],
                          swiftSettings: [.swiftLanguageMode(.v5)] + builtForV3),
        .target(name: "LensTestSupport", path: "Tests/LensTestSupport"),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "LensTestSupport"]),
        .testTarget(name: "OutputsTests", dependencies: ["Outputs", "LensTestSupport"]),
        .testTarget(name: "TimelineTests", dependencies: ["Timeline", "Transformer"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GraphTaskTests", dependencies: ["GraphTask"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "HDF5", "GraphTask", "KernelsAVX512"],
                    resources: [.copy("Fixtures")], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Analysis"]),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "GraphTask"]),
        .testTarget(name: "RecordingTests", dependencies: ["Recording", "Probes", "Transformer", "HDF5", "GraphTask", "LensTestSupport"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "LensCLITests", dependencies: ["Training", "Transformer", "HDF5", "Recording", "LensTestSupport"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Transformer", "GraphTask", "Recording", "Probes", "Training", "LensTestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Transformer", "GraphTask", "HDF5", "LensTestSupport"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)

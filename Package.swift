// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "bpfsyscalldist",
  products: [
    .executable(name: "bpfsyscalldist", targets: ["bpfsyscalldist"]),
    .executable(name: "bpfsyscalldist-serve", targets: ["bpfsyscalldist-serve"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
  ],
  // Sources/ is grouped by layer (ARCHITECTURE.md): C (shims), Core (never imports the BPF
  // layer), BPF, Commands, Executables (the mains) and Tools (the test workload, the fuzzer).
  targets: [
    // C libraries, each through a one-line shim header.
    .systemLibrary(
      name: "CLibbpf", path: "Sources/C/CLibbpf", pkgConfig: "libbpf", providers: [.apt(["libbpf-dev", "libelf-dev"])]),
    .systemLibrary(name: "CYAML", path: "Sources/C/CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
    .systemLibrary(name: "CLibelf", path: "Sources/C/CLibelf", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
    // bpf/syscalldist.h, the one header the BPF program and Swift share.
    .systemLibrary(name: "CSyscallDist", path: "Sources/C/CSyscallDist"),
    // Linux calls Swift's Glibc module does not expose.
    .target(name: "CLinuxShims", path: "Sources/C/CLinuxShims"),

    // The generic BPF program, compiled by the toolchain's clang and embedded in the binary.
    .plugin(name: "EmbedBPFObject", capability: .buildTool()),
    .plugin(name: "EmbedProfiles", capability: .buildTool()),
    .target(name: "BPFProgram", path: "Sources/BPF/BPFProgram", plugins: ["EmbedBPFObject"]),

    // Core: never imports the BPF layer, tested without libbpf (Symbols reads /proc, no BPF).
    .target(name: "Histograms", dependencies: ["CSyscallDist"], path: "Sources/Core/Histograms"),
    // YAML files read with every problem's place: libyaml's nodes, typed access, diagnostics.
    .target(name: "YAMLReading", dependencies: ["CYAML"], path: "Sources/Core/YAMLReading"),
    .target(name: "Profiles", dependencies: ["YAMLReading", "Histograms"], path: "Sources/Core/Profiles", plugins: ["EmbedProfiles"]),
    // Names for stack addresses: /proc/kallsyms, and processes' ELF files through /proc.
    .target(name: "Symbols", dependencies: ["CLibelf"], path: "Sources/Core/Symbols"),
    // What was counted and how users read it: keys decoded, titles, snapshots.
    .target(name: "Snapshots", dependencies: ["CSyscallDist", "Histograms", "Profiles"], path: "Sources/Core/Snapshots"),
    .target(name: "Rendering", dependencies: ["Histograms", "Snapshots", "Symbols"], path: "Sources/Core/Rendering"),
    // Two recorded runs side by side: per-series verdicts that the buckets cannot fake, gates.
    .target(name: "Comparison", dependencies: ["Histograms", "Rendering"], path: "Sources/Core/Comparison"),

    // The kernel: a typed layer over libbpf, and the tracer that drives it from a profile.
    .target(
      name: "BPFKit",
      dependencies: ["CLibbpf", "CLinuxShims", .product(name: "SystemPackage", package: "swift-system")], path: "Sources/BPF/BPFKit"),
    .target(
      name: "Tracer",
      dependencies: [
        "BPFKit", "BPFProgram", "CLinuxShims", "CSyscallDist", "Histograms", "Profiles", "Snapshots", "Symbols",
      ], path: "Sources/BPF/Tracer"),

    // `serve`'s HTTP side: SwiftNIO's HTTP/1 server, answering with pages it is handed.
    .target(
      name: "MetricsServer",
      dependencies: [
        "Rendering", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
      ], path: "Sources/Commands/MetricsServer"),

    // What both commands share: failures and how they exit, output, signals, clocks, the
    // options both take, and profile lookup.
    .target(
      name: "CommandCore",
      dependencies: [
        "Tracer", "BPFKit", "Histograms", "Profiles", "YAMLReading",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ], path: "Sources/Commands/CommandCore"),
    .target(
      name: "BPFSyscallDistCommand",
      dependencies: [
        "CommandCore", "Tracer", "BPFKit", "Profiles", "Histograms", "Rendering", "Snapshots", "Symbols", "Comparison",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ], path: "Sources/Commands/BPFSyscallDistCommand"),
    .executableTarget(name: "bpfsyscalldist", dependencies: ["BPFSyscallDistCommand"], path: "Sources/Executables/bpfsyscalldist"),
    // `bpfsyscalldist serve`: a binary of its own, so that the trace mode does not carry SwiftNIO.
    .target(
      name: "ServeCommand",
      dependencies: [
        "CommandCore", "MetricsServer", "Tracer", "BPFKit", "Profiles", "YAMLReading", "Histograms", "Rendering", "Snapshots",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ], path: "Sources/Commands/ServeCommand"),
    .executableTarget(name: "bpfsyscalldist-serve", dependencies: ["ServeCommand"], path: "Sources/Executables/bpfsyscalldist-serve"),

    // A workload with exactly known syscall counts, for the kernel tests and the benchmark.
    // Frame pointers: the slow-call tests walk its user stacks.
    .executableTarget(
      name: "sd-workload", path: "Sources/Tools/sd-workload", cSettings: [.unsafeFlags(["-fno-omit-frame-pointer"])],
      linkerSettings: [.linkedLibrary("pthread")]),
    // The profile loader under libFuzzer (scripts/fuzz.sh); built normally it replays inputs.
    .executableTarget(name: "profile-fuzzer", dependencies: ["Profiles"], path: "Sources/Tools/profile-fuzzer"),

    .testTarget(name: "HistogramsTests", dependencies: ["Histograms"], exclude: ["Fixtures"]),
    .testTarget(
      name: "ProfilesTests", dependencies: ["Profiles", "Histograms", "YAMLReading"], exclude: ["Fixtures"]),
    .testTarget(name: "SnapshotsTests", dependencies: ["Snapshots", "Histograms", "Profiles", "CSyscallDist"]),
    .testTarget(name: "RenderingTests", dependencies: ["Rendering", "Snapshots", "Histograms", "Symbols"], exclude: ["Fixtures"]),
    .testTarget(name: "SymbolsTests", dependencies: ["Symbols"]),
    .testTarget(name: "ComparisonTests", dependencies: ["Comparison"]),
    .testTarget(name: "ServeCommandTests", dependencies: ["ServeCommand", "Profiles", "YAMLReading", "Histograms"]),
    // BPFKit's parts that need no root: the BTF reader on files written by the test.
    .testTarget(name: "BPFKitTests", dependencies: ["BPFKit"]),
    .testTarget(name: "TracerTests", dependencies: ["Tracer", "BPFKit", "BPFProgram", "CSyscallDist", "Profiles", "Histograms"]),
    .testTarget(
      name: "KernelTests",
      dependencies: [
        "Tracer", "BPFKit", "Profiles", "Histograms", "Snapshots", "ServeCommand", "sd-workload", "bpfsyscalldist",
        "bpfsyscalldist-serve",
      ]),
  ]
)

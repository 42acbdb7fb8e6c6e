import Foundation
import Transformer

/// Exits with one clear line, before any kernel runs, when this build needs CPU features the
/// machine lacks: the alternative is an illegal-instruction crash somewhere in a forward pass.
/// `LATENTLENS_CPUINFO` names another file to read instead of /proc/cpuinfo (for the tests).
func checkCPUFeatures() {
    #if LATENTLENS_X86_64_V3 && os(Linux)
    guard let (path, cpuinfo) = CPUFeatures.cpuinfo(),
          let missing = CPUFeatures.missing(CPUFeatures.x86_64_v3, cpuinfo: cpuinfo), !missing.isEmpty else { return }
    printError("error: this lens was built for x86-64-v3 CPUs and this CPU lacks \(missing.joined(separator: ", ")) "
               + "(\(path)); rebuild for any x86-64 with LATENTLENS_PORTABLE=1 make build")
    exit(2)
    #endif
}

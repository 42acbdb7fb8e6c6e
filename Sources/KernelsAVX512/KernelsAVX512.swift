// The Transformer module's hottest leaf kernels compiled a second time, for x86-64-v4 (AVX-512):
// the files beside this one are links to Sources/Transformer/Kernels/CausalProducts.swift and
// DropoutHash.swift, built here with -march=x86-64-v4 (Package.swift). The Transformer module
// calls these copies only on a CPU that has AVX-512 (Sources/Transformer/Kernels/KernelDispatch.swift)
// and its own x86-64-v3 copies everywhere else, so one binary runs on AVX2 and AVX-512 machines.
// Both copies do the same operations on each lane in the same order and compute the same bits
// (Tests/TransformerTests/KernelDispatchTests.swift).
